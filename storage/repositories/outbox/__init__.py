"""The outbox, split by job: the delivery queue, cards, and storm digests.

The three parts share one database and one wake-up signal: whatever one of
them queues wakes the delivery worker. None of them renders anything; cards
arrive rendered, and a digest's lines are rendered by the worker that sends it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import Clock
from storage.repositories.outbox.cards import SqlCards
from storage.repositories.outbox.digests import SqlDigests
from storage.repositories.outbox.queue import SqlDeliveryQueue
from storage.repositories.outbox.rows import Signal


@dataclass(frozen=True)
class SqlOutbox:
    """The outbox's three parts over one database, as the composition root wires them."""

    queue: SqlDeliveryQueue
    cards: SqlCards
    digests: SqlDigests

    @classmethod
    def over(cls, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> SqlOutbox:
        signal = Signal()
        return cls(
            queue=SqlDeliveryQueue(sessions, clock, signal),
            cards=SqlCards(sessions, clock, signal),
            digests=SqlDigests(sessions, clock, signal),
        )


__all__ = ["SqlCards", "SqlDeliveryQueue", "SqlDigests", "SqlOutbox"]
