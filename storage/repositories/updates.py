"""Processed Telegram updates: the idempotency ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import Clock
from storage.db import read_session
from storage.tables import ProcessedUpdate


class SqlUpdateLedger:
    """Implements `core.ports.UpdateLedger` on the processed_updates table."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def first_sighting(self, update_id: int, *, chat_id: int | None) -> bool:
        try:
            async with self._sessions.begin() as session:
                session.add(
                    ProcessedUpdate(update_id=update_id, chat_id=chat_id, seen_at=self._clock.now())
                )
        except IntegrityError:
            return False
        return True

    async def count(self) -> int:
        async with read_session(self._sessions) as session:
            return int(await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0)

    async def prune(self, *, before: datetime) -> int:
        """Forget updates older than Telegram could ever re-deliver."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(ProcessedUpdate).where(ProcessedUpdate.seen_at < before)
            )
            return int(getattr(result, "rowcount", 0) or 0)
