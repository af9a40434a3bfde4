"""Drift reports and marks, on the drift_reports and drift_marks tables (migration 0010).

Implements `core.drift.ports.DriftStore`. A report is stored once under its id
(a second save of the same id changes nothing); `set_announced` replaces the
whole announced set in one transaction, so a crash leaves the old set or the
new one, never half of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.drift.models import DriftReport
from core.ports import Clock
from storage.db import read_session
from storage.tables import DriftMarkRow, DriftReportRow

ANNOUNCED = "announced"
IGNORED = "ignored"


class SqlDriftStore:
    """Implements `core.drift.ports.DriftStore`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def save_report(self, report: DriftReport) -> None:
        async with self._sessions.begin() as session:
            if await session.get(DriftReportRow, str(report.id)) is None:
                session.add(
                    DriftReportRow(
                        id=str(report.id),
                        scanned_at=report.scanned_at,
                        summary=report.summary,
                        report=report.model_dump(mode="json"),
                    )
                )

    async def get_report(self, report_id: UUID) -> DriftReport | None:
        async with read_session(self._sessions) as session:
            row = await session.get(DriftReportRow, str(report_id))
            return DriftReport.model_validate(row.report) if row is not None else None

    async def announced(self) -> frozenset[str]:
        return frozenset((await self._marks(ANNOUNCED)).values())

    async def set_announced(self, fingerprints: frozenset[str]) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            await session.execute(delete(DriftMarkRow).where(DriftMarkRow.mark == ANNOUNCED))
            # keyed by fingerprint: the set is all that matters here
            session.add_all(
                DriftMarkRow(mark=ANNOUNCED, subject=f, fingerprint=f, actor=None, created_at=now)
                for f in sorted(fingerprints)
            )

    async def ignored(self) -> Mapping[str, str]:
        return await self._marks(IGNORED)

    async def ignore(self, marks: Mapping[str, str], *, actor: str) -> None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            for subject, fingerprint in marks.items():
                row = await session.get(DriftMarkRow, (IGNORED, subject))
                if row is None:
                    session.add(
                        DriftMarkRow(
                            mark=IGNORED,
                            subject=subject,
                            fingerprint=fingerprint,
                            actor=actor[:200],
                            created_at=now,
                        )
                    )
                else:
                    row.fingerprint, row.actor, row.created_at = fingerprint, actor[:200], now

    async def _marks(self, mark: str) -> dict[str, str]:
        async with read_session(self._sessions) as session:
            rows = await session.execute(
                select(DriftMarkRow.subject, DriftMarkRow.fingerprint).where(
                    DriftMarkRow.mark == mark
                )
            )
            return {subject: fingerprint for subject, fingerprint in rows.all()}
