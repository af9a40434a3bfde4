"""The I/O the domain depends on, as Protocols: one place to plug a fake."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from core.audit import AuditEntry
from core.messages import Card, DuePlan, OutboundMessage, Rendered


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

    async def count(self) -> int:
        """How many updates are remembered (for /status)."""
        ...

    async def prune(self, *, before: datetime) -> int:
        """Forget updates seen before `before`; returns how many."""
        ...


class AuditLog(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...

    async def recent(self, *, subject: str | None = None, limit: int = 50) -> list[AuditEntry]: ...


class Outbox(Protocol):
    """What handlers and HTTP routes do with the outbox: answer people, read its counts."""

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

    async def counts(self) -> dict[str, int]:
        """Deliveries by status: pending, sending, sent, dead."""
        ...

    async def prune(self, *, before: datetime) -> int:
        """Forget deliveries made before `before`; returns how many."""
        ...


class CardSink(Protocol):
    """Where rendered cards go: the chat is made to show each card's latest content."""

    async def put_card(self, card: Card) -> None:
        """A send the first time, a (coalesced) edit after."""
        ...

    async def delete_card(self, key: str) -> None: ...


class DeliveryQueue(Protocol):
    """What the delivery worker drains: durable deliveries, each claimed before it is sent."""

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever something was queued (the worker's wake-up)."""
        ...

    async def due(self, *, now: datetime, limit: int) -> Sequence[OutboundMessage]:
        """Pending deliveries whose time has come, most urgent first, with their content."""
        ...

    async def plan(self, *, now: datetime, limit: int) -> DuePlan:
        """The worker's round: the headers of what is due (as `due`), and when the earliest
        delivery postponed past `now` falls due."""
        ...

    async def claim(self, item_id: int) -> OutboundMessage | None:
        """Take a due delivery for sending, with its latest content; None if gone."""
        ...

    async def release(self, item_id: int, *, not_before: datetime) -> None:
        """Give a claimed delivery back untouched, to try again at `not_before`."""
        ...

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


class StormDigests(Protocol):
    """How the delivery worker folds new cards a chat cannot take into digests, and
    gives them their own message once the chat has room again."""

    async def pending_new_cards(self, chat_id: int) -> int:
        """How many first sends of cards wait for this chat."""
        ...

    async def fold_new_cards(self, chat_id: int, *, keep: int = 0) -> int:
        """Fold the chat's waiting first sends into digests, all but the `keep` most urgent;
        returns how many were folded."""
        ...

    async def unfold(self, chat_id: int, *, limit: int) -> int:
        """Up to `limit` cards that show only as a digest line (subject still open) get
        their own message again; returns how many."""
        ...

    async def folded_chats(self) -> list[int]:
        """Chats with folded cards still owed a message of their own."""
        ...
