"""Runs on the runs table: created once per trigger, leased to one worker at a time.

What cannot happen, and why:
- two runs for one (incident, trigger): a unique constraint, and the insert is
  `ON CONFLICT DO NOTHING` followed by a read, so racing creators (threads or
  processes) all get the one row — no check-then-insert window;
- one run claimed by two workers: the candidate rows are read `FOR UPDATE SKIP
  LOCKED` on PostgreSQL (a second claimer skips a row being claimed instead of
  waiting for it) and under the writer lock on SQLite (write transactions
  begin IMMEDIATE, see storage/db.py), and the claiming UPDATE is conditional on
  the version that was read;
- a write based on a stale read: every change goes through
  `core.runs.transition()` and an `UPDATE … WHERE version = <read version>`;
  zero rows updated is `StaleRun`;
- the reaper taking a run that just renewed its lease: its UPDATE also requires
  the lease to be expired still.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.alerting.models import IncidentStatus
from core.errors import NotFoundError
from core.ports import Clock
from core.runs import (
    LEASED_STATES,
    Reaping,
    Run,
    RunEvent,
    RunState,
    StaleRun,
    new_run_id,
    transition,
)
from core.tracecontext import new_traceparent
from storage.db import read_session
from storage.tables import IncidentRow, RunRow

#: pending rows looked at per claim; more than one so a row skipped as locked is not the end
CLAIM_BATCH = 8


def _run(row: RunRow) -> Run:
    return Run(
        id=UUID(row.id),
        incident_id=row.incident_id,
        trigger=row.trigger,
        state=RunState(row.state),
        attempts=row.attempts,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        traceparent=row.traceparent,
        reason=row.reason,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        priority=row.priority,
        stage=row.stage,
        stage_at=row.stage_at,
    )


class SqlRunStore:
    """Implements `core.runs.RunStore`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        #: this process queued a run since a claim last found none: claims go straight to
        #: the write (a hint only; without it a claim reads first, which is always right)
        self._queued_here = False

    async def create(self, incident_id: int, trigger: str, *, priority: int = 0) -> Run:
        now = self._clock.now()
        try:
            async with self._sessions.begin() as session:
                await self._insert(session, [_new(incident_id, trigger, priority, now)])
                row = await session.scalar(
                    select(RunRow).where(
                        RunRow.incident_id == incident_id, RunRow.trigger == trigger
                    )
                )
        except IntegrityError:
            # not the unique key (that conflict does nothing): the incident is missing
            raise NotFoundError(f"No incident #{incident_id}.") from None
        assert row is not None
        self._queued_here = True
        return _run(row)

    async def create_many(self, wanted: Sequence[tuple[int, int]], trigger: str) -> int:
        if not wanted:
            return 0
        now = self._clock.now()
        rows = [_new(i, trigger, p, now) for i, p in wanted]
        try:
            # the incidents were just opened: all there, so no look first
            async with self._sessions.begin() as session:
                made = await self._insert(session, rows)
        except IntegrityError:
            # one is gone (its foreign key refused the batch): only those still there
            async with self._sessions.begin() as session:
                present = set(
                    await session.scalars(
                        select(IncidentRow.id).where(IncidentRow.id.in_([i for i, _ in wanted]))
                    )
                )
                kept = [row for row in rows if row["incident_id"] in present]
                made = await self._insert(session, kept) if kept else 0
        self._queued_here = self._queued_here or made > 0
        return made

    @staticmethod
    async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
        """Insert runs, doing nothing for a (incident, trigger) that has one; how many were new."""
        insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
        result = await session.execute(
            insert(RunRow)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["incident_id", "trigger"])
        )
        return _rowcount(result)

    async def without_run(self, trigger: str, *, opened_since: datetime, limit: int) -> list[int]:
        has_run = select(RunRow.id).where(
            RunRow.incident_id == IncidentRow.id, RunRow.trigger == trigger
        )
        query = (
            select(IncidentRow.id)
            .where(
                IncidentRow.status != IncidentStatus.RESOLVED.value,
                IncidentRow.created_at >= opened_since,
                ~has_run.exists(),
            )
            .order_by(IncidentRow.id)
            .limit(limit)
        )
        async with read_session(self._sessions) as session:
            return list(await session.scalars(query))

    async def leased(self, *, limit: int) -> list[Run]:
        async with read_session(self._sessions) as session:
            rows = await session.scalars(
                select(RunRow)
                .where(RunRow.state.in_([s.value for s in LEASED_STATES]))
                .order_by(RunRow.id)
                .limit(limit)
            )
            return [_run(row) for row in rows]

    async def set_stage(self, run: Run, stage: str) -> bool:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(RunRow)
                .where(
                    RunRow.id == str(run.id),
                    RunRow.lease_owner == run.lease_owner,
                    RunRow.attempts == run.attempts,
                )
                .values(stage=stage, stage_at=now)
            )
            if _rowcount(result) != 1:
                return False
            # the incident's card shows the stage: a newer version makes it owed
            await session.execute(
                update(IncidentRow)
                .where(IncidentRow.id == run.incident_id)
                .values(version=IncidentRow.version + 1)
            )
        return True

    async def for_incident(self, incident_id: int, *, limit: int) -> list[Run]:
        async with read_session(self._sessions) as session:
            rows = await session.scalars(
                select(RunRow)
                .where(RunRow.incident_id == incident_id)
                .order_by(RunRow.id.desc())
                .limit(limit)
            )
            return [_run(row) for row in rows]

    async def get(self, run_id: UUID) -> Run | None:
        async with read_session(self._sessions) as session:
            row = await session.get(RunRow, str(run_id))
        return _run(row) if row is not None else None

    async def recent(self, *, limit: int) -> list[Run]:
        async with read_session(self._sessions) as session:
            rows = await session.scalars(select(RunRow).order_by(RunRow.id.desc()).limit(limit))
            return [_run(row) for row in rows]

    async def claim(self, owner: str, *, lease_for: timedelta, start: bool = False) -> Run | None:
        if not self._queued_here and not await self._any_pending():
            # most claims find nothing (a worker done with its run looks again): a read
            # answers that without queueing for the one writer
            return None
        claimed = await self._claim(owner, lease_for=lease_for, start=start)
        if claimed is None:
            self._queued_here = False
        return claimed

    async def _claim(self, owner: str, *, lease_for: timedelta, start: bool) -> Run | None:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            candidates = await session.scalars(
                select(RunRow)
                .where(RunRow.state == RunState.PENDING.value)
                .order_by(RunRow.priority.desc(), RunRow.id)
                .limit(CLAIM_BATCH)
                .with_for_update(skip_locked=True)
            )
            # claim, then start: both moves checked, written in one statement
            moves = (RunEvent.CLAIM, RunEvent.START) if start else (RunEvent.CLAIM,)
            for run in [_run(row) for row in candidates]:
                claimed = await self._apply(
                    session,
                    run,
                    moves,
                    now=now,
                    reason=run.reason,
                    extra={
                        "attempts": run.attempts + 1,
                        "lease_owner": owner,
                        "lease_expires_at": now + lease_for,
                    },
                )
                if claimed is not None:
                    return claimed
        return None

    async def _any_pending(self) -> bool:
        async with read_session(self._sessions) as session:
            found = await session.scalar(
                select(RunRow.id).where(RunRow.state == RunState.PENDING.value).limit(1)
            )
        return found is not None

    async def heartbeat(self, run: Run, *, lease_for: timedelta) -> bool:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            # the lease is (owner, attempt): a reclaimed run has a later attempt
            result = await session.execute(
                update(RunRow)
                .where(
                    RunRow.id == str(run.id),
                    RunRow.lease_owner == run.lease_owner,
                    RunRow.attempts == run.attempts,
                    RunRow.state.in_([s.value for s in LEASED_STATES]),
                )
                .values(lease_expires_at=now + lease_for)
            )
        return _rowcount(result) == 1

    async def advance(
        self,
        run: Run,
        event: RunEvent,
        *,
        reason: str | None = None,
        lease: tuple[str, timedelta] | None = None,
    ) -> Run:
        now = self._clock.now()
        extra = (
            {"lease_owner": lease[0], "lease_expires_at": now + lease[1]}
            if lease is not None
            else None
        )
        async with self._sessions.begin() as session:
            moved = await self._apply(session, run, event, now=now, reason=reason, extra=extra)
        if moved is None:
            raise StaleRun(f"Run {run.id} changed since it was read.")
        return moved

    async def expired(self, *, limit: int) -> list[Run]:
        async with read_session(self._sessions) as session:
            rows = await session.scalars(
                select(RunRow)
                .where(_lease_expired(self._clock.now()))
                .order_by(RunRow.lease_expires_at)
                .limit(limit)
            )
            return [_run(row) for row in rows]

    async def reap(self, decision: Reaping, *, lease_must_have_expired: bool = True) -> bool:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            moved = await self._apply(
                session,
                decision.run,
                decision.event,
                now=now,
                reason=decision.reason,
                condition=_lease_expired(now) if lease_must_have_expired else None,
            )
        if moved is not None and moved.state is RunState.PENDING:
            self._queued_here = True
        return moved is not None

    async def _apply(
        self,
        session: AsyncSession,
        run: Run,
        event: RunEvent | tuple[RunEvent, ...],
        *,
        now: datetime,
        reason: str | None,
        extra: dict[str, Any] | None = None,
        condition: ColumnElement[bool] | None = None,
    ) -> Run | None:
        """`transition()` written back if the row is still at the version read; else None.

        Several events are applied in order, each checked, and written as one update
        (the version counts every move)."""
        events = event if isinstance(event, tuple) else (event,)
        state = run.state
        for move in events:
            state = transition(state, move)
        values: dict[str, Any] = {
            "state": state.value,
            "version": run.version + len(events),
            "updated_at": now,
            "reason": reason,
        }
        if state not in LEASED_STATES:
            values |= {"lease_owner": None, "lease_expires_at": None}
        values |= extra or {}
        statement = update(RunRow).where(RunRow.id == str(run.id), RunRow.version == run.version)
        if condition is not None:
            statement = statement.where(condition)
        result = await session.execute(statement.values(**values))
        if _rowcount(result) != 1:
            return None
        return run.model_copy(update={**values, "state": state})


def _new(incident_id: int, trigger: str, priority: int, now: datetime) -> dict[str, Any]:
    return {
        "id": str(new_run_id(now)),
        "incident_id": incident_id,
        "trigger": trigger,
        "state": RunState.PENDING.value,
        "attempts": 0,
        "traceparent": str(new_traceparent()),
        "version": 1,
        "priority": priority,
        "created_at": now,
        "updated_at": now,
    }


def _lease_expired(now: datetime) -> ColumnElement[bool]:
    return RunRow.state.in_([s.value for s in LEASED_STATES]) & (RunRow.lease_expires_at <= now)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
