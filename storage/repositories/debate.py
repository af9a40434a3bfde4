"""The debate's turn log and its decision packages, on the debate_turns and decisions tables.

What cannot happen, and why:
- a turn changed or removed after it was appended: the table's triggers
  (migration 0007) abort every UPDATE and DELETE with an IntegrityError saying
  "debate_turns is append-only", whoever sends it; this module only ever
  inserts turns;
- two packages for one run: `run_id` is the primary key and the insert is
  `ON CONFLICT DO NOTHING` followed by a read in the same transaction, so a
  second save (a retried run, a racing worker) gets the package stored first;
- two approvals racing past each other: `update_approval` reads the row
  `FOR UPDATE` on PostgreSQL (SQLite write transactions begin IMMEDIATE, see
  storage/db.py) and, given `only_from`, changes nothing unless the stored
  approval is still in that state.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.debate.models import (
    AgentTurn,
    Approval,
    ApprovalState,
    DecisionPackage,
    Execution,
    Role,
    Vote,
)
from core.errors import NotFoundError
from storage.db import read_session
from storage.tables import DebateTurnRow, DecisionRow


def _turn(row: DebateTurnRow) -> AgentTurn:
    return AgentTurn(
        run_id=UUID(row.run_id),
        incident_id=row.incident_id,
        role=Role(row.role),
        input_hash=row.input_hash,
        output=row.output,
        latency_s=row.latency_s,
        vote=Vote(row.vote) if row.vote is not None else None,
        degraded=row.degraded,
        provider=row.provider,
        model=row.model,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        error=row.error,
        created_at=row.created_at,
    )


def _package(row: DecisionRow) -> DecisionPackage:
    return DecisionPackage.model_validate(row.package)


class SqlTurnLog:
    """Implements `core.debate.ports.TurnLog`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def append(self, *turns: AgentTurn) -> None:
        """Insert the turns in one transaction; `NotFoundError` when a run does not exist."""
        rows = [_turn_row(turn) for turn in turns]
        try:
            async with self._sessions.begin() as session:
                session.add_all(rows)
        except IntegrityError:
            raise NotFoundError(f"No run {turns[0].run_id}.") from None

    async def for_run(self, run_id: UUID) -> list[AgentTurn]:
        async with read_session(self._sessions) as session:
            rows = await session.scalars(
                select(DebateTurnRow)
                .where(DebateTurnRow.run_id == str(run_id))
                .order_by(DebateTurnRow.id)
            )
            return [_turn(row) for row in rows]


def _turn_row(turn: AgentTurn) -> DebateTurnRow:
    values = turn.model_dump(mode="json", include={"output"})
    return DebateTurnRow(
        run_id=str(turn.run_id),
        incident_id=turn.incident_id,
        role=turn.role.value,
        input_hash=turn.input_hash,
        output=values["output"],
        latency_s=turn.latency_s,
        vote=turn.vote.value if turn.vote is not None else None,
        degraded=turn.degraded,
        provider=turn.provider,
        model=turn.model,
        prompt_tokens=turn.prompt_tokens,
        completion_tokens=turn.completion_tokens,
        error=turn.error,
        created_at=turn.created_at,
    )


class SqlDecisionStore:
    """Implements `core.debate.ports.DecisionStore`, plus the approval's updates."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def save(self, package: DecisionPackage) -> DecisionPackage:
        """Store the run's package once; `NotFoundError` when its run does not exist."""
        values = {
            "run_id": str(package.run_id),
            "incident_id": package.incident_id,
            "package": package.model_dump(mode="json"),
            "created_at": package.created_at,
        }
        try:
            async with self._sessions.begin() as session:
                insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
                inserted = await session.scalar(
                    insert(DecisionRow)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["run_id"])
                    .returning(DecisionRow.run_id)
                )
                if inserted is not None:  # as stored, as a read would give it back
                    return DecisionPackage.model_validate(values["package"])
                row = await session.get(DecisionRow, str(package.run_id))  # the first one's
        except IntegrityError:
            # not the primary key (that conflict does nothing): the run is missing
            raise NotFoundError(f"No run {package.run_id}.") from None
        assert row is not None
        return _package(row)

    async def for_run(self, run_id: UUID) -> DecisionPackage | None:
        async with read_session(self._sessions) as session:
            row = await session.get(DecisionRow, str(run_id))
        return _package(row) if row is not None else None

    async def latest_for_incident(self, incident_id: int) -> DecisionPackage | None:
        """The incident's newest package (by created_at, then by the time-ordered run id)."""
        async with read_session(self._sessions) as session:
            row = await session.scalar(
                select(DecisionRow)
                .where(DecisionRow.incident_id == incident_id)
                .order_by(DecisionRow.created_at.desc(), DecisionRow.run_id.desc())
                .limit(1)
            )
        return _package(row) if row is not None else None

    async def update_approval(
        self, run_id: UUID, approval: Approval, *, only_from: ApprovalState | None = None
    ) -> DecisionPackage | None:
        """The run's package with `approval` written into it; None when the run has none.

        With `only_from`, the approval changes only while the stored one is in
        that state; otherwise the stored package comes back unchanged (so of two
        people pressing Approve at once, one sees their approval, the other not).
        """
        async with self._sessions.begin() as session:
            return await set_approval(session, run_id, approval, only_from=only_from)

    async def set_execution(self, run_id: UUID, execution: Execution) -> DecisionPackage | None:
        """The run's package with `execution` written into it; None when the run has none."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(DecisionRow).where(DecisionRow.run_id == str(run_id)).with_for_update()
            )
            if row is None:
                return None
            changed = _package(row).model_copy(update={"execution": execution})
            await session.execute(
                update(DecisionRow)
                .where(DecisionRow.run_id == str(run_id))
                .values(package=changed.model_dump(mode="json"))
            )
        return changed


async def set_approval(
    session: AsyncSession,
    run_id: UUID,
    approval: Approval,
    *,
    only_from: ApprovalState | None = None,
) -> DecisionPackage | None:
    """`SqlDecisionStore.update_approval` inside the caller's transaction."""
    row = await session.scalar(
        select(DecisionRow).where(DecisionRow.run_id == str(run_id)).with_for_update()
    )
    if row is None:
        return None
    stored = _package(row)
    if only_from is not None and stored.approval.state is not only_from:
        return stored
    changed = stored.model_copy(update={"approval": approval})
    await session.execute(
        update(DecisionRow)
        .where(DecisionRow.run_id == str(run_id))
        .values(package=changed.model_dump(mode="json"))
    )
    return changed


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name
