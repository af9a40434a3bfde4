"""The real `howl run` process against the Bot API emulator, over HTTP."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.integration.conftest import ALICE, BOB, FOREIGN, ONCALL, TelegramWorld
from tests.integration.howl_process import running_howl
from tests.servers.telegram import wait_for


def replies_to(world: TelegramWorld, chat_id: int, message_id: int) -> list[str]:
    return [m.text for m in world.emulator.bot_messages(chat_id) if m.reply_to == message_id]


async def test_answers_start_and_status(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()):
        start = await telegram.emulator.user_sends(ONCALL, ALICE, "/start")
        answer = await wait_for(
            lambda: replies_to(telegram, ONCALL, start["message"]["message_id"]), what="/start"
        )
        assert "Howl" in answer[0] and "/help" in answer[0]

        status = await telegram.emulator.user_sends(ONCALL, BOB, "/status")
        answer = await wait_for(
            lambda: replies_to(telegram, ONCALL, status["message"]["message_id"]), what="/status"
        )
        assert "Howl 0.1.0" in answer[0]
        assert "Uptime:" in answer[0]
        assert "Database: sqlite" in answer[0] and "— ok" in answer[0]
        assert "Mode: telegram" in answer[0]
        assert "updates handled: 2" in answer[0]
        assert "incidents open: 0" in answer[0] and "incidents firing: 0" in answer[0]
    commands = [c["command"] for c in telegram.emulator.commands]
    assert commands[:3] == ["start", "help", "status"]


async def test_ignores_a_foreign_chat(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        await telegram.emulator.user_sends(FOREIGN, ALICE, "/status")
        # The next update in the allowed chat is answered, so the foreign one was seen first.
        status = await telegram.emulator.user_sends(ONCALL, ALICE, "/status")
        await wait_for(lambda: replies_to(telegram, ONCALL, status["message"]["message_id"]))
        assert telegram.emulator.bot_messages(FOREIGN) == []
        await howl.stop()
    assert '"event": "chat_ignored"' in howl.logs()
    assert f'"chat_id": {FOREIGN}' in howl.logs()


async def test_handles_a_duplicated_update_once(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        first = await telegram.emulator.user_sends(ONCALL, ALICE, "/start")
        message_id = first["message"]["message_id"]
        await wait_for(lambda: replies_to(telegram, ONCALL, message_id))
        # Telegram delivers the very same update again (same update_id).
        body = {k: v for k, v in first.items() if k != "update_id"}
        await telegram.emulator.inject_update(body, update_id=first["update_id"])
        marker = await telegram.emulator.user_sends(ONCALL, ALICE, "/help")
        await wait_for(lambda: replies_to(telegram, ONCALL, marker["message"]["message_id"]))
        assert len(replies_to(telegram, ONCALL, message_id)) == 1
        await howl.stop()
    assert '"event": "update_duplicate_ignored"' in howl.logs()


async def test_sigterm_during_long_polling_exits_0_within_5s(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        # Ready means the poller runs: a getUpdates long poll is in flight now.
        await wait_for(lambda: telegram.emulator.stats.calls.get("getUpdates", 0) >= 1)
        code, seconds = await howl.stop(signal.SIGTERM)
    assert code == 0, howl.logs()
    assert seconds < 5.0
    assert '"event": "howl_stopped"' in howl.logs()


async def test_sigint_exits_0(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        code, seconds = await howl.stop(signal.SIGINT)
    assert code == 0 and seconds < 5.0, howl.logs()


async def test_no_secret_in_any_log_line(tmp_path: Path, telegram: TelegramWorld) -> None:
    settings = telegram.settings(
        HOWL_WEBHOOK_TOKEN="webhook-secret-value-123",
        HOWL_LLM_API_KEY="nvapi-llm-secret-value-abcdefgh",
    )
    async with running_howl(tmp_path, **settings) as howl:
        status = await telegram.emulator.user_sends(ONCALL, ALICE, "/status")
        await wait_for(lambda: replies_to(telegram, ONCALL, status["message"]["message_id"]))
        await howl.stop()
    logs = howl.logs()
    assert logs.strip()
    for secret in (settings["TELEGRAM_BOT_TOKEN"], "webhook-secret-value-123", "nvapi-llm-secret"):
        assert secret not in logs
