"""Runs queue by priority, are made in bulk once, carry their stage, and outlive a dead worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.run_worker import RunWorker, holder_is_gone, recover_orphans, worker_owner
from core.runs import Run, RunEvent, RunState
from storage.db import session_factory
from storage.tables import IncidentRow
from tests.run_scenarios import LEASE, FakeClock, add_incident, count_runs, store


def dead_pid() -> int:
    """The pid of a process that has just exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_the_most_urgent_pending_run_is_claimed_first(engine: AsyncEngine) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    warning = await runs.create(await add_incident(engine, "a"), "opened", priority=1)
    clock.advance(timedelta(seconds=1))
    critical = await runs.create(await add_incident(engine, "b"), "opened", priority=3)
    clock.advance(timedelta(seconds=1))
    later_critical = await runs.create(await add_incident(engine, "c"), "opened", priority=3)
    claimed = [await runs.claim("w", lease_for=LEASE) for _ in range(3)]
    assert [r.id for r in claimed if r] == [critical.id, later_critical.id, warning.id]


async def test_create_many_makes_each_run_once_and_skips_a_missing_incident(
    engine: AsyncEngine,
) -> None:
    runs = store(engine, FakeClock())
    first, second = await add_incident(engine, "a"), await add_incident(engine, "b")
    assert await runs.create_many([(first, 3), (second, 1), (999_999, 1)], "opened") == 2
    assert await runs.create_many([(first, 3), (second, 1)], "opened") == 0
    assert await count_runs(engine) == 2
    assert {r.incident_id: r.priority for r in await runs.recent(limit=5)} == {first: 3, second: 1}


async def test_open_incidents_without_a_run_are_found_for_catch_up(engine: AsyncEngine) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    covered, missed = await add_incident(engine, "a"), await add_incident(engine, "b")
    resolved = await add_incident(engine, "c")
    async with session_factory(engine).begin() as session:
        row = await session.get(IncidentRow, resolved)
        assert row is not None
        row.status = "resolved"
    await runs.create(covered, "opened")
    since = clock.now() - timedelta(hours=1)
    assert await runs.without_run("opened", opened_since=since, limit=10) == [missed]
    later = clock.now() + timedelta(seconds=1)
    assert await runs.without_run("opened", opened_since=later, limit=10) == []


async def test_a_stage_is_recorded_only_by_the_lease_holder_and_makes_the_card_owed(
    engine: AsyncEngine,
) -> None:
    runs = store(engine, FakeClock())
    incident = await add_incident(engine)
    await runs.create(incident, "opened")
    claimed = await runs.claim("w1", lease_for=LEASE)
    assert claimed is not None

    async def version() -> int:
        async with session_factory(engine)() as session:
            return int(
                await session.scalar(select(IncidentRow.version).where(IncidentRow.id == incident))
                or 0
            )

    before = await version()
    assert await runs.set_stage(claimed, "diagnosing")
    assert await version() == before + 1
    [latest] = await runs.for_incident(incident, limit=5)
    assert latest.stage == "diagnosing" and latest.stage_at is not None
    impostor = claimed.model_copy(update={"lease_owner": "w2"})
    assert not await runs.set_stage(impostor, "solving")
    [latest] = await runs.for_incident(incident, limit=5)
    assert latest.stage == "diagnosing"


async def test_work_that_awaits_approval_leaves_the_run_waiting(engine: AsyncEngine) -> None:
    runs = store(engine, FakeClock())
    await runs.create(await add_incident(engine), "opened")

    async def propose(_run: Run) -> RunEvent:
        return RunEvent.AWAIT_APPROVAL

    finished = await RunWorker(runs, propose, owner="w1").run_once()
    assert finished is not None and finished.state is RunState.WAITING_APPROVAL
    assert finished.lease_owner is None


async def test_work_ending_with_another_event_fails_the_run(engine: AsyncEngine) -> None:
    runs = store(engine, FakeClock())
    await runs.create(await add_incident(engine), "opened")

    async def confused(_run: Run) -> RunEvent:
        return RunEvent.CANCEL

    finished = await RunWorker(runs, confused, owner="w1").run_once()
    assert finished is not None and finished.state is RunState.FAILED
    assert finished.reason is not None and "not complete or await_approval" in finished.reason


def test_a_holder_is_gone_only_when_its_process_on_this_host_is() -> None:
    host = socket.gethostname()
    assert worker_owner(2) == f"{host}:{os.getpid()}:2"
    assert not holder_is_gone(worker_owner(0)), "this very process"
    assert holder_is_gone(f"{host}:{dead_pid()}:0")
    assert not holder_is_gone(f"another-host-{host}:{dead_pid()}:0"), "only its lease can tell"
    assert not holder_is_gone("w1") and not holder_is_gone(None)


async def test_runs_of_a_dead_worker_go_back_to_the_queue_at_start_up(engine: AsyncEngine) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    orphan = await runs.create(await add_incident(engine, "a"), "opened")
    clock.advance(timedelta(seconds=1))  # claims take the older run first
    held = await runs.create(await add_incident(engine, "b"), "opened")
    dead = f"{socket.gethostname()}:{dead_pid()}:0"
    assert (await runs.claim(dead, lease_for=LEASE)) is not None
    assert (await runs.claim(worker_owner(0), lease_for=LEASE)) is not None
    [recovered] = await recover_orphans(runs, clock)
    assert recovered.run.id == orphan.id and recovered.event is RunEvent.EXPIRE
    after = await runs.get(orphan.id)
    assert after is not None and (after.state, after.lease_owner) == (RunState.PENDING, None)
    still = await runs.get(held.id)
    assert still is not None and still.state is RunState.LEASED, "a live holder keeps its run"
