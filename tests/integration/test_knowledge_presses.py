"""Publish / Reject on a runbook review card, pressed through the real `howl run` and the
emulated Telegram: approvers only, once; the card is edited to say who decided.

The draft and its card are written into the process's database the way the knowledge
service writes them (the execution that would write them belongs to the approval flow):
the process's delivery worker posts the card like any other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import load_buttons_key
from bot.handlers.knowledge import NOT_AN_APPROVER
from bot.keyboards import CallbackCodec
from bot.playground.botapi import StoredMessage
from bot.render.knowledge import knowledge_card
from core.knowledge.models import EntryKind, EntryStatus, KnowledgeEntry, NewEntry
from core.ports import SystemClock
from storage.db import create_engine, session_factory
from storage.repositories import SqlKnowledgeStore, SqlOutbox
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_buttons import buttons, press
from tests.integration.test_incident_commands import ask, card_says
from tests.servers.telegram import wait_for


def db_path(howl: HowlProcess) -> str:
    return howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")


async def seed_draft(howl: HowlProcess, incident_id: int) -> KnowledgeEntry:
    """A draft runbook and its review card, as `KnowledgeService` leaves them."""
    engine = create_engine(howl.env["HOWL_DATABASE_URL"])
    try:
        sessions = session_factory(engine)
        entry = await SqlKnowledgeStore(sessions).add(
            NewEntry(
                kind=EntryKind.RUNBOOK,
                status=EntryStatus.DRAFT,
                symptoms_hash="0123456789abcdef",
                symptoms={"alert": "ledger wedged"},
                incident_id=incident_id,
                action="restart_deployment",
                arguments={"name": "ledger", "namespace": "prod"},
                title="Unwedge the <ledger>",
                body="# Unwedge the <ledger>\n\n## Symptoms\n- wedged\n\n## Root cause\n- lock\n",
                created_at=datetime.now(UTC),
            )
        )
        codec = CallbackCodec(await load_buttons_key(engine))
        card = knowledge_card(entry, chat_id=ONCALL, buttons=codec, window=timedelta(days=7))
        await SqlOutbox.over(sessions, SystemClock()).cards.put_card(card)
        return entry
    finally:
        await engine.dispose()


def review_card(world: TelegramWorld, entry_id: int) -> StoredMessage | None:
    found = [
        m for m in world.emulator.bot_messages(ONCALL) if m.text.startswith("📘 Runbook")
        and f"#{entry_id} " in m.text.split("\n")[0]
    ]  # fmt: skip
    assert len(found) <= 1, "one review card, edited in place"
    return found[0] if found else None


def card_where(
    world: TelegramWorld, entry_id: int, shows: Callable[[StoredMessage], bool]
) -> StoredMessage | None:
    found = review_card(world, entry_id)
    return found if found is not None and shows(found) else None


def status_of(howl: HowlProcess, entry_id: int) -> tuple[str, str | None]:
    with sqlite3.connect(db_path(howl)) as db:
        row = db.execute(
            "SELECT status, reviewed_by FROM knowledge_entries WHERE id = ?", (entry_id,)
        ).fetchone()
    return row[0], row[1]


async def test_only_an_approver_decides_a_draft_and_only_once(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        await ask(telegram, ALICE, "/alert critical ledger wedged")
        await card_says(telegram, 1, "firing")
        entry = await seed_draft(howl, 1)
        card = await wait_for(
            lambda: card_where(telegram, entry.id, lambda m: bool(buttons(m))),
            what="the review card with its buttons",
        )
        assert "Unwedge the <ledger>" in card.text and card.reply_to is not None
        data = buttons(card)
        assert list(data) == ["Publish", "Reject"]

        assert await press(telegram, BOB, card, data["Publish"]) == NOT_AN_APPROVER
        assert status_of(howl, entry.id) == ("draft", None)

        assert (
            await press(telegram, ALICE, card, data["Reject"]) == f"Runbook #{entry.id} rejected."
        )
        assert status_of(howl, entry.id) == ("rejected", "Alice")
        edited = await wait_for(
            lambda: card_where(telegram, entry.id, lambda m: "Rejected" in m.text),
            what="the card edited to say who rejected it",
        )
        assert buttons(edited) == {} and "Rejected by Alice" in edited.text

        # the old buttons, pressed again: told, nothing changes
        again = await press(telegram, ALICE, card, data["Publish"])
        assert again == f"Runbook #{entry.id} is already rejected by Alice."
        assert status_of(howl, entry.id) == ("rejected", "Alice")

        listing = await ask(telegram, ALICE, "/runbooks")
        assert f"#{entry.id} 🚫 rejected" in listing
        whole = await ask(telegram, ALICE, f"/runbook {entry.id}")
        assert "Root cause" in whole and "lock" in whole
        assert "No runbook or anti-pattern #77" in await ask(telegram, ALICE, "/runbook 77")
