"""Approval requests on the approvals table.

What cannot happen, and why:
- two requests for one run: `run_id` is unique and the insert is `ON CONFLICT
  DO NOTHING` (then a read when it did nothing), so a re-announced package gets
  the request opened first (its id is the one on the buttons already posted);
- a request without its audit line or its package's approval: the three are
  written in one transaction when the request is new;
- two presses both counting: `write` is `UPDATE … WHERE id = ? AND version =
  <version judged>`; of two writers judging the same version, one updates a
  row and the other none (PostgreSQL re-checks the WHERE after the first
  commits; SQLite has one writer at a time), and the loser judges again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.approvals import ApprovalRequest, Opened
from core.debate.models import ApprovalState, DecisionPackage
from core.errors import NotFoundError
from core.runs import RunState
from storage.db import read_session
from storage.repositories.debate import set_approval
from storage.tables import ApprovalRow, AuditRow, RunRow


def _request(row: ApprovalRow) -> ApprovalRequest:
    return ApprovalRequest.model_validate({**row.request, "version": row.version})


def _values(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": str(request.id),
        "run_id": str(request.run_id),
        "incident_id": request.incident_id,
        "state": request.state.value,
        "version": request.version,
        "expires_at": request.expires_at,
        "request": request.model_dump(mode="json", exclude={"version"}),
    }


class SqlApprovalStore:
    """Implements `core.approvals.ApprovalStore`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def open(
        self, request: ApprovalRequest, *, opened: Opened | None = None
    ) -> tuple[ApprovalRequest, DecisionPackage | None]:
        try:
            async with self._sessions.begin() as session:
                insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
                new = await session.scalar(
                    insert(ApprovalRow)
                    .values(**_values(request))
                    .on_conflict_do_nothing(index_elements=["run_id"])
                    .returning(ApprovalRow.id)
                )
                if new is None:  # the run's request was opened before
                    row = await session.scalar(
                        select(ApprovalRow).where(ApprovalRow.run_id == str(request.run_id))
                    )
                    assert row is not None
                    return _request(row), None
                package = None
                if opened is not None:
                    session.add(AuditRow(**opened.audit.model_dump()))
                    package = await set_approval(session, request.run_id, opened.approval)
        except IntegrityError:
            raise NotFoundError(f"No run {request.run_id}.") from None
        return request, package

    async def get(self, request_id: UUID) -> ApprovalRequest | None:
        async with read_session(self._sessions) as session:
            row = await session.get(ApprovalRow, str(request_id))
        return _request(row) if row is not None else None

    async def for_run(self, run_id: UUID) -> ApprovalRequest | None:
        async with read_session(self._sessions) as session:
            row = await session.scalar(select(ApprovalRow).where(ApprovalRow.run_id == str(run_id)))
        return _request(row) if row is not None else None

    async def write(self, after: ApprovalRequest) -> bool:
        values = _values(after)
        del values["id"], values["run_id"]
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(ApprovalRow)
                .where(ApprovalRow.id == str(after.id), ApprovalRow.version == after.version - 1)
                .values(**values)
            )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def due(self, *, now: datetime, limit: int) -> list[ApprovalRequest]:
        async with read_session(self._sessions) as session:
            rows = await session.scalars(
                select(ApprovalRow)
                .where(
                    ApprovalRow.state == ApprovalState.WAITING.value,
                    ApprovalRow.expires_at <= now,
                )
                .order_by(ApprovalRow.expires_at)
                .limit(limit)
            )
            return [_request(row) for row in rows]

    async def approved_not_started(self, *, limit: int) -> list[ApprovalRequest]:
        async with read_session(self._sessions) as session:
            rows = await session.scalars(
                select(ApprovalRow)
                .join(RunRow, RunRow.id == ApprovalRow.run_id)
                .where(
                    ApprovalRow.state == ApprovalState.APPROVED.value,
                    RunRow.state == RunState.WAITING_APPROVAL.value,
                )
                .order_by(ApprovalRow.expires_at)
                .limit(limit)
            )
            return [_request(row) for row in rows]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name
