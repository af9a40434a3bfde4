"""The delivery queue: every chat delivery, durable until Telegram has taken it.

Implements `core.ports.Outbox` (what handlers queue and read) and
`core.ports.DeliveryQueue` (what the delivery worker drains). A delivery leaves
the queue only once it was sent, or declared dead with its error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update

from core.messages import (
    DueDelivery,
    DuePlan,
    OutboundKind,
    OutboundMessage,
    Priority,
    Rendered,
)
from storage.db import read_session, write_session
from storage.repositories.outbox.cards import (
    REPLY_RETRY,
    card_posted,
    forget_card,
    message_gone,
    reply_target,
    resolve_edit,
)
from storage.repositories.outbox.converge import digest_lines
from storage.repositories.outbox.rows import (
    DEAD,
    PENDING,
    SENDING,
    SENT,
    OutboxPart,
    is_digest,
    keyboard_json,
    new_row,
    to_message,
)
from storage.tables import OutboxRow


class SqlDeliveryQueue(OutboxPart):
    """Implements `core.ports.Outbox` and `core.ports.DeliveryQueue`."""

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each enqueue (the delivery worker's wake-up)."""
        self._signal.subscribe(listener)

    async def reply(
        self,
        chat_id: int,
        content: Rendered,
        *,
        reply_to_message_id: int | None = None,
        priority: int = Priority.REPLY,
    ) -> int:
        row = new_row(
            self._clock.now(),
            chat_id,
            OutboundKind.SEND,
            text=content.text,
            keyboard=keyboard_json(content.keyboard),
            reply_to_message_id=reply_to_message_id,
            priority=priority,
        )
        async with write_session(self._sessions, urgent=True) as session:
            session.add(row)
        self._signal.notify()
        return row.id

    async def due(self, *, now: datetime, limit: int) -> Sequence[OutboundMessage]:
        query = (
            select(OutboxRow)
            .where(OutboxRow.status == PENDING, OutboxRow.not_before <= now)
            .order_by(OutboxRow.priority, OutboxRow.id)
            .limit(limit)
        )
        async with read_session(self._sessions) as session:
            return [to_message(row) for row in (await session.scalars(query)).all()]

    async def plan(self, *, now: datetime, limit: int) -> DuePlan:
        # columns, not rows: a storm keeps hundreds of deliveries pending, and each round
        # looks at all of them; their texts and keyboards are read only when claimed
        heads = (
            select(
                OutboxRow.id,
                OutboxRow.chat_id,
                OutboxRow.kind,
                OutboxRow.card_key,
                OutboxRow.priority,
            )
            .where(OutboxRow.status == PENDING, OutboxRow.not_before <= now)
            .order_by(OutboxRow.priority, OutboxRow.id)
            .limit(limit)
        )
        # only a time still to come: what is due already is in `due`, and waits (if it
        # must) for a chat's budget or a free lane, which the worker tracks itself
        later = select(func.min(OutboxRow.not_before)).where(
            OutboxRow.status == PENDING, OutboxRow.not_before > now
        )
        async with read_session(self._sessions) as session:
            rows = (await session.execute(heads)).all()
            next_due_at = await session.scalar(later)
        due = tuple(
            DueDelivery(id=i, chat_id=c, kind=OutboundKind(k), card_key=key, priority=p)
            for i, c, k, key, p in rows
        )
        return DuePlan(due=due, next_due_at=next_due_at)

    async def claim(self, item_id: int) -> OutboundMessage | None:
        """Take a pending delivery for sending; None when someone else has it.

        A card edit is pointed at the card's message now, and a digest comes with
        its lines as they are now, so what is sent is always the latest.
        """
        async with write_session(self._sessions, urgent=True) as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None or row.status != PENDING:
                return None
            is_card_edit = row.kind == OutboundKind.EDIT and row.card_key is not None
            if is_card_edit and not await resolve_edit(session, row):
                return None
            if row.reply_to_card is not None and row.reply_to_message_id is None:
                now = self._clock.now()
                answered, wait = await reply_target(
                    session, row.reply_to_card, queued_at=row.created_at, now=now
                )
                if wait:
                    row.not_before = now + REPLY_RETRY
                    return None
                row.reply_to_message_id = answered
            row.status = SENDING
            if is_digest(row.card_key) and row.kind != OutboundKind.DELETE:
                assert row.card_key is not None
                return to_message(row, digest_lines=await digest_lines(session, row.card_key))
            return to_message(row)

    async def release(self, item_id: int, *, not_before: datetime) -> None:
        """Give a claimed delivery back untouched (its chat had no budget left)."""
        async with write_session(self._sessions, urgent=True) as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id, OutboxRow.status == SENDING)
                .values(status=PENDING, not_before=not_before)
            )

    async def mark_sent(self, item_id: int, *, message_id: int | None, at: datetime) -> None:
        async with write_session(self._sessions, urgent=True) as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None:
                return
            row.status, row.sent_at, row.last_error = SENT, at, None
            if message_id is not None:
                row.message_id = message_id
            if row.kind == OutboundKind.SEND and row.card_key is not None:
                await card_posted(session, row.card_key, message_id=message_id, at=at)

    async def mark_retry(self, item_id: int, *, not_before: datetime, error: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(
                    status=PENDING,
                    attempts=OutboxRow.attempts + 1,
                    not_before=not_before,
                    last_error=error[:2000],
                )
            )

    async def mark_dead(self, item_id: int, *, error: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None:
                return
            row.status, row.last_error = DEAD, error[:2000]
            if row.kind == OutboundKind.SEND and row.card_key is not None:
                await forget_card(session, row.card_key)

    async def repost_card(self, item_id: int) -> None:
        """The card's message is gone from the chat: turn this edit into a fresh send."""
        async with self._sessions.begin() as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None or row.card_key is None:
                return
            await message_gone(session, row.card_key)
            row.kind, row.message_id, row.status = OutboundKind.SEND.value, None, PENDING
        self._signal.notify()

    async def recover(self) -> int:
        """At start-up: deliveries a previous process was sending go back to pending."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow).where(OutboxRow.status == SENDING).values(status=PENDING)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    async def sent_since(self, since: datetime) -> Sequence[tuple[int, datetime]]:
        query = select(OutboxRow.chat_id, OutboxRow.sent_at).where(
            OutboxRow.status == SENT, OutboxRow.sent_at >= since
        )
        async with read_session(self._sessions) as session:
            return [(chat, at) for chat, at in (await session.execute(query)).all() if at]

    async def counts(self) -> dict[str, int]:
        query = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        async with read_session(self._sessions) as session:
            found = {status: int(n) for status, n in (await session.execute(query)).all()}
        return {status: found.get(status, 0) for status in (PENDING, SENDING, SENT, DEAD)}

    async def prune(self, *, before: datetime) -> int:
        """Drop delivered rows older than `before`; pending and dead ones stay."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(OutboxRow).where(OutboxRow.status == SENT, OutboxRow.sent_at < before)
            )
            return int(getattr(result, "rowcount", 0) or 0)
