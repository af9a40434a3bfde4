"""The chat service over the real stores, router and run workers (no Telegram, no clock games).

A request's run moves pending → leased → running → waiting_approval through a
debate worker, which finds the stored package and posts it as a card answering
the incident's card; a re-delivered update makes no second run or package; a
question is answered with the incident's latest decision.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_services, load_buttons_key
from bot.render.decision import decision_key
from bot.render.incident import card_key
from bot.services import Services
from core.alerting.models import Actor, Alert, AlertStatus, Severity
from core.chat.service import Answered, Proposed, Refused, chat_trigger
from core.config import load_settings
from core.runs import RunState
from storage.db import create_engine
from storage.migrate import upgrade
from tests.integration.test_debate import ACTIONS

ONCALL = -1001234
BOB = Actor(id="tg:502", name="Bob")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    (tmp_path / "howl.toml").write_text(ACTIONS)
    settings = load_settings(
        _env_file=None,
        HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        HOWL_CONFIG=str(tmp_path / "howl.toml"),
        HOWL_ALERT_CHAT_ID=str(ONCALL),
    )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    yield build_services(
        settings, engine, mode="telegram", buttons_key=await load_buttons_key(engine)
    )
    await engine.dispose()


async def an_incident(services: Services) -> int:
    alert = Alert(
        fingerprint="f1", status=AlertStatus.FIRING, severity=Severity.CRITICAL,
        name="WorkerQueueStuck", labels={"alertname": "WorkerQueueStuck", "deployment": "api",
                                          "namespace": "prod"},
        starts_at=datetime.now(UTC), source="test",
    )  # fmt: skip
    result = await services.incidents.ingest([alert], actor=Actor.system())
    [incident_id] = result.incidents
    return incident_id


async def test_a_request_ends_waiting_for_approval_through_a_worker(services: Services) -> None:
    incident_id = await an_incident(services)
    reply = await services.chat.handle("restart the api in prod", asker=BOB, update_id=41)
    assert isinstance(reply, Proposed) and reply.incident_id == incident_id and not reply.opened
    again = await services.chat.handle("restart the api in prod", asker=BOB, update_id=41)
    assert isinstance(again, Proposed) and again.run_id == reply.run_id
    runs = await services.runs.for_incident(incident_id, limit=10)
    chat_runs = [r for r in runs if r.trigger == chat_trigger(41)]
    assert [r.state for r in chat_runs] == [RunState.PENDING]

    # asked-for runs go before the incident's own debate: this worker takes the chat's
    worked = await services.debates.workers[0].run_once()
    assert worked is not None and str(worked.id) == reply.run_id
    assert worked.state is RunState.WAITING_APPROVAL and worked.attempts == 1
    assert await services.turns.for_run(worked.id) == []  # no debate: the package was stored
    package = await services.decisions.for_run(worked.id)
    assert package is not None and package.waits_for_approval
    assert package.recommended_action is not None
    assert package.recommended_action.arguments == {"name": "api", "namespace": "prod"}

    due = await services.delivery.due(now=datetime.now(UTC) + timedelta(minutes=1), limit=50)
    [card] = [m for m in due if m.card_key == decision_key(worked.id)]
    assert card.chat_id == ONCALL and "Bob asked in chat" in card.text
    assert card.keyboard is not None
    assert card_key(incident_id)  # the card answers the incident's card (resolved at delivery)


async def test_a_named_incident_wins_and_questions_see_its_decision(services: Services) -> None:
    first = await an_incident(services)
    manual = await services.incidents.open_manual("checkout is slow", actor=BOB)
    reply = await services.chat.handle(f"#{manual.id} restart the api in prod", asker=BOB,
                                       update_id=7)  # fmt: skip
    assert isinstance(reply, Proposed) and reply.incident_id == manual.id != first
    answer = await services.chat.handle(f"what about #{manual.id}?", asker=BOB, update_id=8)
    assert isinstance(answer, Answered) and answer.open_incidents == 2
    assert answer.text.splitlines()[1].startswith(f"#{manual.id} warning firing — checkout is slow")
    assert "latest decision: Bob asked in chat" in answer.text
    # "it" is the named incident's object, read off its alerts' labels
    pointed = await services.chat.handle(f"#{first} restart it", asker=BOB, update_id=10)
    assert isinstance(pointed, Proposed) and pointed.incident_id == first
    assert pointed.call.arguments == {"name": "api", "namespace": "prod"}


async def test_nothing_fits_and_nothing_is_made(services: Services) -> None:
    incident_id = await an_incident(services)
    reply = await services.chat.handle("please delete the database", asker=BOB, update_id=9)
    assert isinstance(reply, Refused) and "no registered action does" in reply.reason
    assert [t.name for t in reply.tools] == ["restart_deployment"]
    runs = await services.runs.for_incident(incident_id, limit=10)
    assert not any(r.trigger.startswith("chat:") for r in runs)
    assert len(await services.incidents.recent(open_only=True, limit=10)) == 1


async def test_a_secret_typed_in_the_chat_is_stored_nowhere(services: Services) -> None:
    await an_incident(services)
    secret = "ghp_" + "a1" * 20
    reply = await services.chat.handle(
        f"restart the api in prod, token={secret}", asker=BOB, update_id=12
    )
    assert isinstance(reply, Proposed)
    package = await services.decisions.latest_for_incident(reply.incident_id)
    assert package is not None and secret not in package.model_dump_json()
    assert "token=[REDACTED]" in package.summary
