"""The debate through the real `howl run`: emulated Telegram, a fake OpenAI-compatible model.

An alert posted over HTTP becomes an incident card, five agent turns and one
decision card answering that card, with Approve / Reject when an action waits.
A model that hangs or answers garbage still ends in a package that asks for a
person, within the ceiling.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bot.keyboards import CallbackCodec, parse_approval
from bot.playground.botapi import StoredMessage
from tests.integration.conftest import ALICE, ONCALL, TelegramWorld, is_decision_card
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_incident_commands import ask
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import serve_asgi, wait_for


async def wait_for_async(
    probe: Callable[[], Awaitable[T | None]], *, timeout: float = 10.0, what: str = ""
) -> T:
    """Poll an async `probe` until it returns something; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while (found := await probe()) is None:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return found


T = TypeVar("T")

ACTIONS = """
[[actions]]
name = "restart_deployment"
description = "Rolling restart of a deployment"
command = ["/bin/echo", "rollout", "restart", "deployment/{name}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
timeout_s = 10
"""

ALERT = {
    "title": "WorkerQueueStuck",
    "severity": "critical",
    "labels": {"alertname": "WorkerQueueStuck", "deployment": "api", "namespace": "prod"},
    "annotations": {"summary": "api workers stopped taking jobs"},
    "source": "test",
}
CALL = {"tool": "restart_deployment", "arguments": {"name": "api", "namespace": "prod"}}

#: each role's answer, found by the role's name in the system prompt
ANSWERS: dict[str, dict[str, Any]] = {
    "Diagnostician": {
        "summary": "api workers hang on a stuck consumer",
        "hypotheses": [{"cause": "a consumer deadlocked", "confidence": 0.7, "evidence": ["q"]}],
    },
    "Solver": {"action": CALL, "rationale": "a restart frees the consumer", "risk_level": "low"},
    "Reviewer": {
        "verdict": "approve",
        "concerns": ["restart drops in-flight jobs"],
        "risk_level": "medium",
    },
    "Critic": {
        "objections": ["a bad release fits too"],
        "worst_case": "jobs lost",
        "risk_level": "medium",
    },
    "Coordinator": {
        "recommended_action": CALL,
        "risk_level": "medium",
        "requires_human_approval": True,
        "confidence": 0.7,
        "diagnosis": "a consumer deadlocked",
        "summary": "restart the api deployment after approval",
        "why_human": "a restart drops in-flight jobs",
    },
}


def by_role(body: dict[str, Any]) -> Behaviour | None:
    system = str(body["messages"][0]["content"])
    for role, answer in ANSWERS.items():
        if system.startswith(f"You are the {role}"):
            return Behaviour.json(answer)
    return None


@asynccontextmanager
async def a_model(fake: FakeOpenAI) -> AsyncIterator[str]:
    async with serve_asgi(fake.app()) as url:
        yield f"{url}/v1"


def settings_for(
    world: TelegramWorld, tmp_path: Path, model_url: str, **extra: str
) -> dict[str, str]:
    (tmp_path / "howl.toml").write_text(ACTIONS)
    return world.settings(
        HOWL_CONFIG=str(tmp_path / "howl.toml"),
        HOWL_LLM_BASE_URL=model_url,
        HOWL_LLM_MODEL="fake-model",
        **extra,
    )


def decision_cards(world: TelegramWorld) -> list[StoredMessage]:
    return [m for m in world.emulator.bot_messages(ONCALL) if is_decision_card(m)]


def incident_card(world: TelegramWorld) -> StoredMessage | None:
    return next(
        (
            m
            for m in world.emulator.bot_messages(ONCALL)
            if m.reply_to is None and not is_decision_card(m) and "#1 " in m.text
        ),
        None,
    )


def buttons_key(howl: HowlProcess) -> bytes:
    path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        (key,) = db.execute("SELECT secret FROM signing_keys WHERE name = 'buttons'").fetchone()
    return bytes(key)


async def post_alert(howl: HowlProcess) -> None:
    async with httpx.AsyncClient(base_url=howl.http) as http:
        answer = await http.post("/alerts", json=ALERT)
    assert answer.status_code == 200, answer.text


async def api(howl: HowlProcess, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=howl.http) as http:
        answer = await http.get(path)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def run_in(howl: HowlProcess, run_id: str, state: str) -> dict[str, Any]:
    """The run once it is in `state`: its package is stored just before its worker ends it."""

    async def reached() -> dict[str, Any] | None:
        run = await api(howl, f"/api/runs/{run_id}")
        return run if run["state"] == state else None

    return await wait_for_async(reached, timeout=10, what=f"run {run_id} to be {state}")


async def test_an_alert_ends_in_a_decision_card_with_buttons_answering_its_card(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    fake = FakeOpenAI(script=by_role)
    async with a_model(fake) as model_url:
        settings = settings_for(telegram, tmp_path, model_url)
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            [decision] = await wait_for(lambda: decision_cards(telegram), what="the decision card")
            card = incident_card(telegram)
            assert card is not None and decision.reply_to == card.message_id
            assert "a consumer deadlocked" in decision.text and "70%" in decision.text
            assert "restart_deployment" in decision.text and "prod" in decision.text
            rows = decision.reply_markup["inline_keyboard"]  # type: ignore[index]
            labels = [b["text"] for row in rows for b in row]
            assert any("Approve" in t for t in labels) and any("Reject" in t for t in labels)
            codec = CallbackCodec(buttons_key(howl))
            verdict, approval_id = parse_approval(codec, rows[0][0]["callback_data"])
            assert verdict == "approve"
            run_id = (await api(howl, "/api/incidents/1"))["decision"]["run_id"]
            assert str(approval_id) != run_id, "the buttons carry the approval's id, not the run's"

            run = await run_in(howl, str(run_id), "waiting_approval")
            assert run["incident_id"] == 1
            roles = [turn["role"] for turn in run["turns"]]
            assert roles[:2] == ["diagnostician", "solver"] and roles[-1] == "coordinator"
            assert sorted(roles[2:4]) == ["critic", "reviewer"]
            assert all(
                turn["provider"] == "default" and not turn["degraded"] for turn in run["turns"]
            )
            package = run["decision"]
            assert package["recommended_action"] == CALL
            assert package["status"] == "completed" and package["requires_human_approval"]
            assert package["approval"] == {"state": "waiting", "by": [], "at": None, "reason": None}
            assert package["execution"] is None
            assert "restart_deployment is destructive" in package["why_human"]
            assert (await api(howl, "/api/incidents/1"))["decision"] == package
            # the incident card says the decision is out, and nothing ran
            await wait_for(
                lambda: "decision posted" in (incident_card(telegram) or card).text,
                what="the progress line",
            )
            assert len(fake.requests) == 5
            # every provider call carries the run's trace (each call a span of its own)
            trace_id = run["traceparent"].split("-")[1]
            sent = [h["traceparent"].split("-") for h in fake.headers]
            assert {parts[1] for parts in sent} == {trace_id}
            assert len({parts[2] for parts in sent}) == 5
        assert len(decision_cards(telegram)) == 1


async def test_a_hanging_model_gives_a_package_that_asks_for_a_person_within_the_ceiling(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    fake = FakeOpenAI(default=Behaviour.slow(60.0))
    async with a_model(fake) as model_url:
        settings = settings_for(telegram, tmp_path, model_url, HOWL_DEBATE_TIMEOUT_S="2")
        async with running_howl(tmp_path, **settings) as howl:
            started = time.monotonic()
            await post_alert(howl)
            [decision] = await wait_for(
                lambda: decision_cards(telegram), timeout=20, what="the decision card"
            )
            waited = time.monotonic() - started
            package = (await api(howl, "/api/incidents/1"))["decision"]
            assert package["status"] == "timeout" and package["requires_human_approval"]
            assert "ceiling of 2 s while diagnosing" in package["why_human"]
            assert package["recommended_action"] is None
            assert "timed out" in decision.text.lower() or "ceiling" in decision.text
            assert decision.reply_markup is None, "nothing to approve"
            # the ceiling, not the model's 60 s, decided when the answer came
            assert waited < 20
            run = await run_in(howl, package["run_id"], "completed")
            assert run["turns"] == []


async def test_garbage_from_the_model_gives_a_degraded_package_that_asks_for_a_person(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    fake = FakeOpenAI(default=Behaviour.garbage())
    async with a_model(fake) as model_url:
        settings = settings_for(telegram, tmp_path, model_url)
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            await wait_for(lambda: decision_cards(telegram), timeout=20, what="the decision card")
            package = (await api(howl, "/api/incidents/1"))["decision"]
            run = await api(howl, f"/api/runs/{package['run_id']}")
    # every role asked the model twice (the repair), then the embedded engine answered
    assert len(fake.requests) == 10
    assert [t["degraded"] for t in run["turns"]] == [True] * 5
    assert {t["provider"] for t in run["turns"]} == {"embedded"}
    assert all("default gave no valid answer" in t["error"] for t in run["turns"])
    assert package["status"] == "degraded" and package["requires_human_approval"]
    assert "abstained" in package["why_human"]


async def test_debate_command_runs_a_fresh_debate_answered_by_a_second_card(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    fake = FakeOpenAI(script=by_role)
    async with a_model(fake) as model_url:
        settings = settings_for(telegram, tmp_path, model_url)
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            await wait_for(lambda: decision_cards(telegram), what="the first decision card")
            answer = await ask(telegram, ALICE, "/debate 1")
            assert answer.startswith("🧠 Debating #1 WorkerQueueStuck afresh (run ")
            assert "The decision package will answer the incident's card." in answer
            first, second = await wait_for(
                lambda: decision_cards(telegram) if len(decision_cards(telegram)) == 2 else None,
                what="the second decision card",
            )
            card = incident_card(telegram)
            assert card is not None and first.reply_to == second.reply_to == card.message_id
            assert await ask(telegram, ALICE, "/debate 99") == "No incident #99."
            assert (await ask(telegram, ALICE, "/debate")).startswith("Usage: /debate <id>")
            triggers = runs_of(howl)
    assert triggers[0][0] == "opened" and triggers[1][0].startswith("debate:")
    assert len(triggers) == 2 and len(fake.requests) == 10


def runs_of(howl: HowlProcess) -> list[tuple[str, str]]:
    path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT trigger, state FROM runs ORDER BY id").fetchall()


async def test_shadow_mode_debates_and_records_but_posts_nothing(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    fake = FakeOpenAI(script=by_role)
    async with a_model(fake) as model_url:
        settings = settings_for(telegram, tmp_path, model_url, HOWL_SHADOW="1")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            await wait_for(lambda: "debate_decided" in howl.logs(), what="the debate to end")
            package = (await api(howl, "/api/incidents/1"))["decision"]
            path = f"/api/runs/{package['run_id']}"

            async def completed() -> dict[str, Any] | None:
                run = await api(howl, path)
                return run if run["state"] == "completed" else None

            run = await wait_for_async(completed, what="the shadow run to complete")
            async with httpx.AsyncClient(base_url=howl.http) as http:
                trail = (await http.get("/api/audit", params={"run": run["id"]})).json()
            await asyncio.sleep(1.0)  # what would have been posted has had time to go out
            posted = telegram.emulator.bot_messages(ONCALL)
    assert posted == [], "nothing is posted in shadow mode"
    assert package["recommended_action"] == CALL and package["approval"]["state"] == "waiting"
    assert len(run["turns"]) == 5 and run["reason"] == "shadow mode: nothing executed"
    # the audit log says what would have happened: an approval asked for, in shadow
    [requested] = trail
    assert requested["action"] == "approval.requested" and requested["detail"]["shadow"] is True
    assert requested["detail"]["action"] == "restart_deployment"
    assert requested["detail"]["trace_id"] == run["traceparent"].split("-")[1]
    assert "decision_not_posted" in howl.logs() and "shadow mode" in howl.logs()
