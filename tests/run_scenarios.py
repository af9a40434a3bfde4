"""Run-store scenarios run against every database Howl supports (SQLite here, PostgreSQL in e2e)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.errors import NotFoundError
from core.run_worker import RunWorker, reap_expired
from core.runs import Run, RunEvent, RunState, StaleRun
from core.tracecontext import parse_traceparent
from storage.db import session_factory
from storage.repositories.runs import SqlRunStore
from storage.tables import IncidentRow, RunRow

T0 = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
Scenario = Callable[[AsyncEngine], Awaitable[None]]


class FakeClock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


def store(engine: AsyncEngine, clock: FakeClock) -> SqlRunStore:
    """A fresh store with its own session factory (its own write turn), as a process has."""
    return SqlRunStore(session_factory(engine), clock)


async def add_incident(engine: AsyncEngine, key: str = "g") -> int:
    async with session_factory(engine).begin() as session:
        row = IncidentRow(
            group_key=key, title="CheckoutDown", severity="critical", status="firing",
            labels={}, source="test", created_at=T0, updated_at=T0,
        )  # fmt: skip
        session.add(row)
        await session.flush()
        return row.id


async def count_runs(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(RunRow)) or 0)


async def exercise_idempotent_create(engine: AsyncEngine) -> None:
    """Concurrent creates for one trigger from separate stores make exactly one run."""
    clock = FakeClock()
    incident = await add_incident(engine, "create")
    made = await asyncio.gather(
        *(store(engine, clock).create(incident, "opened") for _ in range(6))
    )
    assert len({run.id for run in made}) == 1, made
    assert await count_runs(engine) == 1
    [run] = {run.id: run for run in made}.values()
    assert (run.state, run.attempts, run.version) == (RunState.PENDING, 0, 1)
    assert run.id.version == 7 and run.incident_id == incident and run.trigger == "opened"
    parse_traceparent(run.traceparent)
    again = await store(engine, clock).create(incident, "opened")
    assert again == run, "a later create returns the run as it is"
    other = await store(engine, clock).create(incident, "debate:42")
    assert other.id != run.id and other.traceparent != run.traceparent
    assert await count_runs(engine) == 2
    with pytest.raises(NotFoundError, match=r"^No incident #999999\.$"):
        await store(engine, clock).create(999999, "opened")
    assert await count_runs(engine) == 2, "nothing stored for a missing incident"


async def exercise_concurrent_claims(engine: AsyncEngine) -> None:
    """Workers claiming at once from separate stores: every run claimed exactly once."""
    clock = FakeClock()
    incident = await add_incident(engine, "claims")
    runs = [await store(engine, clock).create(incident, f"t{n}") for n in range(12)]
    claimed: list[tuple[str, Run]] = []

    async def claimer(owner: str) -> None:
        mine = store(engine, clock)
        while (run := await mine.claim(owner, lease_for=LEASE)) is not None:
            claimed.append((owner, run))

    await asyncio.gather(*(claimer(f"w{n}") for n in range(4)))
    ids = [run.id for _, run in claimed]
    assert sorted(ids) == sorted(run.id for run in runs), "each run claimed once, none missed"
    for owner, run in claimed:
        assert (run.state, run.attempts, run.lease_owner) == (RunState.LEASED, 1, owner)
        assert run.lease_expires_at == T0 + LEASE
        assert await store(engine, clock).get(run.id) == run, "what claim returned is stored"


async def exercise_lease_expiry(engine: AsyncEngine) -> None:
    """Expired lease -> pending (attempt counted), then timed_out past the retry limit."""
    clock = FakeClock()
    runs = store(engine, clock)
    incident = await add_incident(engine, "expiry")
    created = await runs.create(incident, "opened")
    previous: Run | None = None
    for attempt in (1, 2, 3):
        leased = await runs.claim("w1", lease_for=LEASE)
        assert leased is not None and leased.attempts == attempt
        if previous is not None:
            # the same owner name, a later attempt: the old lease is not this one
            assert not await runs.heartbeat(previous, lease_for=LEASE)
        running = await runs.advance(leased, RunEvent.START)
        assert await reap_expired(runs, clock, max_attempts=3) == [], "lease still holds"
        clock.advance(LEASE / 2)
        assert await runs.heartbeat(running, lease_for=LEASE)
        clock.advance(LEASE / 2)
        assert await reap_expired(runs, clock, max_attempts=3) == [], "the heartbeat renewed it"
        clock.advance(LEASE / 2)
        [reaped] = await reap_expired(runs, clock, max_attempts=3)
        assert reaped.event is (RunEvent.EXPIRE if attempt < 3 else RunEvent.TIME_OUT)
        after = await runs.get(created.id)
        assert after is not None
        if attempt < 3:
            assert (after.state, after.reason) == (
                RunState.PENDING, "lease of w1 expired; retrying"
            )  # fmt: skip
        else:
            assert (after.state, after.reason) == (
                RunState.TIMED_OUT, "lease of w1 expired on attempt 3 of 3"
            )  # fmt: skip
        assert after.lease_owner is None and after.lease_expires_at is None
        assert not await runs.heartbeat(running, lease_for=LEASE), "the old lease is gone"
        previous = running
    assert await runs.claim("w1", lease_for=LEASE) is None, "a timed-out run is not claimed"


async def exercise_crashed_worker(engine: AsyncEngine) -> None:
    """A worker that died mid-run (lease never renewed): reaped, reclaimed, finished once."""
    clock = FakeClock()
    incident = await add_incident(engine, "crash")
    created = await store(engine, clock).create(incident, "opened")
    dead = store(engine, clock)
    leased = await dead.claim("dead-worker", lease_for=LEASE)
    assert leased is not None
    abandoned = await dead.advance(leased, RunEvent.START)  # ...and then the process died
    clock.advance(LEASE)
    [reaped] = await reap_expired(store(engine, clock), clock, max_attempts=3)
    assert reaped.event is RunEvent.EXPIRE
    done: list[Run] = []

    async def work(run: Run) -> RunEvent:
        done.append(run)
        return RunEvent.COMPLETE

    finished = await RunWorker(store(engine, clock), work, owner="w2").run_once()
    assert finished is not None and finished.id == created.id
    assert (finished.state, finished.attempts, finished.lease_owner) == (
        RunState.COMPLETED, 2, None
    )  # fmt: skip
    assert [run.attempts for run in done] == [2], "worked once, by the new worker"
    # the dead worker's late writes change nothing
    with pytest.raises(StaleRun):
        await dead.advance(abandoned, RunEvent.COMPLETE)
    assert not await dead.heartbeat(abandoned, lease_for=LEASE)
    assert await store(engine, clock).get(created.id) == finished


#: every scenario, for the test modules of each database to run
SCENARIOS = (
    exercise_idempotent_create,
    exercise_concurrent_claims,
    exercise_lease_expiry,
    exercise_crashed_worker,
)
