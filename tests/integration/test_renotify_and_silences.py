"""Re-notify and Alertmanager silences through the real `howl run` and the emulated Telegram."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.playground.botapi import StoredMessage
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld, is_decision_card
from tests.integration.howl_process import running_howl
from tests.integration.test_incident_commands import ask, card_says
from tests.servers.telegram import free_port, wait_for

CONFIG = '[incidents]\nrenotify_after = "1s"\nmention = ["@oncall_alice", "<b>bob</b>"]\n'


def card_message(world: TelegramWorld, incident_id: int) -> StoredMessage:
    [card] = [
        m for m in world.emulator.bot_messages(ONCALL)
        if m.reply_to is None and f"#{incident_id} " in m.text and "Severity:" in m.text
    ]  # fmt: skip
    return card


def renotifies(world: TelegramWorld, incident_id: int) -> list[StoredMessage]:
    card = card_message(world, incident_id)
    return [
        m
        for m in world.emulator.bot_messages(ONCALL)
        if m.reply_to == card.message_id and not is_decision_card(m)
    ]


async def test_an_unacknowledged_incident_rings_again_until_acked(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    (tmp_path / "howl.toml").write_text(CONFIG)
    settings = telegram.settings(HOWL_CONFIG=str(tmp_path / "howl.toml"))
    async with running_howl(tmp_path, **settings) as howl:
        await ask(telegram, ALICE, "/alert critical payments failing")
        await card_says(telegram, 1, "payments failing")
        [first, *_] = await wait_for(lambda: renotifies(telegram, 1), what="a re-notify of #1")
        # a new message replying to the card; the mentions shown as typed (escaped, not markup)
        assert first.text.startswith("@oncall_alice <b>bob</b> 🔴 #1 payments failing — 🔥 firing")
        assert first.edit_date is None

        assert await ask(telegram, BOB, "/ack 1") == "Incident #1 acknowledged by Bob."
        # #2 opens after the ack is answered: every check that rings #2 comes after it
        await ask(telegram, ALICE, "/alert payments still failing")
        await card_says(telegram, 2, "payments still failing")
        await wait_for(lambda: renotifies(telegram, 2), what="a re-notify of #2")
        rung = len(renotifies(telegram, 1))
        await wait_for(lambda: len(renotifies(telegram, 2)) >= 2, what="a second one of #2")
        assert len(renotifies(telegram, 1)) == rung, "#1 is acknowledged: it rings no more"
        await howl.stop()
    assert "Traceback" not in howl.logs()


async def test_an_unreachable_alertmanager_leaves_howls_silence_and_says_so(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with running_howl(tmp_path, **telegram.settings(HOWL_ALERTMANAGER_URL=nowhere)) as howl:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{howl.http}/alerts",
                json={
                    "title": "BackupFailed",
                    "severity": "warning",
                    "labels": {"namespace": "ops", "service": "backup"},
                    "source": "cron",
                },
            )
            assert answer.status_code == 200, answer.text
        await card_says(telegram, 1, "BackupFailed", "firing")
        assert await ask(telegram, ALICE, "/silence 1 1h") == (
            "Incident #1 silenced for 1h by Alice.\n"
            f"⚠️ The Alertmanager silence could not be made (Alertmanager at {nowhere} "
            "is unreachable (ConnectError)); Howl's silence holds."
        )
        text = await card_says(telegram, 1, "silenced", "Silenced by Alice until")
        assert "⚠️ The Alertmanager silence could not be made" in text
        assert await ask(telegram, ALICE, "/resolve 1") == "Incident #1 resolved by Alice."
        await howl.stop()
    logs = howl.logs()
    assert "alertmanager_silence_failed" in logs and "Traceback" not in logs
