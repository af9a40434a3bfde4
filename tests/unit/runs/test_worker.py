"""The run worker: heartbeats while it works, ends runs completed or failed, drops a lost lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from core.run_worker import RunWorker, poke_for, reap_expired
from core.runs import Run, RunEvent, RunState
from storage.repositories.runs import SqlRunStore
from tests.run_scenarios import LEASE, FakeClock, add_incident, store


class Ticks:
    """A sleep that returns only when the test says so; `asleep()` waits for the next nap."""

    def __init__(self) -> None:
        self._go: asyncio.Queue[None] = asyncio.Queue()
        self._napping: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, _seconds: float) -> None:
        self._napping.put_nowait(None)
        await self._go.get()

    async def asleep(self) -> None:
        await self._napping.get()

    async def tick(self) -> None:
        """Let one heartbeat happen and wait until it is done (the next nap begins)."""
        self._go.put_nowait(None)
        await self.asleep()


async def test_a_run_is_worked_and_completed_with_its_trace_in_the_log_context(
    engine: AsyncEngine,
) -> None:
    clock = FakeClock()
    created = await store(engine, clock).create(await add_incident(engine), "opened")
    seen: list[tuple[RunState, dict[str, object]]] = []

    async def work(run: Run) -> RunEvent:
        seen.append((run.state, structlog.contextvars.get_contextvars()))
        return RunEvent.COMPLETE

    worker = RunWorker(store(engine, clock), work, owner="w1")
    finished = await worker.run_once()
    assert finished is not None
    assert (finished.state, finished.attempts, finished.lease_owner, finished.reason) == (
        RunState.COMPLETED, 1, None, None
    )  # fmt: skip
    [(state, context)] = seen
    assert state is RunState.RUNNING
    assert context == {"run_id": str(created.id), "traceparent": created.traceparent}
    assert structlog.contextvars.get_contextvars() == {}, "the context ends with the run"
    assert await worker.run_once() is None, "nothing left to claim"


async def test_a_failing_work_function_fails_the_run_with_its_error(engine: AsyncEngine) -> None:
    clock = FakeClock()
    created = await store(engine, clock).create(await add_incident(engine), "opened")

    async def work(run: Run) -> RunEvent:
        raise ValueError(f"no evidence for incident {run.incident_id}")

    finished = await RunWorker(store(engine, clock), work, owner="w1").run_once()
    assert finished is not None and finished.state is RunState.FAILED
    assert finished.reason == f"ValueError: no evidence for incident {created.incident_id}"
    assert await store(engine, clock).get(created.id) == finished


async def test_heartbeats_keep_a_long_run_from_the_reaper(engine: AsyncEngine) -> None:
    clock, ticks, release = FakeClock(), Ticks(), asyncio.Event()
    runs = store(engine, clock)
    created = await runs.create(await add_incident(engine), "opened")

    async def work(_run: Run) -> RunEvent:
        await release.wait()
        return RunEvent.COMPLETE

    worker = RunWorker(runs, work, owner="w1", lease_for=LEASE, sleep=ticks.sleep)
    task = asyncio.create_task(worker.run_once())
    await ticks.asleep()
    for _ in range(5):  # five minutes of work, well past one lease
        clock.advance(LEASE * 0.9)
        await ticks.tick()
        assert await reap_expired(runs, clock) == []
        current = await runs.get(created.id)
        assert current is not None and current.lease_expires_at == clock.now() + LEASE
    release.set()
    finished = await task
    assert finished is not None
    assert (finished.state, finished.attempts) == (RunState.COMPLETED, 1)


async def test_a_worker_that_lost_its_lease_stops_its_work_and_writes_nothing(
    engine: AsyncEngine,
) -> None:
    clock, ticks = FakeClock(), Ticks()
    runs = store(engine, clock)
    created = await runs.create(await add_incident(engine), "opened")
    stopped = asyncio.Event()

    async def work(_run: Run) -> RunEvent:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.set()
            raise
        raise AssertionError("unreachable: the wait ends only by cancellation")

    stalled = RunWorker(runs, work, owner="stalled", lease_for=LEASE, sleep=ticks.sleep)
    task = asyncio.create_task(stalled.run_once())
    await ticks.asleep()
    clock.advance(LEASE)  # the heartbeat came too late: the reaper got there first
    [_] = await reap_expired(runs, clock)
    ticks._go.put_nowait(None)  # the late heartbeat: refused
    # bounded so that a worker that would work on regardless fails here instead of hanging
    left = await asyncio.wait_for(task, 30)
    assert stopped.is_set(), "the work was cancelled so it cannot be done twice"
    assert left is not None and left.lease_owner == "stalled"
    after = await runs.get(created.id)
    assert after is not None and (after.state, after.attempts) == (RunState.PENDING, 1)

    async def quick(_run: Run) -> RunEvent:
        return RunEvent.COMPLETE

    finished = await RunWorker(runs, quick, owner="w2").run_once()
    assert finished is not None and (finished.state, finished.attempts) == (RunState.COMPLETED, 2)


async def test_two_workers_never_share_a_run(engine: AsyncEngine) -> None:
    clock = FakeClock()
    incident = await add_incident(engine)
    for n in range(6):
        await store(engine, clock).create(incident, f"t{n}")
    worked: list[tuple[str, str]] = []

    def worker(owner: str) -> RunWorker:
        async def work(run: Run) -> RunEvent:
            worked.append((owner, str(run.id)))
            await asyncio.sleep(0)  # let the other worker in
            return RunEvent.COMPLETE

        return RunWorker(store(engine, clock), work, owner=owner)

    async def drain(w: RunWorker) -> None:
        while await w.run_once() is not None:
            pass

    await asyncio.gather(drain(worker("a")), drain(worker("b")))
    ids = [run_id for _, run_id in worked]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert {r.state for r in await store(engine, clock).recent(limit=10)} == {RunState.COMPLETED}


async def test_run_forever_works_a_run_when_poked(engine: AsyncEngine) -> None:
    clock = FakeClock()
    incident = await add_incident(engine)
    done = asyncio.Event()

    async def work(_run: Run) -> RunEvent:
        done.set()
        return RunEvent.COMPLETE

    worker = RunWorker(store(engine, clock), work, owner="w1")
    task = asyncio.create_task(worker.run_forever(idle=LEASE * 100))
    try:
        await asyncio.sleep(0)
        await store(engine, clock).create(incident, "opened")
        worker.poke()
        await asyncio.wait_for(done.wait(), 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


class CountingClaims:
    """A run store that counts claims (each one a write transaction on SQLite)."""

    def __init__(self, inner: SqlRunStore) -> None:
        self._inner = inner
        self.claims = 0
        self.looked = asyncio.Event()

    async def claim(self, owner: str, *, lease_for: timedelta, start: bool = False) -> Run | None:
        self.claims += 1
        self.looked.set()
        return await self._inner.claim(owner, lease_for=lease_for, start=start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def all_idle(workers: list[RunWorker]) -> None:
    """Until every worker sleeps with nothing to do (each looked once at start)."""
    while not all(w.idle for w in workers):
        await asyncio.sleep(0)


@pytest.mark.parametrize(("runs", "claims"), [(1, 1), (2, 2), (None, 4)])
async def test_new_runs_wake_only_as_many_idle_workers_as_there_are_runs(
    engine: AsyncEngine, runs: int | None, claims: int
) -> None:
    clock = FakeClock()
    made = [await add_incident(engine, f"g{i}") for i in range(runs or 1)]
    done: asyncio.Queue[str] = asyncio.Queue()

    async def work(run: Run) -> RunEvent:
        done.put_nowait(str(run.id))
        return RunEvent.COMPLETE

    counting = CountingClaims(store(engine, clock))
    workers = [RunWorker(counting, work, owner=f"w{i}") for i in range(4)]  # type: ignore[arg-type]
    tasks = [asyncio.create_task(w.run_forever(idle=LEASE * 100)) for w in workers]
    try:
        await asyncio.wait_for(all_idle(workers), 30)
        counting.claims = 0
        for incident in made:
            await store(engine, clock).create(incident, "opened")
        poke_for(workers, runs)
        for _ in made:
            await asyncio.wait_for(done.get(), 30)
        await asyncio.wait_for(all_idle(workers), 30)
        # each woken worker claims its run, then once more and finds nothing
        assert counting.claims == claims + min(claims, len(made))
        assert sum(not w.idle for w in workers) == 0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_worker_that_is_not_idle_is_always_poked(engine: AsyncEngine) -> None:
    async def work(_run: Run) -> RunEvent:
        return RunEvent.COMPLETE

    looking, idle = (RunWorker(store(engine, FakeClock()), work, owner=o) for o in ("a", "b"))
    idle.idle = True
    poke_for([looking, idle], 0)
    assert idle.idle, "no run for it: left asleep"
    assert looking._wake.is_set(), "one that is claiming looks again, as before"
