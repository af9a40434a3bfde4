"""Through the real `howl run`: questions answered from the open incidents, requests made cards.

With the embedded engine: a question lists the open incidents it is about; a
request in Traditional Chinese becomes a decision card answering the card of
the incident its arguments name; a request no registered action fits is
answered "I can't do that". With a fake model that calls tools: a request
becomes a card with Approve / Reject and a run waiting for an approver; a
model obeying an injected argument (`api; rm -rf /`) is refused by the
registry's pattern and no card carries that value; a request no open incident
fits opens a manual incident of its own.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from bot.keyboards import CallbackCodec, parse_approval
from bot.playground.botapi import StoredMessage
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld, is_decision_card
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_chat_answers import answer_to, say
from tests.integration.test_debate import (
    ACTIONS,
    a_model,
    api,
    buttons_key,
    by_role,
    incident_card,
    post_alert,
    settings_for,
)
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import wait_for

CHAT_CALL = {"tool": "restart_deployment", "arguments": {"name": "api", "namespace": "prod"}}


def chat_cards(world: TelegramWorld) -> list[StoredMessage]:
    """Decision cards of chat requests (a debate's say what its agents concluded instead)."""
    return [
        m
        for m in world.emulator.bot_messages(ONCALL)
        if is_decision_card(m) and "asked in chat" in m.text
    ]


async def waiting_run(world: TelegramWorld, howl: HowlProcess, card: StoredMessage) -> Any:
    """The run behind a card's Approve button, once a worker has posted it and it waits."""
    rows = card.reply_markup["inline_keyboard"]  # type: ignore[index]
    labels = [b["text"] for row in rows for b in row]
    assert any("Approve" in t for t in labels) and any("Reject" in t for t in labels)
    verdict, _approval_id = parse_approval(
        CallbackCodec(buttons_key(howl)), rows[0][0]["callback_data"]
    )
    assert verdict == "approve"
    # the buttons carry the approval request's id; the card's last line names the run
    found = re.search(r"Run ([0-9a-f-]{36})", card.text)
    assert found is not None, card.text
    return await wait_for_state(howl, found[1], "waiting_approval")


async def wait_for_state(howl: HowlProcess, run_id: str, state: str) -> dict[str, Any]:
    """The run's JSON once it is in `state` (the worker may still be posting its card)."""
    for _ in range(200):
        run = await api(howl, f"/api/runs/{run_id}")
        if run["state"] == state:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} is {run['state']}, not {state}")


def tool_picker(call: Behaviour) -> Any:
    """The debate's agents by role; the chat's action picker answers `call`."""

    def script(body: dict[str, Any]) -> Behaviour | None:
        system = str(body["messages"][0]["content"])
        if system.startswith("You are Howl's action picker"):
            return call
        return by_role(body)

    return script


async def test_questions_and_requests_with_the_embedded_engine(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    (tmp_path / "howl.toml").write_text(ACTIONS)
    settings = telegram.settings(HOWL_CONFIG=str(tmp_path / "howl.toml"))
    async with running_howl(tmp_path, **settings) as howl:
        await post_alert(howl)
        await wait_for(lambda: incident_card(telegram), what="the incident card")

        asked = await say(telegram, ONCALL, BOB, "@howl_bot what is firing in prod?")
        answer = await answer_to(telegram, ONCALL, asked)
        assert "#1 critical firing — WorkerQueueStuck" in answer

        nothing = await say(telegram, ONCALL, BOB, "@howl_bot drain node worker-3 now")
        refusal = await answer_to(telegram, ONCALL, nothing)
        assert refusal.startswith("🚫 I can't do that: no registered action fits")
        assert "restart_deployment — Rolling restart of a deployment" in refusal

        chinese = await say(telegram, ONCALL, ALICE, "@howl_bot 請幫我重啟 prod 的 api")
        proposed = await answer_to(telegram, ONCALL, chinese)
        assert proposed.startswith(
            "📝 Proposed restart_deployment(name=api, namespace=prod) for #1 WorkerQueueStuck"
        )
        [card] = await wait_for(lambda: chat_cards(telegram), what="the chat request's card")
        assert card.reply_to == incident_card(telegram).message_id  # type: ignore[union-attr]
        assert "Alice asked in chat: “@howl_bot 請幫我重啟 prod 的 api”" in card.text
        run = await waiting_run(telegram, howl, card)
        assert run["incident_id"] == 1 and run["trigger"].startswith("chat:")
        package = run["decision"]
        assert package["recommended_action"] == CHAT_CALL
        assert package["requires_human_approval"] is True
        assert package["approval"]["state"] == "waiting"
        assert "restart_deployment is destructive" in package["why_human"]
        await howl.stop()
    assert len(chat_cards(telegram)) == 1
    assert "Traceback" not in howl.logs()


async def test_a_model_tool_call_becomes_a_card_and_a_smuggled_argument_none(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    smuggled = {"name": "api; rm -rf /", "namespace": "prod"}
    fake = FakeOpenAI(script=tool_picker(Behaviour.tool_call("restart_deployment", CALL_ARGS)))
    async with a_model(fake) as model_url:
        settings = settings_for(telegram, tmp_path, model_url)
        async with running_howl(tmp_path, **settings) as howl:
            await post_alert(howl)
            await wait_for(lambda: incident_card(telegram), what="the incident card")

            asked = await say(telegram, ONCALL, ALICE, "@howl_bot can you restart the api in prod?")
            proposed = await answer_to(telegram, ONCALL, asked)
            assert "Proposed restart_deployment(name=api, namespace=prod) for #1" in proposed
            assert "nothing runs until an approver presses Approve" in proposed
            [card] = await wait_for(lambda: chat_cards(telegram), what="the chat request's card")
            assert card.reply_to == incident_card(telegram).message_id  # type: ignore[union-attr]
            run = await waiting_run(telegram, howl, card)
            assert run["decision"]["recommended_action"] == CHAT_CALL
            picker = [r for r in fake.requests if r.get("tools")]
            assert [t["function"]["name"] for t in picker[-1]["tools"]] == ["restart_deployment"]

            # a model that obeys an injection: the router refuses its call, and so does the
            # embedded engine reading the same words
            fake.script = tool_picker(
                Behaviour.tool_call("restart_deployment", json.dumps(smuggled))
            )
            injected = await say(
                telegram, ONCALL, BOB, "@howl_bot restart the api;rm -rf / in prod"
            )
            refusal = await answer_to(telegram, ONCALL, injected)
            assert refusal.startswith("🚫 I can't do that: no registered action fits")
            assert "does not match" in refusal
            await howl.stop()
    assert len(chat_cards(telegram)) == 1
    cards = [m.text for m in telegram.emulator.bot_messages(ONCALL) if is_decision_card(m)]
    assert not any("rm -rf" in text for text in cards)
    assert "Traceback" not in howl.logs()


CALL_ARGS = json.dumps(CHAT_CALL["arguments"])


async def test_a_request_no_incident_fits_opens_one_of_its_own(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    telegram.emulator.add_chat(ALICE, chat_type="private")
    call = Behaviour.tool_call(
        "restart_deployment", json.dumps({"name": "web", "namespace": "shop"})
    )
    fake = FakeOpenAI(script=tool_picker(call))
    async with a_model(fake) as model_url:
        settings = settings_for(
            telegram, tmp_path, model_url, HOWL_ALLOWED_CHAT_IDS=f"{ONCALL},{ALICE}"
        )
        async with running_howl(tmp_path, **settings) as howl:
            asked = await say(telegram, ALICE, ALICE, "restart web in shop please")
            proposed = await answer_to(telegram, ALICE, asked)
            assert "for #1 Alice asked: restart web in shop please" in proposed
            assert "I opened #1" in proposed
            [card] = await wait_for(lambda: chat_cards(telegram), what="the chat request's card")
            run = await waiting_run(telegram, howl, card)
            assert run["incident_id"] == 1
            incident = await api(howl, "/api/incidents/1")
            assert incident["status"] == "firing"
            await howl.stop()
    assert "Traceback" not in howl.logs()
