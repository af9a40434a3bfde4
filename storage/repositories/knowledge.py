"""Runbooks and anti-patterns on the knowledge_entries table: implements
`core.knowledge.ports.KnowledgeStore`.

A review changes a row only while it is a draft: the update's WHERE says so,
so of two presses racing each other exactly one changes the row and the other
reads back the decision already made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.knowledge.models import EntryKind, EntryStatus, KnowledgeEntry, NewEntry
from storage.db import read_session
from storage.tables import IncidentRow, KnowledgeEntryRow


def _entry(row: KnowledgeEntryRow) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row.id,
        kind=EntryKind(row.kind),
        status=EntryStatus(row.status),
        symptoms_hash=row.symptoms_hash,
        symptoms={str(k): str(v) for k, v in (row.symptoms or {}).items()},
        incident_id=row.incident_id,
        action=row.action,
        arguments={str(k): str(v) for k, v in (row.arguments or {}).items()},
        title=row.title,
        body=row.body,
        minimal=row.minimal,
        created_at=row.created_at,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
    )


class SqlKnowledgeStore:
    """Implements `core.knowledge.ports.KnowledgeStore`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, entry: NewEntry) -> KnowledgeEntry:
        values = entry.model_dump(mode="python")
        values["kind"], values["status"] = entry.kind.value, entry.status.value
        row = KnowledgeEntryRow(**values)
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            return _entry(row)

    async def get(self, entry_id: int) -> KnowledgeEntry | None:
        async with read_session(self._sessions) as session:
            row = await session.get(KnowledgeEntryRow, entry_id)
        return _entry(row) if row is not None else None

    async def review(
        self, entry_id: int, status: EntryStatus, *, by: str, at: datetime
    ) -> tuple[KnowledgeEntry | None, bool]:
        async with self._sessions.begin() as session:
            changed = await session.execute(
                update(KnowledgeEntryRow)
                .where(
                    KnowledgeEntryRow.id == entry_id,
                    KnowledgeEntryRow.status == EntryStatus.DRAFT.value,
                )
                .values(status=status.value, reviewed_by=by[:120], reviewed_at=at)
            )
            row = await session.get(KnowledgeEntryRow, entry_id, populate_existing=True)
            if row is None:
                return None, False
            return _entry(row), bool(getattr(changed, "rowcount", 0))

    async def recent(
        self,
        *,
        limit: int,
        kind: EntryKind | None = None,
        status: EntryStatus | None = None,
    ) -> list[KnowledgeEntry]:
        query = select(KnowledgeEntryRow)
        if kind is not None:
            query = query.where(KnowledgeEntryRow.kind == kind.value)
        if status is not None:
            query = query.where(KnowledgeEntryRow.status == status.value)
        query = query.order_by(KnowledgeEntryRow.id.desc()).limit(limit)
        async with read_session(self._sessions) as session:
            return [_entry(row) for row in await session.scalars(query)]

    async def usable(
        self, *, anti_patterns_since: datetime, symptoms_hash: str | None, limit: int
    ) -> list[KnowledgeEntry]:
        published = KnowledgeEntryRow.status == EntryStatus.PUBLISHED.value
        query = select(KnowledgeEntryRow).where(
            published,
            or_(
                KnowledgeEntryRow.kind == EntryKind.RUNBOOK.value,
                and_(
                    KnowledgeEntryRow.kind == EntryKind.ANTI_PATTERN.value,
                    KnowledgeEntryRow.created_at > anti_patterns_since,
                ),
            ),
        )
        if symptoms_hash is not None:
            query = query.where(KnowledgeEntryRow.symptoms_hash == symptoms_hash)
        query = query.order_by(KnowledgeEntryRow.id.desc()).limit(limit)
        async with read_session(self._sessions) as session:
            return [_entry(row) for row in await session.scalars(query)]

    async def incidents_with(
        self, symptoms_hash: str, *, limit: int, excluding: int | None = None
    ) -> list[int]:
        query = select(IncidentRow.id).where(IncidentRow.symptoms_hash == symptoms_hash)
        if excluding is not None:
            query = query.where(IncidentRow.id != excluding)
        query = query.order_by(IncidentRow.id.desc()).limit(limit)
        async with read_session(self._sessions) as session:
            return list(await session.scalars(query))
