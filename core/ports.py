"""The I/O the domain depends on, as Protocols: one place to plug a fake."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from core.audit import AuditEntry
from core.messages import Card, OutboundMessage, Rendered


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class UpdateLedger(Protocol):
    """Remembers which Telegram updates were handled, so a re-delivery is ignored."""

    async def first_sighting(self, update_id: int, *, chat_id: int | None) -> bool:
        """Record the update; False when it was recorded before."""
        ...


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def recent(self, *, subject: str | None = None, limit: int = 50) -> list[AuditEntry]: ...


class Outbox(Protocol):
    """Durable queue of chat deliveries; the delivery worker drains it."""

    async def reply(
        self,
        chat_id: int,
        content: Rendered,
        *,
        reply_to_message_id: int | None = None,
        priority: int = ...,
    ) -> int:
        """Queue a one-off message; returns its outbox id."""
        ...

    async def put_card(self, card: Card) -> None:
        """Make the chat show this card's content: a send the first time, an edit after."""
        ...

    async def delete_card(self, key: str) -> None: ...

    async def due(self, *, now: datetime, limit: int) -> Sequence[OutboundMessage]:
        """Pending deliveries whose time has come, most urgent first."""
        ...

    async def claim(self, item_id: int) -> OutboundMessage | None:
        """Take a due delivery for sending, with its latest content; None if gone."""
        ...

    async def release(self, item_id: int, *, not_before: datetime) -> None:
        """Give a claimed delivery back untouched, to try again at `not_before`."""
        ...

    async def next_due_at(self) -> datetime | None: ...

    async def recover(self) -> int:
        """Deliveries a dead process was sending become pending again."""
        ...

    async def mark_sent(self, item_id: int, *, message_id: int | None, at: datetime) -> None: ...

    async def mark_retry(self, item_id: int, *, not_before: datetime, error: str) -> None: ...

    async def mark_dead(self, item_id: int, *, error: str) -> None: ...

    async def repost_card(self, item_id: int) -> None:
        """The card's message is gone from the chat: this edit becomes a fresh send."""
        ...

    async def sent_since(self, since: datetime) -> Sequence[tuple[int, datetime]]:
        """(chat_id, sent_at) of deliveries made since then: seeds rate budgets on restart."""
        ...

    async def counts(self) -> dict[str, int]: ...
