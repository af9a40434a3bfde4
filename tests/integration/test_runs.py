"""Runs over the real HTTP app (with their debate's turns and decision), the reaper in the
real job queue, and /runs in the chat."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.handlers.runs import CATCH_UP_EVERY, REAP_EVERY, catch_up_debates, reap_runs
from bot.http.app import build_http_app
from bot.services import Services
from core.debate.models import Role, Vote
from core.ports import SystemClock
from core.runs import RunEvent, RunState
from storage.db import create_engine, session_factory
from storage.repositories import SqlRunStore
from storage.tables import IncidentRow, RunRow
from tests.debate_store_scenarios import package, turn
from tests.integration.conftest import ALICE, TelegramWorld
from tests.integration.howl_process import running_howl
from tests.integration.test_http_health import client
from tests.integration.test_incident_commands import ask
from tests.run_scenarios import add_incident


async def test_get_run_returns_the_run(services: Services) -> None:
    run = await services.runs.create(await add_incident(services.engine), "opened")
    leased = await services.runs.claim("worker-1", lease_for=timedelta(seconds=60))
    assert leased is not None and leased.id == run.id
    async with client(build_http_app(services)) as http:
        answer = await http.get(f"/api/runs/{run.id}")
        upper = await http.get(f"/api/runs/{str(run.id).upper()}")
    assert answer.status_code == 200
    assert answer.json() == {
        "id": str(run.id),
        "incident_id": run.incident_id,
        "trigger": "opened",
        "state": "leased",
        "attempts": 1,
        "reason": None,
        "lease": {"owner": "worker-1", "expires_at": leased.lease_expires_at.isoformat()},  # type: ignore[union-attr]
        "traceparent": run.traceparent,
        "created_at": run.created_at.isoformat(),
        "updated_at": leased.updated_at.isoformat(),
        "turns": [],
        "decision": None,
    }
    assert upper.json() == answer.json()


@pytest.mark.parametrize(
    ("run_id", "detail"),
    [
        ("019b76da-a800-7000-8000-000000000000", "No run '019b76da-a800-7000-8000-000000000000'."),
        ("not-a-run", "No run 'not-a-run'."),
        ("1", "No run '1'."),
        ("x" * 300, f"No run '{'x' * 40}'."),
    ],
)
async def test_an_unknown_or_malformed_id_is_404_with_one_line(
    services: Services, run_id: str, detail: str
) -> None:
    async with client(build_http_app(services)) as http:
        answer = await http.get(f"/api/runs/{run_id}")
    assert answer.status_code == 404
    assert answer.json() == {"detail": detail}


async def test_get_run_shows_its_turns_in_order_and_its_decision(services: Services) -> None:
    incident = await add_incident(services.engine)
    run = await services.runs.create(incident, "opened")
    taken = [
        turn(run.id, incident, Role.DIAGNOSTICIAN),
        turn(run.id, incident, Role.CRITIC, vote=Vote.REJECT, degraded=True, error="timeout"),
    ]
    for item in taken:
        await services.turns.append(item)
    async with client(build_http_app(services)) as http:
        before = (await http.get(f"/api/runs/{run.id}")).json()
        stored = await services.decisions.save(package(run.id, incident))
        after = (await http.get(f"/api/runs/{run.id}")).json()
    assert before["turns"] == [item.model_dump(mode="json") for item in taken]
    assert before["decision"] is None, "no package until the debate ends"
    assert [(t["role"], t["vote"], t["degraded"]) for t in after["turns"]] == [
        ("diagnostician", None, False),
        ("critic", "reject", True),
    ]
    assert after["turns"][1]["run_id"] == str(run.id)
    assert after["decision"] == stored.model_dump(mode="json")
    # the public fields (CONTRACT.md, "The decision package, as JSON")
    decision = after["decision"]
    assert set(decision) >= CONTRACT_FIELDS
    assert decision["recommended_action"] == {
        "tool": "restart_deployment",
        "arguments": {"name": "api", "namespace": "prod"},
    }
    assert (decision["risk_level"], decision["status"], decision["confidence"]) == (
        "low", "degraded", 0.72
    )  # fmt: skip
    assert decision["approval"] == {"state": "waiting", "by": [], "at": None, "reason": None}


#: the decision package's field names CONTRACT.md calls stable
CONTRACT_FIELDS = {
    "recommended_action", "risk_level", "requires_human_approval", "blocked_reason",
    "confidence", "diagnosis", "summary", "status", "approval",
}  # fmt: skip


async def test_openapi_describes_turns_and_decision(services: Services) -> None:
    async with client(build_http_app(services)) as http:
        schema = (await http.get("/openapi.json")).json()
    operation = schema["paths"]["/api/runs/{run_id}"]["get"]
    assert "`turns` lists the debate's agent turns" in operation["description"]
    assert "`null` until the debate ends" in operation["description"]
    assert "not built yet" not in operation["description"]
    assert "404" in operation["responses"]


async def test_the_reaper_is_scheduled_and_reaps(services: Services) -> None:
    application = build_application(services, token="1:x", base_url="http://127.0.0.1:9/bot")
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name("reap-runs")
    assert job.callback is reap_runs
    assert job.trigger.interval == REAP_EVERY  # type: ignore[attr-defined]
    incident = await add_incident(services.engine)
    run = await services.runs.create(incident, "opened")
    # a worker that claimed it and died: its lease has already run out
    leased = await services.runs.claim("dead", lease_for=timedelta(0))
    assert leased is not None
    await job.run(application)
    after = await services.runs.get(run.id)
    assert after is not None
    assert (after.state, after.reason) == (RunState.PENDING, "lease of dead expired; retrying")


async def test_the_debate_catch_up_is_scheduled_and_makes_the_runs_a_crash_left_unmade(
    services: Services,
) -> None:
    application = build_application(services, token="1:x", base_url="http://127.0.0.1:9/bot")
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name("debate-catch-up")
    assert job.callback is catch_up_debates
    assert job.trigger.interval == CATCH_UP_EVERY  # type: ignore[attr-defined]
    # an open incident committed by a process that died before making its run
    incident = await add_incident(services.engine)
    async with session_factory(services.engine).begin() as session:
        row = await session.get(IncidentRow, incident)
        assert row is not None
        row.created_at = SystemClock().now()  # opened just now, not on the scenario's day
    assert await services.runs.for_incident(incident, limit=5) == []
    await job.run(application)
    [made] = await services.runs.for_incident(incident, limit=5)
    assert (made.trigger, made.state) == ("opened", RunState.PENDING)
    await job.run(application)
    assert len(await services.runs.for_incident(incident, limit=5)) == 1, "made once"


async def test_runs_in_the_chat(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        assert await ask(telegram, ALICE, "/runs") == "No runs yet."
        engine = create_engine(howl.env["HOWL_DATABASE_URL"])
        try:
            runs = SqlRunStore(session_factory(engine), SystemClock())
            run = await runs.create(await add_incident(engine), "opened")
            await runs.advance(run, RunEvent.CANCEL, reason="incident resolved")
            async with session_factory(engine)() as session:
                assert await session.scalar(select(func.count()).select_from(RunRow)) == 1
        finally:
            await engine.dispose()
        listed = await ask(telegram, ALICE, "/runs")
        assert listed.splitlines() == [
            "Recent runs (newest first, up to 15)",
            f"🚫 {str(run.id)[:8]} #{run.incident_id} opened — cancelled (attempt 0): "
            "incident resolved",
        ]
        assert "/runs — Recent runs and their states" in await ask(telegram, ALICE, "/help")
        assert "coming soon" not in next(
            line for line in (await ask(telegram, ALICE, "/help")).splitlines() if "/runs" in line
        )
        assert UUID(str(run.id)).version == 7
