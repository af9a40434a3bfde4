"""Buttons on incident cards, pressed through the real `howl run` and the emulated Telegram.

A press does what the command does (same service call, same audit row naming
who), the card is edited by the normal card path, and every press gets one
`answerCallbackQuery` line. A press that must not act — from a chat that is
not allowed, with data Howl did not sign, on a card whose incident moved on,
the second of two at once — is answered and changes nothing: not the incident
row, not the audit log, not the outbox, not the card.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from bot.handlers.callbacks import NOT_OURS
from bot.handlers.common import NOT_ALLOWED
from bot.keyboards import CallbackCodec
from bot.playground.botapi import StoredMessage
from tests.integration.conftest import (
    ALICE,
    BOB,
    FOREIGN,
    ONCALL,
    TelegramWorld,
    is_decision_card,
)
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_incident_commands import ask, audit
from tests.servers.telegram import wait_for


def card_message(world: TelegramWorld, incident_id: int) -> StoredMessage | None:
    found = [
        m
        for m in world.emulator.bot_messages(ONCALL)
        if m.reply_to is None
        and f"#{incident_id} " in m.text.split("\n")[0]
        and not is_decision_card(m)
    ]
    assert len(found) <= 1, "one card per incident, edited in place"
    return found[0] if found else None


def buttons(message: StoredMessage) -> dict[str, str]:
    """Button label -> callback data, as the chat shows them."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def card_with(
    world: TelegramWorld, incident_id: int, *labels: str, says: str = "firing"
) -> StoredMessage:
    """Wait until the card says `says` in its headline and shows exactly these buttons."""

    def shown() -> StoredMessage | None:
        m = card_message(world, incident_id)
        if m is None or says not in m.text.split("\n")[0]:
            return None
        return m if list(buttons(m)) == list(labels) else None

    return await wait_for(shown, what=f"card #{incident_id}: {says}, buttons {labels}")


async def press(
    world: TelegramWorld, user: int, message: StoredMessage, data: str, chat: int = ONCALL
) -> str:
    """Press a button; return the answerCallbackQuery text."""
    query = await world.emulator.user_presses(chat, user, message.message_id, data)
    return await answer_to(world, query)


async def answer_to(world: TelegramWorld, query_id: str) -> str:
    record = await wait_for(
        lambda: (r := world.emulator.callback_answer(query_id)) and r["answered"] and r,
        what=f"the answer to press {query_id}",
    )
    return str(record["text"])


def database(howl: HowlProcess) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a press could change."""
    path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("incidents", "audit_log", "outbox", "cards")
        }


async def settled(world: TelegramWorld, howl: HowlProcess) -> dict[str, list[tuple[Any, ...]]]:
    """The database once every delivery owed has gone out (nothing left in flight)."""

    def quiet() -> dict[str, list[tuple[Any, ...]]] | None:
        path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as db:
            owed = db.execute("SELECT count(*) FROM outbox WHERE status != 'sent'").fetchone()
        return database(howl) if owed == (0,) else None

    return await wait_for(quiet, what="the outbox to drain")


async def a_firing_card(world: TelegramWorld) -> StoredMessage:
    """Open incident #1 from the chat; its card, once it shows the buttons of a firing card."""
    await ask(world, ALICE, "/alert critical payments failing")
    return await card_with(world, 1, "Ack", "Silence 1h", "Resolve")


def chat_view(world: TelegramWorld) -> list[dict[str, Any]]:
    return [m.to_view() for m in world.emulator.bot_messages(ONCALL)]


async def unchanged_by(
    world: TelegramWorld, howl: HowlProcess, *presses: tuple[int, StoredMessage, str, int]
) -> list[str]:
    """Press each (user, message, data, chat); assert nothing changed; return the answers."""
    before, chat_before = await settled(world, howl), chat_view(world)
    answers = [await press(world, user, m, data, chat) for user, m, data, chat in presses]
    # the answer comes after the service call: a change would already be committed
    assert database(howl) == before
    assert chat_view(world) == chat_before
    assert await settled(world, howl) == before
    return answers


async def test_a_member_presses_each_button(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        card = await a_firing_card(telegram)
        before = audit(howl)

        answer = await press(telegram, BOB, card, buttons(card)["Ack"])

        assert answer == "Incident #1 acknowledged by Bob."
        card = await card_with(telegram, 1, "Unack", "Silence 1h", "Resolve", says="acknowledged")
        assert "Acknowledged by Bob" in card.text and card.edit_date is not None
        assert audit(howl)[len(before) :] == [("tg:502", "incident.ack", "incident:1")]
        shown = [m for m in telegram.emulator.bot_messages(ONCALL) if not is_decision_card(m)]
        assert len(shown) == 2, "the card edited, no new message"

        answer = await press(telegram, ALICE, card, buttons(card)["Unack"])
        assert answer == "Incident #1 unacknowledged by Alice."
        card = await card_with(telegram, 1, "Ack", "Silence 1h", "Resolve")
        assert "Acknowledged by" not in card.text and "firing" in card.text

        answer = await press(telegram, ALICE, card, buttons(card)["Silence 1h"])
        assert answer == "Incident #1 silenced for 1h by Alice."
        card = await card_with(telegram, 1, "Ack", "Resolve", says="silenced")
        assert "Silenced by Alice until" in card.text

        answer = await press(telegram, BOB, card, buttons(card)["Resolve"])
        assert answer == "Incident #1 resolved by Bob."
        card = await card_with(telegram, 1, says="resolved")
        assert "Resolved by Bob" in card.text and card.reply_markup is None
        assert audit(howl)[len(before) :] == [
            ("tg:502", "incident.ack", "incident:1"),
            ("tg:501", "incident.unack", "incident:1"),
            ("tg:501", "incident.silence", "incident:1"),
            ("tg:502", "incident.resolve", "incident:1"),
        ]


async def test_a_press_writes_the_same_audit_row_as_the_command(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        await ask(telegram, ALICE, "/alert one")
        await ask(telegram, ALICE, "/alert two")
        card = await card_with(telegram, 1, "Ack", "Silence 1h", "Resolve")
        assert await press(telegram, BOB, card, buttons(card)["Ack"]) == (
            await ask(telegram, BOB, "/ack 2")
        ).replace("#2", "#1")
        path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
        with sqlite3.connect(path) as db:
            rows = db.execute(
                "SELECT actor, action, detail FROM audit_log WHERE action = 'incident.ack'"
                " ORDER BY subject"
            ).fetchall()
        by_press, by_command = ((a, b, json.loads(d)) for a, b, d in rows)
        assert (
            by_press
            == by_command
            == (
                "tg:502",
                "incident.ack",
                {"by": "Bob", "status": "acknowledged", "from": "firing"},
            )
        )


async def test_a_press_from_a_chat_not_allowed_changes_nothing(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        card = await a_firing_card(telegram)
        # the very same signed buttons, on a message in a chat Howl does not serve
        elsewhere = await telegram.emulator.call(
            "sendMessage",
            {"chat_id": FOREIGN, "text": "copy", "reply_markup": json.dumps(card.reply_markup)},
        )
        [copy] = telegram.emulator.bot_messages(FOREIGN)
        assert copy.message_id == elsewhere["result"]["message_id"]

        answers = await unchanged_by(
            telegram,
            howl,
            *((ALICE, copy, data, FOREIGN) for data in buttons(card).values()),
        )

        assert answers == [NOT_ALLOWED] * 3
        assert NOT_ALLOWED == "Howl does not take button presses from this chat."


async def test_two_presses_at_once_change_it_once(tmp_path: Path, telegram: TelegramWorld) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        card = await a_firing_card(telegram)
        before = audit(howl)

        # "Silence 1h" is allowed again on a silenced incident: only the status the
        # card showed keeps the second press from silencing it a second time
        silence = buttons(card)["Silence 1h"]
        queries = [
            await telegram.emulator.user_presses(ONCALL, ALICE, card.message_id, silence)
            for _ in range(2)
        ]
        answers = await asyncio.gather(*(answer_to(telegram, q) for q in queries))

        assert sorted(answers) == [
            "Incident #1 is silenced now; nothing changed.",
            "Incident #1 silenced for 1h by Alice.",
        ]
        assert audit(howl)[len(before) :] == [("tg:501", "incident.silence", "incident:1")]

        silenced = await card_with(telegram, 1, "Ack", "Resolve", says="silenced")
        ack = buttons(silenced)["Ack"]
        queries = [
            await telegram.emulator.user_presses(ONCALL, user, card.message_id, ack)
            for user in (ALICE, BOB)
        ]
        answers = await asyncio.gather(*(answer_to(telegram, q) for q in queries))
        won, lost = sorted(answers)
        assert won in {"Incident #1 acknowledged by Alice.", "Incident #1 acknowledged by Bob."}
        assert lost == "Incident #1 is acknowledged now; nothing changed."
        assert [a for _, a, _ in audit(howl)[len(before) :]] == [
            "incident.silence",
            "incident.ack",
        ]


async def test_a_press_on_a_state_that_changed_is_answered_with_the_state(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        firing = buttons(await a_firing_card(telegram))
        assert await ask(telegram, BOB, "/resolve 1") == "Incident #1 resolved by Bob."
        card = await card_with(telegram, 1, says="resolved")  # a resolved card has no buttons

        answers = await unchanged_by(
            telegram, howl, *((ALICE, card, data, ONCALL) for data in firing.values())
        )

        assert answers == ["Incident #1 is resolved now; nothing changed."] * 3


async def test_forged_truncated_or_unknown_data_changes_nothing(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        card = await a_firing_card(telegram)
        resolve = buttons(card)["Resolve"]
        _, _, mac = resolve.rpartition(":")
        bad = [
            resolve[:-1],  # truncated
            resolve[: len(resolve) // 2],
            resolve.replace("i:1:", "i:2:", 1),  # someone else's incident, same MAC
            f"i:1:r:f:{'A' * len(mac)}",  # made up
            CallbackCodec(bytes(32)).encode("i", "1", "r", "f"),  # another Howl's key
            "resolve 1",
            "🙂",
        ]

        answers = await unchanged_by(telegram, howl, *((BOB, card, data, ONCALL) for data in bad))

        assert answers == [NOT_OURS] * len(bad)
        assert NOT_OURS == "This button is not valid; nothing changed."


async def test_buttons_keep_working_after_a_restart(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        card = await a_firing_card(telegram)
        await howl.stop()
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        # the key was made on the first run and kept in the database
        assert await press(telegram, BOB, card, buttons(card)["Ack"]) == (
            "Incident #1 acknowledged by Bob."
        )
        await card_with(telegram, 1, "Unack", "Silence 1h", "Resolve", says="acknowledged")


async def test_a_press_telegram_no_longer_lets_us_answer_still_acts_quietly(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        card = await a_firing_card(telegram)
        # a query the emulator never issued: answering it fails as a too-old one does
        await telegram.emulator.inject_update(
            {
                "callback_query": {
                    "id": "expired-query",
                    "from": telegram.emulator.users[BOB],
                    "message": card.to_api(),
                    "chat_instance": str(ONCALL),
                    "data": buttons(card)["Ack"],
                }
            }
        )

        card = await card_with(telegram, 1, "Unack", "Silence 1h", "Resolve", says="acknowledged")
        assert audit(howl)[-1] == ("tg:502", "incident.ack", "incident:1")
        await wait_for(lambda: "press_answer_failed" in howl.logs(), what="the failure logged")
        replies = telegram.emulator.bot_messages(ONCALL)
        assert [m.text for m in replies if m.reply_to and not is_decision_card(m)] == [
            "Opened 🔴 #1 payments failing — 🔥 firing"
        ], "no 'something went wrong' for a change that was made"
