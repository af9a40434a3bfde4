"""What the outbox's parts share: delivery statuses, and building and reading outbox rows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.messages import DIGEST_KEY_PREFIX, Keyboard, OutboundKind, OutboundMessage
from core.ports import Clock
from storage.tables import OutboxRow

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
#: a card's first send that a storm digest stands in for, owed once the chat has room
#: (see digests.py); SETTLED: the same for a card whose subject closed meanwhile,
#: which stays a digest line
FOLDED, SETTLED = "folded", "settled"
#: card keys of storm digests; their text is rendered by the bot at delivery time
DIGEST_PREFIX = DIGEST_KEY_PREFIX


def is_digest(card_key: str | None) -> bool:
    return card_key is not None and card_key.startswith(DIGEST_PREFIX)


def keyboard_json(keyboard: Keyboard | None) -> Any:
    if keyboard is None:
        return None
    return [[button.model_dump(exclude_none=True) for button in row] for row in keyboard]


def content_hash(*parts: Any) -> str:
    """A stable hash of what a chat message shows, so an unchanged card queues nothing."""
    payload = json.dumps(list(parts), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def new_row(now: datetime, chat_id: int, kind: OutboundKind, **fields: Any) -> OutboxRow:
    """A pending delivery, due now."""
    return OutboxRow(
        chat_id=chat_id,
        kind=kind.value,
        status=PENDING,
        attempts=0,
        not_before=now,
        created_at=now,
        **fields,
    )


def to_message(row: OutboxRow, *, digest_lines: Sequence[str] | None = None) -> OutboundMessage:
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
            "digest_lines": None if digest_lines is None else tuple(digest_lines),
        }
    )


async def queued_for(session: AsyncSession, key: str) -> Sequence[OutboxRow]:
    """The card's deliveries still owed (pending or in flight), oldest first."""
    query = (
        select(OutboxRow)
        .where(OutboxRow.card_key == key, OutboxRow.status.in_((PENDING, SENDING)))
        .order_by(OutboxRow.id)
    )
    return (await session.scalars(query)).all()


class Signal:
    """Wakes whoever drains the outbox (the delivery worker) after something was queued."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def notify(self) -> None:
        for listener in self._listeners:
            listener()


class OutboxPart:
    """What each part of the outbox is built over: the database, the clock, the wake-up."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, signal: Signal
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._signal = signal
