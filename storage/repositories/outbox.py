"""The outbox: every chat delivery, durable until Telegram has taken it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.messages import Card, Keyboard, OutboundKind, OutboundMessage, Priority, Rendered
from core.ports import Clock
from storage.db import read_session
from storage.tables import CardRow, OutboxRow

PENDING, SENDING, SENT, DEAD, FOLDED = "pending", "sending", "sent", "dead", "folded"
DIGEST_PREFIX = "digest:"
#: lines a digest card lists before a new digest starts
DIGEST_MEMBERS = 40
#: a digest older than this is closed: new folds start a fresh one
DIGEST_OPEN_FOR = timedelta(minutes=10)

DigestRenderer = Callable[[Sequence[str]], Rendered]


def _plain_digest(lines: Sequence[str]) -> Rendered:
    return Rendered(text="\n".join([f"{len(lines)} new incident(s)", *lines]))


def _keyboard_json(keyboard: Keyboard | None) -> Any:
    if keyboard is None:
        return None
    return [[button.model_dump(exclude_none=True) for button in row] for row in keyboard]


def _content_hash(content: Rendered) -> str:
    payload = json.dumps([content.text, _keyboard_json(content.keyboard)], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _to_message(row: OutboxRow) -> OutboundMessage:
    return OutboundMessage.model_validate(
        {
            "id": row.id,
            "chat_id": row.chat_id,
            "kind": row.kind,
            "text": row.text,
            "keyboard": row.keyboard,
            "card_key": row.card_key,
            "message_id": row.message_id,
            "reply_to_message_id": row.reply_to_message_id,
            "priority": row.priority,
            "attempts": row.attempts,
            "not_before": row.not_before,
            "created_at": row.created_at,
        }
    )


class SqlOutbox:
    """Implements `core.ports.Outbox`.

    Cards converge: while a card's send or edit is still pending, a newer
    content replaces the queued text instead of queueing another delivery, so
    a flapping alert costs one message, not one per flap.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        digest_renderer: DigestRenderer = _plain_digest,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._render_digest = digest_renderer
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each enqueue (the delivery worker's wake-up)."""
        self._listeners.append(listener)

    def notify(self) -> None:
        """Wake the delivery worker; call after committing a `put_card_in`."""
        self._notify()

    async def put_card_in(self, session: AsyncSession, card: Card) -> bool:
        """`put_card` inside the caller's transaction, so the card commits with its subject.

        Returns whether a delivery was queued; the caller notifies after commit.
        """
        return await self._put_card(session, card, _content_hash(card.content))

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()

    def _new_row(self, chat_id: int, kind: OutboundKind, **fields: Any) -> OutboxRow:
        now = self._clock.now()
        return OutboxRow(
            chat_id=chat_id,
            kind=kind.value,
            status=PENDING,
            attempts=0,
            not_before=now,
            created_at=now,
            **fields,
        )

    async def reply(
        self,
        chat_id: int,
        content: Rendered,
        *,
        reply_to_message_id: int | None = None,
        priority: int = Priority.REPLY,
    ) -> int:
        row = self._new_row(
            chat_id,
            OutboundKind.SEND,
            text=content.text,
            keyboard=_keyboard_json(content.keyboard),
            reply_to_message_id=reply_to_message_id,
            priority=priority,
        )
        async with self._sessions.begin() as session:
            session.add(row)
        self._notify()
        return row.id

    async def put_card(self, card: Card) -> None:
        digest = _content_hash(card.content)
        async with self._sessions.begin() as session:
            changed = await self._put_card(session, card, digest)
        if changed:
            self._notify()

    async def _put_card(self, session: AsyncSession, card: Card, digest: str) -> bool:
        now = self._clock.now()
        text, keyboard = card.content.text, _keyboard_json(card.content.keyboard)
        row = await session.get(CardRow, card.key, with_for_update=True)
        if row is not None and row.content_hash == digest:
            return False
        if row is None:
            session.add(
                CardRow(
                    key=card.key,
                    chat_id=card.chat_id,
                    content_hash=digest,
                    digest_line=card.digest_line,
                    created_at=now,
                    updated_at=now,
                )
            )
            session.add(self._card_delivery(card, OutboundKind.SEND, text, keyboard))
            return True
        row.content_hash, row.updated_at = digest, now
        if row.digest_key is not None:
            # Folded into a storm digest: the card shows as its line there.
            if row.digest_line != card.digest_line:
                row.digest_line = card.digest_line
                await self._refresh_digest(session, row.digest_key, row.chat_id)
            return True
        row.digest_line = card.digest_line
        queued = await self._queued(session, card.key)
        wanted = OutboundKind.SEND if row.message_id is None else OutboundKind.EDIT
        same = [q for q in queued if q.status == PENDING and q.kind == wanted.value]
        if same:
            same[-1].text, same[-1].keyboard = text, keyboard
            return True
        sending = any(q.status == SENDING and q.kind == OutboundKind.SEND for q in queued)
        # A send in flight will give the card its message id: queue an edit of it.
        kind = OutboundKind.EDIT if sending else wanted
        session.add(self._card_delivery(card, kind, text, keyboard, update=True))
        return True

    def _card_delivery(
        self, card: Card, kind: OutboundKind, text: str, keyboard: Any, *, update: bool = False
    ) -> OutboxRow:
        priority = card.priority
        if update and kind == OutboundKind.EDIT:
            priority = min(card.priority, Priority.CARD_UPDATE)
        return self._new_row(
            card.chat_id, kind, card_key=card.key, text=text, keyboard=keyboard, priority=priority
        )

    async def _queued(self, session: AsyncSession, key: str) -> Sequence[OutboxRow]:
        query = (
            select(OutboxRow)
            .where(OutboxRow.card_key == key, OutboxRow.status.in_((PENDING, SENDING)))
            .order_by(OutboxRow.id)
        )
        return (await session.scalars(query)).all()

    async def pending_new_cards(self, chat_id: int) -> int:
        """How many first sends of cards wait for this chat (the storm gauge)."""
        query = select(func.count()).where(*self._new_card_filter(chat_id))
        async with read_session(self._sessions) as session:
            return int(await session.scalar(query) or 0)

    async def fold_new_cards(self, chat_id: int) -> int:
        """Fold every waiting first send of a card into digest cards; returns how many.

        Each folded card becomes one line of a digest (its `digest_line`), so a
        storm of new incidents costs a message or two instead of one each.
        """
        async with self._sessions.begin() as session:
            query = select(OutboxRow).where(*self._new_card_filter(chat_id)).order_by(OutboxRow.id)
            rows = (await session.scalars(query)).all()
            key, members = await self._open_digest(session, chat_id)
            touched: set[str] = set()
            for row in rows:
                assert row.card_key is not None
                row.status, row.last_error = FOLDED, "folded into a storm digest"
                card = await session.get(CardRow, row.card_key, with_for_update=True)
                if card is None:
                    continue
                if members >= DIGEST_MEMBERS:
                    key, members = self._new_digest_key(chat_id, len(touched)), 0
                card.digest_key = key
                card.digest_line = card.digest_line or row.text.split("\n", 1)[0]
                members += 1
                touched.add(key)
            await session.flush()
            for digest_key in sorted(touched):
                await self._refresh_digest(session, digest_key, chat_id)
        if rows:
            self._notify()
        return len(rows)

    @staticmethod
    def _new_card_filter(chat_id: int) -> tuple[Any, ...]:
        return (
            OutboxRow.chat_id == chat_id,
            OutboxRow.status == PENDING,
            OutboxRow.kind == OutboundKind.SEND.value,
            OutboxRow.card_key.is_not(None),
            OutboxRow.card_key.not_like(f"{DIGEST_PREFIX}%"),
            OutboxRow.priority >= Priority.CARD_NEW,
        )

    async def _open_digest(self, session: AsyncSession, chat_id: int) -> tuple[str, int]:
        """The chat's newest digest and its size while it is recent, else a new key."""
        now = self._clock.now()
        latest = await session.scalar(
            select(CardRow)
            .where(CardRow.chat_id == chat_id, CardRow.key.like(f"{DIGEST_PREFIX}%"))
            .order_by(CardRow.created_at.desc(), CardRow.key.desc())
            .limit(1)
        )
        if latest is not None and latest.created_at > now - DIGEST_OPEN_FOR:
            members = await session.scalar(
                select(func.count()).where(CardRow.digest_key == latest.key)
            )
            return latest.key, int(members or 0)
        return self._new_digest_key(chat_id, 0), 0

    def _new_digest_key(self, chat_id: int, serial: int) -> str:
        stamp = int(self._clock.now().timestamp() * 1000)
        return f"{DIGEST_PREFIX}{chat_id}:{stamp}-{serial}"

    async def _refresh_digest(self, session: AsyncSession, key: str, chat_id: int) -> None:
        lines = (
            await session.scalars(
                select(CardRow.digest_line)
                .where(CardRow.digest_key == key)
                .order_by(CardRow.created_at, CardRow.key)
            )
        ).all()
        content = self._render_digest([line or "" for line in lines])
        card = Card(key=key, chat_id=chat_id, content=content, priority=Priority.DIGEST)
        await self._put_card(session, card, _content_hash(content))

    async def delete_card(self, key: str) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(CardRow, key, with_for_update=True)
            if row is None:
                return
            for queued in await self._queued(session, key):
                if queued.status == PENDING:
                    queued.status, queued.last_error = DEAD, "card deleted"
            if row.message_id is not None:
                session.add(
                    self._new_row(
                        row.chat_id,
                        OutboundKind.DELETE,
                        message_id=row.message_id,
                        priority=Priority.CARD_UPDATE,
                    )
                )
            await session.delete(row)
        self._notify()

    async def due(self, *, now: datetime, limit: int) -> Sequence[OutboundMessage]:
        query = (
            select(OutboxRow)
            .where(OutboxRow.status == PENDING, OutboxRow.not_before <= now)
            .order_by(OutboxRow.priority, OutboxRow.id)
            .limit(limit)
        )
        async with read_session(self._sessions) as session:
            return [_to_message(row) for row in (await session.scalars(query)).all()]

    async def next_due_at(self) -> datetime | None:
        """When the earliest postponed delivery becomes due."""
        async with read_session(self._sessions) as session:
            return await session.scalar(
                select(func.min(OutboxRow.not_before)).where(OutboxRow.status == PENDING)
            )

    async def claim(self, item_id: int) -> OutboundMessage | None:
        """Take a pending delivery for sending; None when someone else has it."""
        async with self._sessions.begin() as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None or row.status != PENDING:
                return None
            is_card_edit = row.kind == OutboundKind.EDIT and row.card_key is not None
            if is_card_edit and not await self._resolve_edit(session, row):
                return None
            row.status = SENDING
            return _to_message(row)

    async def _resolve_edit(self, session: AsyncSession, row: OutboxRow) -> bool:
        """Point a card edit at the card's message; False when the edit is moot."""
        assert row.card_key is not None
        card = await session.get(CardRow, row.card_key)
        if card is None or card.digest_key is not None:
            # The card is gone, or now lives as a digest line: nothing to edit.
            row.status, row.last_error = DEAD, "the card no longer has a message of its own"
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

    async def release(self, item_id: int, *, not_before: datetime) -> None:
        """Give a claimed delivery back untouched (its chat had no budget left)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id, OutboxRow.status == SENDING)
                .values(status=PENDING, not_before=not_before)
            )

    async def card_message_id(self, key: str) -> int | None:
        async with read_session(self._sessions) as session:
            row = await session.get(CardRow, key)
            return row.message_id if row is not None else None

    async def mark_sent(self, item_id: int, *, message_id: int | None, at: datetime) -> None:
        async with self._sessions.begin() as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None:
                return
            row.status, row.sent_at, row.last_error = SENT, at, None
            if message_id is not None:
                row.message_id = message_id
            if row.kind == OutboundKind.SEND and row.card_key is not None:
                card = await session.get(CardRow, row.card_key, with_for_update=True)
                if card is not None:
                    card.message_id = message_id

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
                # The card never reached the chat: forget it, so its next
                # change is sent afresh instead of editing nothing.
                await session.execute(delete(CardRow).where(CardRow.key == row.card_key))
                await session.execute(
                    update(OutboxRow)
                    .where(OutboxRow.card_key == row.card_key, OutboxRow.status == PENDING)
                    .values(status=DEAD, last_error="the card's first send failed")
                )

    async def repost_card(self, item_id: int) -> None:
        """The card's message is gone from the chat: turn this edit into a fresh send."""
        async with self._sessions.begin() as session:
            row = await session.get(OutboxRow, item_id, with_for_update=True)
            if row is None or row.card_key is None:
                return
            card = await session.get(CardRow, row.card_key, with_for_update=True)
            if card is not None:
                card.message_id = None
            row.kind, row.message_id, row.status = OutboundKind.SEND.value, None, PENDING
        self._notify()

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
