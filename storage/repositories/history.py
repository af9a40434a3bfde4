"""An incident's neighbours in time and in kind: implements `core.debate.ports.IncidentHistory`.

Reads only, each in a read session (it neither waits for intake nor makes
intake wait), over the incident tables as the incident store writes them.

`PastIncident.decision_summary` and `recommended_tool` are None here: they are
filled from the latest decision of each past incident once decision packages
are stored in their own table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.alerting.models import Incident, IncidentView
from core.debate.models import PastIncident, RelatedAlert
from storage.db import read_session
from storage.repositories.incidents import _view
from storage.tables import AlertRow, IncidentRow

#: a sender's clock may run ahead of ours: an alert received up to this long before the
#: window opened can still say it started inside it
CLOCK_SKEW = timedelta(hours=1)


class SqlIncidentHistory:
    """The incident, alerts of other incidents near it in time, earlier incidents like it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, incident_id: int) -> IncidentView | None:
        """The incident's view, as its card shows it (firing alerts first).

        Without its debate's progress: the evidence is read by that debate.
        """
        async with read_session(self._sessions) as session:
            return await _view(session, incident_id, debate=False)

    async def related_alerts(
        self, incident: Incident, *, since: datetime, until: datetime, limit: int
    ) -> list[RelatedAlert]:
        """Alerts of other incidents that started between `since` and `until`, newest first.

        Each alert once per incident, in the last state it had there (the history
        keeps every state; an alert that fired again elsewhere is in both).
        """
        # Only incidents changed since the window opened can hold an alert that started
        # in it; going through them uses the alerts' incident index, not a scan by time.
        nearby = select(IncidentRow.id).where(
            IncidentRow.updated_at >= since - CLOCK_SKEW, IncidentRow.id != incident.id
        )
        latest = (
            select(func.max(AlertRow.id))
            .where(AlertRow.incident_id.in_(nearby))
            .where(AlertRow.starts_at >= since, AlertRow.starts_at <= until)
            .group_by(AlertRow.incident_id, AlertRow.fingerprint)
        )
        query = (
            select(AlertRow)
            .where(AlertRow.id.in_(latest))
            .order_by(AlertRow.starts_at.desc(), AlertRow.id.desc())
            .limit(limit)
        )
        async with read_session(self._sessions) as session:
            rows = (await session.scalars(query)).all()
        return [
            RelatedAlert(
                incident_id=row.incident_id,
                name=row.name,
                severity=row.severity,
                status=row.status,
                labels=row.labels,
                starts_at=row.starts_at,
            )
            for row in rows
            if row.incident_id is not None
        ]

    async def similar_incidents(self, incident: Incident, *, limit: int) -> list[PastIncident]:
        """Earlier incidents with the same group key or title, newest first, with their outcome."""
        query = (
            select(IncidentRow)
            .where(IncidentRow.id < incident.id)
            .where(
                or_(
                    IncidentRow.group_key == incident.group_key, IncidentRow.title == incident.title
                )
            )
            .order_by(IncidentRow.id.desc())
            .limit(limit)
        )
        async with read_session(self._sessions) as session:
            rows = (await session.scalars(query)).all()
        return [
            PastIncident(
                incident_id=row.id,
                title=row.title,
                status=row.status,
                created_at=row.created_at,
                resolved_at=row.resolved_at,
                resolved_by=row.resolved_by,
            )
            for row in rows
        ]
