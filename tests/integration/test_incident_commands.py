"""Incident commands through the real `howl run` and the emulated Telegram, end to end.

Each action edits the one incident card in place and leaves an audit line naming
who did it; a mistake (unknown id, bad duration, a resolved incident) gets one
line back, never a trace.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld
from tests.integration.howl_process import HowlProcess, running_howl
from tests.servers.telegram import wait_for


async def ask(world: TelegramWorld, user: int, text: str) -> str:
    """Send a command as `user`; return the bot's reply to it."""
    sent = await world.emulator.user_sends(ONCALL, user, text)
    message_id = sent["message"]["message_id"]
    [answer] = await wait_for(
        lambda: [m.text for m in world.emulator.bot_messages(ONCALL) if m.reply_to == message_id],
        what=f"the answer to {text!r}",
    )
    return answer


def card(world: TelegramWorld, incident_id: int) -> str:
    cards = [
        m for m in world.emulator.bot_messages(ONCALL)
        if m.reply_to is None and m.text.startswith(("🔴", "🟠", "🟡", "🔵"))
        and f"#{incident_id} " in m.text
    ]  # fmt: skip
    assert len(cards) <= 1, "one card per incident, edited in place"
    return cards[0].text if cards else ""


async def card_says(world: TelegramWorld, incident_id: int, *words: str) -> str:
    return await wait_for(
        lambda: (text := card(world, incident_id)) and all(w in text for w in words) and text,
        what=f"card #{incident_id} saying {words}",
    )


def audit(howl: HowlProcess) -> list[tuple[str, str, str]]:
    path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT actor, action, subject FROM audit_log ORDER BY id").fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


async def test_incident_lifecycle_from_the_chat(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        opened = await ask(telegram, ALICE, "/alert critical payments <b>are</b> failing")
        assert opened == "Opened 🔴 #1 payments <b>are</b> failing — 🔥 firing"
        text = await card_says(telegram, 1, "payments <b>are</b> failing", "firing")
        assert "Severity: critical" in text and "reported_by=Alice" in text

        assert await ask(telegram, BOB, "/ack 1") == "Incident #1 acknowledged by Bob."
        await card_says(telegram, 1, "acknowledged", "Acknowledged by Bob")

        assert await ask(telegram, ALICE, "/silence 1 forever") == (
            "Give a duration like 30m, 2h or 1d (up to 30d)."
        )
        assert (
            await ask(telegram, ALICE, "/silence 1 90m")
            == "Incident #1 silenced for 1h30m by Alice."
        )
        await card_says(telegram, 1, "silenced", "Silenced by Alice until")

        listed = await ask(telegram, BOB, "/incidents")
        assert "Open incidents" in listed and "#1 payments" in listed and "silenced" in listed
        detail = await ask(telegram, BOB, "/incident 1")
        assert "#1 payments" in detail and "Severity: critical" in detail

        assert await ask(telegram, ALICE, "/resolve 1") == "Incident #1 resolved by Alice."
        await card_says(telegram, 1, "resolved", "Resolved by Alice")
        assert await ask(telegram, ALICE, "/resolve 1") == "Incident #1 is already resolved."
        assert await ask(telegram, BOB, "/incidents") == "No open incidents. 🌙"
        await howl.stop()
    assert audit(howl) == [
        (f"tg:{ALICE}", "incident.opened", "incident:1"),
        (f"tg:{BOB}", "incident.ack", "incident:1"),
        (f"tg:{ALICE}", "incident.silence", "incident:1"),
        (f"tg:{ALICE}", "incident.resolve", "incident:1"),
    ]
    assert len([m for m in telegram.emulator.bot_messages(ONCALL) if "#1 payments" in m.text]) >= 1


async def test_mistakes_get_one_line(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        assert await ask(telegram, ALICE, "/ack 999") == "No incident #999."
        assert await ask(telegram, ALICE, "/ack") == "Usage: /ack <id>, e.g. /ack 12"
        assert await ask(telegram, ALICE, "/resolve abc") == (
            "'abc' is not an incident number. Usage: /resolve <id>, e.g. /resolve 12"
        )
        assert await ask(telegram, ALICE, "/silence 999 30m") == "No incident #999."
        assert await ask(telegram, ALICE, "/silence 1") == (
            "Usage: /silence <id> <duration>, e.g. /silence 12 30m"
        )
        assert await ask(telegram, ALICE, "/incident 7") == "No incident #7."
        assert await ask(telegram, ALICE, "/alert") == (
            "Say what is wrong: /alert <text>, e.g. /alert checkout is failing"
        )
        await howl.stop()
    assert audit(howl) == []
    assert "Traceback" not in howl.logs()
