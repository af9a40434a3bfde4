"""A debate run the reaper times out still answers its incident: a package asking for a person."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.debates import DebateRuntime
from core.debate.models import ApprovalState, DebateStatus, DecisionPackage
from core.debate.scheduler import DebateScheduler
from core.runs import RunEvent, RunState
from storage.db import session_factory
from storage.repositories import SqlDecisionStore
from tests.run_scenarios import LEASE, FakeClock, add_incident, store


class Posted:
    def __init__(self) -> None:
        self.packages: list[DecisionPackage] = []

    async def __call__(self, package: DecisionPackage) -> None:
        self.packages.append(package)


async def test_a_run_out_of_attempts_is_answered_once_with_a_package_asking_for_a_person(
    engine: AsyncEngine,
) -> None:
    clock = FakeClock()
    runs = store(engine, clock)
    created = await runs.create(await add_incident(engine), "opened")
    decisions, posted = SqlDecisionStore(session_factory(engine)), Posted()
    poked: list[int] = []
    runtime = DebateRuntime(
        runs=runs,
        decisions=decisions,
        scheduler=DebateScheduler(runs, clock, wake=lambda *_: None),
        announce=posted,  # type: ignore[arg-type]
        clock=clock,
        workers=[],
        on_card_change=poked.extend,
    )
    moves = []
    for _ in range(3):  # three workers die holding it
        assert await runs.claim("gone", lease_for=LEASE) is not None
        clock.advance(LEASE * 2)
        moves += [d.event for d in await runtime.reap()]
    assert moves == [RunEvent.EXPIRE, RunEvent.EXPIRE, RunEvent.TIME_OUT]
    timed_out = await runs.get(created.id)
    assert timed_out is not None and timed_out.state is RunState.TIMED_OUT
    assert timed_out.stage == "timeout" and poked == [created.incident_id], "the card says so"
    [package] = posted.packages
    assert package.run_id == created.id and package.status is DebateStatus.TIMEOUT
    assert package.requires_human_approval and package.recommended_action is None
    assert package.approval.state is ApprovalState.NOT_NEEDED
    assert "on attempt 3 of 3" in package.why_human
    assert await decisions.for_run(created.id) == package
    assert await runtime.reap() == [] and len(posted.packages) == 1, "answered once"
