"""The reaper's decision over values: which runs, and what they become."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from core.runs import Reaping, Run, RunEvent, RunState, decide_reaping
from tests.run_scenarios import LEASE, T0, FakeClock


def run(n: int, state: RunState, *, attempts: int = 1, expires: datetime | None = None) -> Run:
    leased = state in {RunState.LEASED, RunState.RUNNING, RunState.EXECUTING}
    return Run(
        id=UUID(int=n),
        incident_id=7,
        trigger=f"t{n}",
        state=state,
        attempts=attempts,
        lease_owner="w1" if leased else None,
        lease_expires_at=(expires or T0 + LEASE) if leased else None,
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        reason=None,
        version=3,
        created_at=T0,
        updated_at=T0,
    )


def moves(decisions: list[Reaping]) -> dict[int, tuple[RunEvent, str]]:
    return {d.run.id.int: (d.event, d.reason) for d in decisions}


def test_nothing_is_reaped_while_leases_hold() -> None:
    clock = FakeClock()
    runs = [run(1, RunState.LEASED), run(2, RunState.RUNNING), run(3, RunState.EXECUTING)]
    assert decide_reaping(runs, now=clock.now(), max_attempts=3) == []
    clock.advance(LEASE - timedelta(microseconds=1))
    assert decide_reaping(runs, now=clock.now(), max_attempts=3) == []


def test_an_expired_lease_goes_back_to_pending_until_the_retry_limit() -> None:
    clock = FakeClock()
    runs = [
        run(1, RunState.LEASED, attempts=1),
        run(2, RunState.RUNNING, attempts=2),
        run(3, RunState.RUNNING, attempts=3),
    ]
    clock.advance(LEASE)  # expiry is inclusive: at the instant the lease ends, it is gone
    assert moves(decide_reaping(runs, now=clock.now(), max_attempts=3)) == {
        1: (RunEvent.EXPIRE, "lease of w1 expired; retrying"),
        2: (RunEvent.EXPIRE, "lease of w1 expired; retrying"),
        3: (RunEvent.TIME_OUT, "lease of w1 expired on attempt 3 of 3"),
    }


def test_an_executing_run_times_out_at_once_and_is_never_retried() -> None:
    clock = FakeClock()
    clock.advance(LEASE * 2)
    [decision] = decide_reaping([run(1, RunState.EXECUTING)], now=clock.now(), max_attempts=3)
    assert decision.event is RunEvent.TIME_OUT
    assert decision.reason == (
        "lease of w1 expired while executing; not retried so the action cannot run twice"
    )


def test_runs_without_a_lease_are_left_alone() -> None:
    clock = FakeClock()
    clock.advance(timedelta(days=30))
    idle = [
        run(n, state)
        for n, state in enumerate(RunState)
        if state not in {RunState.LEASED, RunState.RUNNING, RunState.EXECUTING}
    ]
    assert decide_reaping(idle, now=clock.now(), max_attempts=1) == []


def test_the_decision_carries_the_run_as_read() -> None:
    clock = FakeClock()
    clock.advance(LEASE)
    expired = run(1, RunState.RUNNING)
    [decision] = decide_reaping([expired], now=clock.now(), max_attempts=3)
    assert decision.run is expired, "storage applies it only if the run is still at this version"
