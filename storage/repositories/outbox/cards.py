"""Cards: messages with an identity, sent once and edited in place as their subject changes.

Implements `core.ports.CardSink`. The delivery queue calls the session-level
functions below as a card's deliveries succeed or fail, so a card always knows
whether it has a message of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import Card, OutboundKind, Priority
from storage.db import read_session
from storage.repositories.outbox.converge import Showing, converge
from storage.repositories.outbox.rows import (
    DEAD,
    PENDING,
    SENDING,
    OutboxPart,
    content_hash,
    keyboard_json,
    new_row,
    queued_for,
)
from storage.tables import CardRow, OutboxRow


def showing(card: Card) -> Showing:
    keyboard = keyboard_json(card.content.keyboard)
    return Showing(
        key=card.key,
        chat_id=card.chat_id,
        fingerprint=content_hash(card.content.text, keyboard),
        priority=card.priority,
        text=card.content.text,
        keyboard=keyboard,
        digest_line=card.digest_line,
        closed=card.closed,
        reply_to_card=card.reply_to_card,
    )


class SqlCards(OutboxPart):
    """Implements `core.ports.CardSink`."""

    async def put_card(self, card: Card) -> None:
        async with self._sessions.begin() as session:
            changed = await self.put_in(session, card)
        if changed:
            self._signal.notify()

    async def put_in(self, session: AsyncSession, card: Card) -> bool:
        """`put_card` inside the caller's transaction, so the card commits with its subject.

        Returns whether a delivery was queued; the caller calls `notify` after commit.
        """
        return await converge(session, showing(card), now=self._clock.now())

    def notify(self) -> None:
        """Wake the delivery worker; call after committing a `put_in`."""
        self._signal.notify()

    async def delete_card(self, key: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(CardRow, key, with_for_update=True)
            if row is None:
                return
            for queued in await queued_for(session, key):
                if queued.status == PENDING:
                    queued.status, queued.last_error = DEAD, "card deleted"
            if row.message_id is not None:
                session.add(
                    new_row(
                        self._clock.now(),
                        row.chat_id,
                        OutboundKind.DELETE,
                        message_id=row.message_id,
                        priority=Priority.CARD_UPDATE,
                    )
                )
            await session.delete(row)
        self._signal.notify()

    async def card_message_id(self, key: str) -> int | None:
        async with read_session(self._sessions) as session:
            row = await session.get(CardRow, key)
            return row.message_id if row is not None else None


#: how long a card that answers another waits for that card's first message, then goes alone
REPLY_WAIT = timedelta(seconds=60)
#: how soon a send held for its card's message is looked at again
REPLY_RETRY = timedelta(seconds=1)


async def reply_target(
    session: AsyncSession, key: str, *, queued_at: datetime, now: datetime
) -> tuple[int | None, bool]:
    """For a send answering card `key`: (the message to reply to, whether to wait for it).

    A decision can be ready before its incident's card is even queued (the card
    settles first): it waits for that card's first send, so the chat reads
    incident, then decision. Not forever: a card folded into a storm digest has
    no message to answer, and after `REPLY_WAIT` the answer goes alone.
    """
    target = await session.get(CardRow, key)
    if target is not None and target.message_id is not None:
        return target.message_id, False
    if now - queued_at >= REPLY_WAIT:
        return None, False
    if target is None:
        return None, True  # the card it answers is about to be queued
    owed = await queued_for(session, key)
    return None, any(q.kind == OutboundKind.SEND.value for q in owed)


async def resolve_edit(session: AsyncSession, row: OutboxRow) -> bool:
    """Point a card edit at the card's message; False when the edit is moot."""
    assert row.card_key is not None
    card = await session.get(CardRow, row.card_key)
    if card is None:
        row.status, row.last_error = DEAD, "the card no longer exists"
        return False
    row.message_id = card.message_id
    if card.message_id is None:
        first_send = await session.scalar(
            select(func.count()).where(
                OutboxRow.card_key == row.card_key,
                OutboxRow.kind == OutboundKind.SEND.value,
                OutboxRow.status.in_((PENDING, SENDING)),
            )
        )
        if not first_send:
            # The first send failed or never came: this edit posts the card.
            row.kind = OutboundKind.SEND.value
    return True


async def card_posted(
    session: AsyncSession, key: str, *, message_id: int | None, at: datetime
) -> None:
    """The card's first send went through: remember its message for later edits, and let
    the sends held for it (`reply_target`) go now instead of at their next look."""
    card = await session.get(CardRow, key, with_for_update=True)
    if card is not None:
        card.message_id = message_id
    # a decision ready before its incident's card waited REPLY_RETRY (1 s) more after the
    # card was out: most of an alert-to-decision time when the card was late to settle
    await session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.status == PENDING,
            OutboxRow.reply_to_card == key,
            OutboxRow.reply_to_message_id.is_(None),
            OutboxRow.attempts == 0,  # held, never tried: a backoff keeps its own time
            OutboxRow.not_before > at,
        )
        .values(not_before=at)
    )


async def forget_card(session: AsyncSession, key: str) -> None:
    """The card never reached the chat: forget it, so its next change is sent afresh
    instead of editing nothing."""
    await session.execute(delete(CardRow).where(CardRow.key == key))
    await session.execute(
        update(OutboxRow)
        .where(OutboxRow.card_key == key, OutboxRow.status == PENDING)
        .values(status=DEAD, last_error="the card's first send failed")
    )


async def message_gone(session: AsyncSession, key: str) -> None:
    """Someone deleted the card's message: it has none until it is posted again."""
    card = await session.get(CardRow, key, with_for_update=True)
    if card is not None:
        card.message_id = None
