"""Turn-log and decision-store scenarios run against every database Howl supports.

SQLite in tests/unit/storage/test_debate_store.py, PostgreSQL in
tests/e2e/test_postgres_debate.py: the insert-only refusal is the database's
own (a trigger), so it is proved on each.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.debate.models import (
    AgentTurn,
    Approval,
    ApprovalState,
    DebateStatus,
    DecisionPackage,
    ReviewSummary,
    Role,
    Vote,
)
from core.errors import NotFoundError
from core.llm.schemas import RiskLevel
from core.llm.types import ToolCall
from storage.db import session_factory
from storage.migrate import MIGRATIONS
from storage.repositories import SqlDecisionStore, SqlTurnLog
from storage.tables import DebateTurnRow
from tests.run_scenarios import T0, FakeClock, Scenario, add_incident, store

#: the triggers' message (migration 0007): a refused UPDATE or DELETE is an IntegrityError
#: saying this, on SQLite and PostgreSQL alike
APPEND_ONLY = "debate_turns is append-only"


def turn(run_id: UUID, incident_id: int, role: Role, **changes: Any) -> AgentTurn:
    values: dict[str, Any] = {
        "run_id": run_id,
        "incident_id": incident_id,
        "role": role,
        "input_hash": "ab" * 32,
        "output": {"role": role.value, "points": ["one", "two"], "nested": {"n": 1.5}},
        "latency_s": 0.25,
        "provider": "embedded",
        "model": "howl-embedded",
        "prompt_tokens": 120,
        "completion_tokens": 40,
        "created_at": T0,
    }
    return AgentTurn(**(values | changes))


def package(run_id: UUID, incident_id: int, **changes: Any) -> DecisionPackage:
    values: dict[str, Any] = {
        "run_id": run_id,
        "incident_id": incident_id,
        "recommended_action": ToolCall(
            tool="restart_deployment", arguments={"name": "api", "namespace": "prod"}
        ),
        "risk_level": RiskLevel.LOW,
        "requires_human_approval": True,
        "confidence": 0.72,
        "diagnosis": "api pods crash-loop after the 18:55 deploy",
        "summary": "the Solver's restart stands; the Critic's objection was answered",
        "status": DebateStatus.DEGRADED,
        "review": ReviewSummary(reviewer_verdict=Vote.APPROVE, concerns=("cold caches",)),
        "degraded_roles": (Role.CRITIC,),
        "approval": Approval(state=ApprovalState.WAITING),
        "created_at": T0,
    }
    return DecisionPackage(**(values | changes))


async def new_run(
    engine: AsyncEngine, incident_id: int, trigger: str = "opened", *, at: datetime = T0
) -> UUID:
    """A run made at `at` (its UUIDv7 id sorts by that instant)."""
    clock = FakeClock()
    clock.at = at
    return (await store(engine, clock).create(incident_id, trigger)).id


async def downgrade_to(engine: AsyncEngine, revision: str) -> None:
    """Run the migrations down to `revision` (Howl itself only ever upgrades)."""

    def down(sync: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = sync
        command.downgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(down)


def stores(engine: AsyncEngine) -> tuple[SqlTurnLog, SqlDecisionStore]:
    """Fresh stores with their own session factory (their own write turn), as a process has."""
    sessions = session_factory(engine)
    return SqlTurnLog(sessions), SqlDecisionStore(sessions)


async def exercise_turns_come_back_in_append_order(engine: AsyncEngine) -> None:
    """Turns are read in the order appended, whatever their timestamps, one run's only."""
    incident = await add_incident(engine, "order")
    run, other = await new_run(engine, incident), await new_run(engine, incident, "again")
    log, _ = stores(engine)
    # timestamps out of order on purpose: the log's order is the append order
    appended = [
        turn(run, incident, role, created_at=T0 - timedelta(seconds=i), vote=vote)
        for i, (role, vote) in enumerate(
            [
                (Role.DIAGNOSTICIAN, None),
                (Role.SOLVER, None),
                (Role.REVIEWER, Vote.REVISE),
                (Role.CRITIC, Vote.REJECT),
                (Role.COORDINATOR, None),
            ]
        )
    ]
    await log.append(appended[0])
    await log.append(appended[1])
    await log.append(turn(other, incident, Role.DIAGNOSTICIAN, degraded=True, error="boom"))
    await log.append(appended[2], appended[3])  # heard together, written together
    await log.append(appended[4])
    assert await log.for_run(run) == appended
    assert await log.for_run(other) == [
        turn(other, incident, Role.DIAGNOSTICIAN, degraded=True, error="boom")
    ]
    assert await log.for_run(await new_run(engine, incident, "quiet")) == []


async def exercise_turns_refuse_update_and_delete(engine: AsyncEngine) -> None:
    """A raw UPDATE or DELETE of a turn is refused by the database; the row stays as it was."""
    incident = await add_incident(engine, "refuse")
    run = await new_run(engine, incident)
    log, _ = stores(engine)
    kept = turn(run, incident, Role.REVIEWER, vote=Vote.APPROVE)
    await log.append(kept)
    statements = [
        text("UPDATE debate_turns SET vote = 'reject' WHERE run_id = :run"),
        text("UPDATE debate_turns SET output = '{}'"),
        text("DELETE FROM debate_turns WHERE run_id = :run"),
        text("DELETE FROM debate_turns"),
        update(DebateTurnRow).where(DebateTurnRow.run_id == str(run)).values(degraded=True),
        delete(DebateTurnRow),
    ]
    for statement in statements:
        with pytest.raises(IntegrityError, match=APPEND_ONLY):
            async with engine.begin() as conn:
                await conn.execute(statement, {"run": str(run)})
    # through the ORM too: a session deleting a loaded row
    with pytest.raises(IntegrityError, match=APPEND_ONLY):
        async with session_factory(engine).begin() as session:
            row = await session.scalar(
                select(DebateTurnRow).where(DebateTurnRow.run_id == str(run))
            )
            assert row is not None
            await session.delete(row)
    assert await log.for_run(run) == [kept]


async def exercise_a_turn_of_an_unknown_run_is_not_found(engine: AsyncEngine) -> None:
    log, _ = stores(engine)
    unknown = UUID("019b76da-a800-7000-8000-000000000000")
    with pytest.raises(NotFoundError, match=f"No run {unknown}"):
        await log.append(turn(unknown, 1, Role.SOLVER))
    assert await log.for_run(unknown) == []
    # two turns in one write: the known run's is not kept without the other's
    incident = await add_incident(engine, "half")
    known = await new_run(engine, incident)
    with pytest.raises(NotFoundError):
        await log.append(turn(known, incident, Role.REVIEWER), turn(unknown, 1, Role.CRITIC))
    assert await log.for_run(known) == []


async def exercise_a_run_has_one_package(engine: AsyncEngine) -> None:
    """A second save returns the package stored first, also when saves race from two stores."""
    incident = await add_incident(engine, "once")
    run = await new_run(engine, incident)
    _, decisions = stores(engine)
    first = package(run, incident)
    assert await decisions.for_run(run) is None
    assert await decisions.save(first) == first
    again = await decisions.save(package(run, incident, summary="a retry's", confidence=0.1))
    assert again == first
    assert await decisions.for_run(run) == first

    raced = await new_run(engine, incident, "raced")
    candidates = [package(raced, incident, summary=f"worker {i}") for i in range(6)]
    saved = await asyncio.gather(*(stores(engine)[1].save(c) for c in candidates))
    assert len({p.summary for p in saved}) == 1, saved
    assert saved[0] in candidates
    assert await decisions.for_run(raced) == saved[0]


async def exercise_a_package_of_an_unknown_run_is_not_found(engine: AsyncEngine) -> None:
    _, decisions = stores(engine)
    unknown = UUID("019b76da-a800-7000-8000-000000000001")
    with pytest.raises(NotFoundError, match=f"No run {unknown}"):
        await decisions.save(package(unknown, 1))
    assert await decisions.for_run(unknown) is None


async def exercise_latest_for_incident(engine: AsyncEngine) -> None:
    """Newest created_at wins; on a tie, the later (time-ordered) run id; other incidents apart."""
    incident, other = await add_incident(engine, "latest"), await add_incident(engine, "other")
    _, decisions = stores(engine)
    assert await decisions.latest_for_incident(incident) is None
    first, second, third = [
        await new_run(engine, incident, f"t{i}", at=T0 + timedelta(seconds=i)) for i in range(3)
    ]
    newer = package(first, incident, created_at=T0 + timedelta(minutes=5), summary="newer")
    await decisions.save(newer)
    await decisions.save(package(second, incident, summary="older"))
    assert await decisions.latest_for_incident(incident) == newer
    # a tie on created_at: the greater run id (UUIDv7: the later run) wins
    assert third > first
    tie = package(third, incident, created_at=newer.created_at, summary="tie, later run")
    await decisions.save(tie)
    assert await decisions.latest_for_incident(incident) == tie
    theirs = package(await new_run(engine, other), other, created_at=T0 + timedelta(hours=1))
    await decisions.save(theirs)
    assert await decisions.latest_for_incident(incident) == tie
    assert await decisions.latest_for_incident(other) == theirs


async def exercise_update_approval(engine: AsyncEngine) -> None:
    """The approval changes in place; with `only_from`, only from that state."""
    incident = await add_incident(engine, "approve")
    run = await new_run(engine, incident)
    _, decisions = stores(engine)
    waiting = await decisions.save(package(run, incident))
    approved = Approval(state=ApprovalState.APPROVED, by=("Alice",), at=T0 + timedelta(seconds=30))
    changed = await decisions.update_approval(run, approved, only_from=ApprovalState.WAITING)
    assert changed == waiting.model_copy(update={"approval": approved})
    assert await decisions.for_run(run) == changed
    assert await decisions.latest_for_incident(incident) == changed

    # a second press, too late: the package stays approved
    rejected = Approval(state=ApprovalState.REJECTED, by=("Bob",), at=T0 + timedelta(minutes=1))
    late = await decisions.update_approval(run, rejected, only_from=ApprovalState.WAITING)
    assert late == changed
    # without a condition the approval is simply written
    expired = Approval(state=ApprovalState.EXPIRED, at=T0 + timedelta(hours=1))
    assert (await decisions.update_approval(run, expired)) == changed.model_copy(
        update={"approval": expired}
    )
    assert (await decisions.for_run(run)).approval == expired  # type: ignore[union-attr]
    unknown = UUID("019b76da-a800-7000-8000-000000000002")
    assert await decisions.update_approval(unknown, approved) is None


SCENARIOS: tuple[Scenario, ...] = (
    exercise_turns_come_back_in_append_order,
    exercise_turns_refuse_update_and_delete,
    exercise_a_turn_of_an_unknown_run_is_not_found,
    exercise_a_run_has_one_package,
    exercise_a_package_of_an_unknown_run_is_not_found,
    exercise_latest_for_incident,
    exercise_update_approval,
)
