"""The run store on SQLite: idempotent create, exclusive claims, leases, optimistic writes."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.runs import IllegalTransition, RunEvent, RunState, StaleRun, decide_reaping
from tests.run_scenarios import LEASE, SCENARIOS, FakeClock, Scenario, add_incident, store


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario(engine: AsyncEngine, scenario: Scenario) -> None:
    """Idempotent create, concurrent claims, lease expiry, a crashed worker's run."""
    await scenario(engine)


async def test_a_write_from_a_stale_read_is_refused(engine: AsyncEngine) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    run = await runs.create(await add_incident(engine), "opened")
    cancelled = await runs.advance(run, RunEvent.CANCEL, reason="incident resolved")
    with pytest.raises(StaleRun, match="changed since it was read"):
        await runs.advance(run, RunEvent.CLAIM)
    assert await runs.get(run.id) == cancelled
    assert (cancelled.state, cancelled.version, cancelled.reason) == (
        RunState.CANCELLED, 2, "incident resolved"
    )  # fmt: skip


async def test_an_illegal_move_raises_and_stores_nothing(engine: AsyncEngine) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    run = await runs.create(await add_incident(engine), "opened")
    with pytest.raises(IllegalTransition, match="pending cannot complete"):
        await runs.advance(run, RunEvent.COMPLETE)
    assert await runs.get(run.id) == run


async def test_recent_lists_newest_first(engine: AsyncEngine) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    incident = await add_incident(engine)
    made = []
    for n in range(3):
        made.append(await runs.create(incident, f"t{n}"))
        clock.advance(LEASE)
    assert [r.trigger for r in await runs.recent(limit=2)] == ["t2", "t1"]
    assert await runs.recent(limit=10) == made[::-1]


async def test_the_reaper_leaves_a_run_whose_lease_was_renewed_after_it_looked(
    engine: AsyncEngine,
) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    await runs.create(await add_incident(engine), "opened")
    leased = await runs.claim("w1", lease_for=LEASE)
    assert leased is not None
    clock.advance(LEASE)
    [late] = decide_reaping(await runs.expired(limit=10), now=clock.now(), max_attempts=3)
    assert await runs.heartbeat(leased, lease_for=LEASE), "the worker was only late"
    assert not await runs.reap(late)
    assert await runs.get(leased.id) == leased.model_copy(
        update={"lease_expires_at": clock.now() + LEASE}
    )


async def test_a_claim_with_nothing_pending_takes_no_write_turn(engine: AsyncEngine) -> None:
    """Most claims find nothing (a worker done with its run looks again, a poke wakes
    several); on SQLite each write queues behind the one writer, so an empty look reads."""
    clock = FakeClock()
    runs = store(engine, clock)
    writes = 0
    begin = runs._sessions.begin

    def counted() -> object:
        nonlocal writes
        writes += 1
        return begin()

    runs._sessions.begin = counted  # type: ignore[method-assign]
    assert await runs.claim("w1", lease_for=LEASE) is None
    assert writes == 0
    # another process (another store) queues a run: the read finds it, the write takes it
    made = await store(engine, clock).create(await add_incident(engine), "opened")
    claimed = await runs.claim("w1", lease_for=LEASE)
    assert claimed is not None and claimed.id == made.id and writes == 1
    # one this store queued itself is claimed without the read; a claim that then finds
    # nothing more is the last write until something is queued again
    mine = await runs.create(await add_incident(engine, "h"), "opened")
    writes = 0
    claimed = await runs.claim("w2", lease_for=LEASE)
    assert claimed is not None and claimed.id == mine.id and writes == 1
    assert await runs.claim("w3", lease_for=LEASE) is None and writes == 2
    assert await runs.claim("w3", lease_for=LEASE) is None and writes == 2
