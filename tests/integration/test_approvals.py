"""Human in the loop through the real `howl run`: emulated Telegram, a fake model answering by role.

An alert becomes a decision card whose Approve / Reject carry a single-use
approval id. Only an approver's press counts, once; anything else is answered
with a short notice and changes nothing (no row, no audit line, no card edit,
nothing run). An approved action runs once through the registry (argv only) and
the card follows it to its exit status and last output lines; a rejection asks
for a reason; a request nobody answers expires; with HOWL_AUTOPILOT=low a
low-risk non-destructive action runs unasked and a destructive one never does.
The action is a tiny shell script that writes its argv to a file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from bot.handlers.approvals import REASON_KEPT, REASON_NOT_YOURS, REASON_PROMPT
from bot.handlers.callbacks import NOT_OURS
from bot.keyboards import CallbackCodec, parse_approval
from bot.playground.botapi import StoredMessage
from core.approvals import NOT_APPROVER
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld, is_decision_card
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_buttons import answer_to, buttons, press
from tests.integration.test_debate import buttons_key, wait_for_async
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import serve_asgi, wait_for

#: an argument that a shell would have read as several commands
SNEAKY = "x; touch /tmp/pwned $(id) `id` | cat && echo"


def write_action(tmp_path: Path) -> tuple[Path, Path]:
    """The action script and the file it writes its argv to (one line per argument, then ---)."""
    argv_file = tmp_path / "argv.txt"
    script = tmp_path / "act.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"for arg in \"$@\"; do printf '%s\\n' \"$arg\" >> '{argv_file}'; done\n"
        f"echo --- >> '{argv_file}'\n"
        'echo "step 1 done"\necho "all done for $1"\n'
    )
    script.chmod(0o755)
    return script, argv_file


def config(script: Path) -> str:
    return f"""
[[actions]]
name = "restart_deployment"
description = "Rolling restart of a deployment"
command = ["{script}", "{{name}}", "{{namespace}}"]
params = {{ name = '^[a-z0-9-]{{1,63}}$', namespace = '^[a-z0-9-]{{1,63}}$' }}
timeout_s = 10

[[actions]]
name = "annotate_incident"
description = "Adds a note to the incident's record (changes nothing in production)"
command = ["{script}", "--note", "{{note}}"]
params = {{ note = '^[ -~]{{1,80}}$' }}
timeout_s = 10
"""


def answers(call: dict[str, Any], risk: str, *, human: bool) -> dict[str, dict[str, Any]]:
    return {
        "Diagnostician": {
            "summary": "api workers hang on a stuck consumer",
            "hypotheses": [{"cause": "a consumer deadlocked", "confidence": 0.8, "evidence": []}],
        },
        "Solver": {"action": call, "rationale": "frees the consumer", "risk_level": risk},
        "Reviewer": {"verdict": "approve", "concerns": [], "risk_level": risk},
        "Critic": {"objections": [], "worst_case": "none", "risk_level": risk},
        "Coordinator": {
            "recommended_action": call,
            "risk_level": risk,
            "requires_human_approval": human,
            "confidence": 0.8,
            "diagnosis": "a consumer deadlocked",
            "summary": "act on the consumer",
            "why_human": "a restart drops in-flight jobs" if human else "",
        },
    }


RESTART = {"tool": "restart_deployment", "arguments": {"name": "api", "namespace": "prod"}}
NOTE = {"tool": "annotate_incident", "arguments": {"note": SNEAKY}}


def model(script: dict[str, dict[str, Any]]) -> FakeOpenAI:
    def by_role(body: dict[str, Any]) -> Behaviour | None:
        system = str(body["messages"][0]["content"])
        for role, answer in script.items():
            if system.startswith(f"You are the {role}"):
                return Behaviour.json(answer)
        return None

    return FakeOpenAI(script=by_role)


class Setup:
    def __init__(self, tmp_path: Path, world: TelegramWorld) -> None:
        self.script, self.argv_file = write_action(tmp_path)
        (tmp_path / "howl.toml").write_text(config(self.script))
        self.tmp_path, self.world = tmp_path, world

    def settings(self, model_url: str, **extra: str) -> dict[str, str]:
        return self.world.settings(
            HOWL_CONFIG=str(self.tmp_path / "howl.toml"),
            HOWL_LLM_BASE_URL=model_url,
            HOWL_LLM_MODEL="fake-model",
            **extra,
        )

    def pwned(self) -> bool:
        """Whether a shell ever ran the sneaky argument's `touch`."""
        return Path("/tmp/pwned").exists()

    def executions(self) -> list[list[str]]:
        if not self.argv_file.exists():
            return []
        runs, current = [], []
        for line in self.argv_file.read_text().splitlines():
            if line == "---":
                runs.append(current)
                current = []
            else:
                current.append(line)
        return runs


async def post_alert(howl: HowlProcess, severity: str = "critical") -> None:
    alert = {
        "title": "WorkerQueueStuck",
        "severity": severity,
        "labels": {"alertname": "WorkerQueueStuck", "deployment": "api"},
        "annotations": {"summary": "api workers stopped taking jobs"},
        "source": "test",
    }
    async with httpx.AsyncClient(base_url=howl.http) as http:
        assert (await http.post("/alerts", json=alert)).status_code == 200


async def get(howl: HowlProcess, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient(base_url=howl.http) as http:
        answer = await http.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def decision(world: TelegramWorld) -> StoredMessage | None:
    found = [m for m in world.emulator.bot_messages(ONCALL) if is_decision_card(m)]
    assert len(found) <= 1, "one decision card, edited in place"
    return found[0] if found else None


async def card_saying(world: TelegramWorld, text: str) -> StoredMessage:
    return await wait_for(
        lambda: (m := decision(world)) is not None and text in m.text and m,
        timeout=15,
        what=f"the decision card to say {text!r}",
    )


def rows(howl: HowlProcess, table: str) -> list[tuple[Any, ...]]:
    path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def state_of(howl: HowlProcess) -> tuple[Any, ...]:
    """Everything a refused press must leave as it was."""
    return tuple(rows(howl, t) for t in ("approvals", "decisions", "audit_log", "runs", "cards"))


async def run_of(howl: HowlProcess) -> dict[str, Any]:
    package = (await get(howl, "/api/incidents/1"))["decision"]
    return dict(await get(howl, f"/api/runs/{package['run_id']}"))


async def run_reaching(howl: HowlProcess, state: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        if (await get(howl, "/api/incidents/1"))["decision"] is None:
            return None  # the debate is still on
        run = await run_of(howl)
        return run if run["state"] == state else None

    return await wait_for_async(reached, timeout=15, what=f"the run to be {state}")


async def test_an_approver_approves_and_the_card_follows_the_action_to_its_end(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    fake = model(answers(NOTE, "medium", human=True))
    async with serve_asgi(fake.app()) as url:
        settings = setup.settings(f"{url}/v1")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            card = await card_saying(telegram, "Waiting for an approver")
            shown = buttons(card)
            assert list(shown) == ["Approve", "Reject"]
            assert all(len(data.encode()) <= 64 for data in shown.values())
            _, approval_id = parse_approval(CallbackCodec(buttons_key(howl)), shown["Approve"])
            run = await run_reaching(howl, "waiting_approval")
            assert str(approval_id) != run["id"]
            before = state_of(howl)

            # a non-approver, forged data, truncated data: a notice each, nothing changes
            assert await press(telegram, BOB, card, shown["Approve"]) == NOT_APPROVER
            assert await press(telegram, BOB, card, shown["Reject"]) == NOT_APPROVER
            forged = shown["Approve"][:-4] + (
                "AAAA" if not shown["Approve"].endswith("AAAA") else "BBBB"
            )
            assert await press(telegram, ALICE, card, forged) == NOT_OURS
            assert await press(telegram, ALICE, card, shown["Approve"][:40]) == NOT_OURS
            assert await press(telegram, ALICE, card, "a:y:" + "A" * 22) == NOT_OURS
            assert state_of(howl) == before and decision(telegram) == card
            assert setup.executions() == []

            answer = await press(telegram, ALICE, card, shown["Approve"])
            assert answer == "Approved by Alice; annotate_incident runs now."
            done = await card_saying(telegram, "Ran")
            assert done.reply_markup is None, "buttons gone after the decision"
            assert "Approved by Alice at" in done.text
            assert "exit 0 in" in done.text and "all done for --note" in done.text
            assert done.message_id == card.message_id and done.edit_date is not None
            finished = await run_reaching(howl, "completed")
            execution = finished["decision"]["execution"]
            assert execution["state"] == "succeeded" and execution["exit_code"] == 0
            assert execution["stdout"] == "step 1 done\nall done for --note"
            # the value reached argv as one literal element: no shell ever read it
            assert setup.executions() == [["--note", SNEAKY]]
            assert not setup.pwned()

            # a second press, even the same person's: a notice, nothing runs again
            after = state_of(howl)
            again = await press(telegram, ALICE, done, shown["Approve"])
            assert again == "This request was already approved; nothing changed."
            assert state_of(howl) == after and setup.executions() == [["--note", SNEAKY]]

            trail = await get(howl, "/api/audit", run=run["id"])
            assert [e["action"] for e in trail] == [
                "action.succeeded",
                "action.started",
                "approval.approved",
                "approval.requested",
            ]
            trace_id = run["traceparent"].split("-")[1]
            assert {e["detail"]["trace_id"] for e in trail} == {trace_id}
            approved = trail[2]
            assert approved["actor"] == f"tg:{ALICE}" and approved["detail"]["by"] == "Alice"
            assert approved["detail"]["approval_id"] == str(approval_id)
            assert trail[0]["detail"]["argv"] == [str(setup.script), "--note", SNEAKY]
            # the read view's filters and errors
            assert len(await get(howl, "/api/audit", limit=1)) == 1
            assert await get(howl, "/api/audit", subject="incident:1") == [
                e for e in await get(howl, "/api/audit") if e["subject"] == "incident:1"
            ]
            async with httpx.AsyncClient(base_url=howl.http) as http:
                bad = await http.get("/api/audit", params={"run": "nope"})
                too_many = await http.get("/api/audit", params={"limit": 0})
            assert bad.status_code == 400 and bad.json() == {
                "detail": "run: 'nope' is not a run id"
            }
            assert too_many.status_code == 400 and "limit" in too_many.json()["detail"]


async def test_two_approvers_pressing_at_once_run_the_action_once(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    fake = model(answers(RESTART, "medium", human=True))
    async with serve_asgi(fake.app()) as url:
        settings = setup.settings(f"{url}/v1", HOWL_APPROVER_IDS=f"{ALICE},{BOB}")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            card = await card_saying(telegram, "Waiting for an approver")
            await run_reaching(howl, "waiting_approval")
            data = buttons(card)["Approve"]
            queries = await asyncio.gather(
                *(
                    telegram.emulator.user_presses(
                        ONCALL, (ALICE, BOB)[i % 2], card.message_id, data
                    )
                    for i in range(6)
                )
            )
            answers_ = [await answer_to(telegram, q) for q in queries]
            assert sum(a.endswith("restart_deployment runs now.") for a in answers_) == 1
            assert answers_.count("This request was already approved; nothing changed.") == 5
            await card_saying(telegram, "Ran")
            await run_reaching(howl, "completed")
            assert setup.executions() == [["api", "prod"]]
            trail = await get(howl, "/api/audit", run=(await run_of(howl))["id"])
            assert [e["action"] for e in trail].count("action.started") == 1


async def test_a_rejection_asks_why_and_keeps_the_rejecters_answer(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    fake = model(answers(RESTART, "medium", human=True))
    async with serve_asgi(fake.app()) as url:
        settings = setup.settings(f"{url}/v1")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            card = await card_saying(telegram, "Waiting for an approver")
            answer = await press(telegram, ALICE, card, buttons(card)["Reject"])
            assert answer == "Rejected by Alice; restart_deployment will not run."
            rejected = await card_saying(telegram, "Rejected by Alice at")
            assert rejected.reply_markup is None
            question = await wait_for(
                lambda: next(
                    (
                        m
                        for m in telegram.emulator.bot_messages(ONCALL)
                        if m.text.startswith(REASON_PROMPT)
                    ),
                    None,
                ),
                what="the reason question",
            )
            assert question.reply_to == card.message_id and "Alice" in question.text
            await run_reaching(howl, "completed")

            async def reply_as(user: int, text: str) -> str:
                sent = await telegram.emulator.user_sends(
                    ONCALL, user, text, reply_to=question.message_id
                )
                mid = sent["message"]["message_id"]
                [said] = await wait_for(
                    lambda: [
                        m.text for m in telegram.emulator.bot_messages(ONCALL) if m.reply_to == mid
                    ],
                    what="the answer to the reason",
                )
                return said

            assert await reply_as(BOB, "not my call") == REASON_NOT_YOURS
            assert await reply_as(ALICE, "the consumer recovered by itself") == REASON_KEPT
            assert await reply_as(ALICE, "and again") == REASON_NOT_YOURS
            await card_saying(telegram, "Reason: the consumer recovered by itself")
            trail = await get(howl, "/api/audit", run=(await run_of(howl))["id"])
            assert [e["action"] for e in trail] == [
                "approval.reason",
                "approval.rejected",
                "approval.requested",
            ]
            assert trail[0]["detail"]["reason"] == "the consumer recovered by itself"
            assert setup.executions() == []


async def test_a_request_nobody_answers_expires_and_its_card_says_so(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    fake = model(answers(RESTART, "medium", human=True))
    async with serve_asgi(fake.app()) as url:
        settings = setup.settings(f"{url}/v1", HOWL_APPROVAL_TTL_S="2")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            card = await card_saying(telegram, "Waiting for an approver")
            approve = buttons(card)["Approve"]  # the message is edited in place below
            expired = await card_saying(telegram, "Expired at")
            assert expired.reply_markup is None and expired.message_id == card.message_id
            run = await run_reaching(howl, "completed")
            assert run["reason"] == "approval expired"
            before = state_of(howl)
            late = await press(telegram, ALICE, expired, approve)
            assert late == "This request was already expired; nothing changed."
            assert state_of(howl) == before and setup.executions() == []
            trail = await get(howl, "/api/audit", run=run["id"])
            assert next((e["action"], e["actor"]) for e in trail) == (
                "approval.expired",
                "approval-expiry",
            )


async def test_autopilot_runs_a_low_risk_harmless_action_without_asking(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    fake = model(answers(NOTE, "low", human=False))
    async with serve_asgi(fake.app()) as url:
        settings = setup.settings(f"{url}/v1", HOWL_AUTOPILOT="low")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl, severity="warning")
            done = await card_saying(telegram, "Ran")
            assert done.reply_markup is None and "Approved by autopilot" in done.text
            run = await run_reaching(howl, "completed")
            assert setup.executions() == [["--note", SNEAKY]]
            trail = await get(howl, "/api/audit", run=run["id"])
            assert [(e["action"], e["actor"]) for e in trail][-1] == (
                "approval.approved",
                "autopilot",
            )


async def test_autopilot_never_runs_a_destructive_action(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    fake = model(answers(RESTART, "low", human=False))
    async with serve_asgi(fake.app()) as url:
        settings = setup.settings(f"{url}/v1", HOWL_AUTOPILOT="low")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl, severity="warning")
            card = await card_saying(telegram, "Waiting for an approver")
            assert "restart_deployment is destructive" in card.text
            assert list(buttons(card)) == ["Approve", "Reject"]
            await run_reaching(howl, "waiting_approval")
            assert setup.executions() == []


async def test_shadow_mode_with_autopilot_runs_nothing_and_records_what_would_have(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    setup = Setup(tmp_path, telegram)
    fake = model(answers(NOTE, "low", human=False))
    async with serve_asgi(fake.app()) as url:
        settings = setup.settings(f"{url}/v1", HOWL_AUTOPILOT="low", HOWL_SHADOW="1")
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl, severity="warning")
            run = await run_reaching(howl, "completed")
            [would] = await get(howl, "/api/audit", run=run["id"])
            await asyncio.sleep(0.5)  # anything owed to the chat has had time to go out
            assert telegram.emulator.bot_messages(ONCALL) == []
            assert rows(howl, "approvals") == []
    assert setup.executions() == []
    assert would["action"] == "action.would_execute" and would["detail"]["shadow"] is True
    assert would["detail"]["arguments"] == {"note": SNEAKY}
