"""The append-only audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit import AuditEntry
from storage.db import read_session
from storage.tables import AuditRow


class SqlAuditLog:
    """Implements `core.ports.AuditLog`; rows are inserted, never updated."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def append(self, entry: AuditEntry) -> None:
        async with self._sessions.begin() as session:
            session.add(AuditRow(**entry.model_dump()))

    async def recent(self, *, subject: str | None = None, limit: int = 50) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(AuditRow.subject == subject)
        async with read_session(self._sessions) as session:
            rows = (await session.scalars(query)).all()
        return [
            AuditEntry(
                at=row.at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                detail=row.detail,
            )
            for row in rows
        ]
