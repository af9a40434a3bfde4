"""Knowledge after a repair, over the process's real services and a migrated SQLite database.

The part of "alert -> approve -> success -> review card -> publish -> the next
alert shows the runbook" that comes after the execution: the hook the approval
flow calls (`services.knowledge.on_execution`) writes a draft runbook and
queues its review card; an approver's Publish press publishes it (a
non-approver's changes nothing); the next incident with the same symptoms, on
another pod, is debated by the embedded engine with the runbook in its
evidence, and its decision package proposes the runbook's action and names it.
A failed repair publishes an anti-pattern and its notice, and `GET
/api/knowledge` lists both.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from bot.handlers.knowledge import NOT_AN_APPROVER, knowledge_pressed
from bot.http.app import build_http_app
from bot.services import Services
from core.actions.executor import ActionResult, ActionStatus
from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Alert, AlertStatus, Severity
from core.config import PLAYGROUND_USER_ID
from core.debate.models import DecisionPackage
from core.knowledge.models import EntryStatus, ExecutionOutcome
from core.llm.types import ToolCall
from tests.integration.services import migrated_services

ACTIONS = """
[knowledge]
anti_pattern_days = 7

[[actions]]
name = "restart_deployment"
description = "Rolling restart of a deployment"
command = ["/bin/echo", "rollout", "restart", "deployment/{name}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
timeout_s = 10
"""
RESTART = ToolCall(tool="restart_deployment", arguments={"name": "ledger", "namespace": "prod"})
HTTP = Actor(id="http", name="webhook")
BOB = 502  # not an approver


def alert(pod: str) -> Alert:
    # an alert the embedded engine has no family for: on its own it proposes no change
    return Alert(
        fingerprint=f"fp-{pod}",
        status=AlertStatus.FIRING,
        severity=Severity.CRITICAL,
        name="LedgerReconcilerWedged",
        labels={
            "alertname": "LedgerReconcilerWedged",
            "namespace": "prod",
            "pod": pod,
        },
        annotations={"summary": "the ledger reconciler stopped making progress"},
        starts_at=datetime.now(UTC),
        source="test",
    )


def outbox(db: Path, card_key: str) -> tuple[str, list[list[dict[str, Any]]] | None] | None:
    """The newest queued content of a card: (text, inline keyboard)."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT text, keyboard FROM outbox WHERE card_key = ? ORDER BY id DESC LIMIT 1",
            (card_key,),
        ).fetchone()
    if row is None:
        return None
    keyboard = json.loads(row[1]) if row[1] else None
    return row[0], keyboard


async def package_of(services: Services, incident_id: int) -> DecisionPackage:
    """The incident's decision package, once its debate has ended."""
    for _ in range(400):
        package = await services.decisions.latest_for_incident(incident_id)
        if package is not None:
            return package
        await asyncio.sleep(0.05)
    raise AssertionError(f"no decision for #{incident_id}")


def press_update(user_id: int) -> Any:
    return SimpleNamespace(effective_user=SimpleNamespace(id=user_id))


def context_of(services: Services) -> Any:
    return SimpleNamespace(bot_data={"services": services})


def executed(
    services: Services, package: DecisionPackage, incident: Any, ok: bool
) -> ExecutionOutcome:
    now = services.clock.now()
    return ExecutionOutcome(
        incident=incident,
        package=package.model_copy(update={"recommended_action": RESTART}),
        result=ActionResult(
            action=RESTART.tool,
            status=ActionStatus.SUCCEEDED if ok else ActionStatus.FAILED,
            reason="" if ok else "exit code 1",
            argv=("/bin/echo", "rollout", "restart", "deployment/ledger", "-n", "prod"),
            exit_code=0 if ok else 1,
            duration_s=0.2,
            stdout="rollout restart deployment/ledger -n prod\n",
        ),
        approved_by=("You",),
        approved_at=now,
    )


async def test_success_review_card_publish_then_the_next_alert_shows_the_runbook(
    tmp_path: Path,
) -> None:
    config = tmp_path / "howl.toml"
    config.write_text(ACTIONS)
    db = tmp_path / "h.db"
    async with migrated_services(db, HOWL_CONFIG=str(config)) as services:
        await services.debates.start()
        try:
            first = await services.incidents.ingest([alert("ledger-7d9f8b6c4-x2x9k")], actor=HTTP)
            [one] = first.incidents
            baseline = await package_of(services, one)
            assert baseline.recommended_action != RESTART, "the engine alone would not restart"
            view = await services.incidents.find(one)
            assert view is not None

            # the hook the approval flow calls after the execution; it returns at once
            task = services.knowledge.on_execution(
                executed(services, baseline, view.incident, True)
            )
            entry = await task
            assert entry is not None and entry.status is EntryStatus.DRAFT
            # queued before the learning task ended
            card = outbox(db, f"knowledge:{entry.id}")
            assert card is not None
            text, keyboard = card
            assert text.startswith(f"📘 <b>Runbook draft #{entry.id}")
            assert keyboard is not None
            data = {b["text"]: b["callback_data"] for row in keyboard for b in row}
            assert list(data) == ["Publish", "Reject"]
            scope, fields = services.buttons.decode(data["Publish"])
            assert scope == "k"

            bob = Actor(id=f"tg:{BOB}", name="Bob")
            answer = await knowledge_pressed(press_update(BOB), context_of(services), fields, bob)
            assert answer == NOT_AN_APPROVER
            stored = await services.knowledge.get(entry.id)
            assert stored is not None and stored.status is EntryStatus.DRAFT

            you = Actor(id=f"tg:{PLAYGROUND_USER_ID}", name="You")
            answer = await knowledge_pressed(
                press_update(PLAYGROUND_USER_ID), context_of(services), fields, you
            )
            assert answer == f"Runbook #{entry.id} published."
            edited = outbox(db, f"knowledge:{entry.id}")
            assert edited is not None and edited[1] is None and "Published</b> by You" in edited[0]

            # the same problem again, on another pod of the same deployment
            await services.incidents.act(one, Command.RESOLVE, actor=HTTP)
            again = await services.incidents.ingest([alert("ledger-5c6b7d8e9-qq7rt")], actor=HTTP)
            [two] = again.incidents
            assert two != one
            package = await package_of(services, two)
            assert package.recommended_action == RESTART
            assert f"#{entry.id} " in package.summary and entry.title in package.summary
        finally:
            await services.debates.stop()
            await services.knowledge.drain()


async def test_failure_publishes_an_anti_pattern_notice_and_the_api_lists_knowledge(
    tmp_path: Path,
) -> None:
    config = tmp_path / "howl.toml"
    config.write_text(ACTIONS)
    db = tmp_path / "h.db"
    async with migrated_services(db, HOWL_CONFIG=str(config)) as services:
        first = await services.incidents.ingest([alert("ledger-7d9f8b6c4-x2x9k")], actor=HTTP)
        [one] = first.incidents
        view = await services.incidents.find(one)
        assert view is not None
        package = DecisionPackage.model_validate(
            {
                "run_id": "019b76da-a800-7000-8000-000000000042",
                "incident_id": one,
                "risk_level": "medium",
                "requires_human_approval": True,
                "confidence": 0.5,
                "diagnosis": "the reconciler is wedged",
                "summary": "restart it",
                "status": "completed",
                "approval": {"state": "approved", "by": ["You"]},
                "created_at": services.clock.now().isoformat(),
            }
        )
        anti = await services.knowledge.on_execution(
            executed(services, package, view.incident, False)
        )
        assert anti is not None and anti.status is EntryStatus.PUBLISHED
        notice = outbox(db, f"knowledge:{anti.id}")
        assert notice is not None
        assert notice[0].startswith(f"⛔ <b>Anti-pattern #{anti.id}") and notice[1] is None
        assert "restart_deployment" in notice[0] and "blocked until" in notice[0]

        transport = httpx.ASGITransport(app=build_http_app(services))
        async with httpx.AsyncClient(transport=transport, base_url="http://howl") as client:
            listed = (await client.get("/api/knowledge")).json()["knowledge"]
            assert [(e["id"], e["kind"], e["status"]) for e in listed] == [
                (anti.id, "anti_pattern", "published")
            ]
            until = services.clock.now() + timedelta(days=7)
            assert listed[0]["active_until"][:10] == until.isoformat()[:10]
            assert listed[0]["symptoms_hash"] == anti.symptoms_hash
            one_entry = await client.get(f"/api/knowledge/{anti.id}")
            assert one_entry.status_code == 200 and one_entry.json()["body"] == anti.body
            missing = await client.get("/api/knowledge/999")
            assert missing.status_code == 404 and missing.json() == {
                "detail": "No knowledge entry #999."
            }
            bad = await client.get("/api/knowledge?kind=recipe")
            assert bad.status_code == 400 and "kind" in bad.json()["detail"]
            schema = (await client.get("/openapi.json")).json()
            assert "/api/knowledge" in schema["paths"]
