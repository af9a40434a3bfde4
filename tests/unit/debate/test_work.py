"""A debate as a run's work, its scheduling, and the card's progress line, with fakes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from core.alerting.models import Incident, IncidentStatus, Severity
from core.debate.agents import Agents
from core.debate.models import ApprovalState, DebateStatus, DecisionPackage, EvidenceSnapshot
from core.debate.orchestrator import Debate
from core.debate.progress import CardProgress
from core.debate.scheduler import OPENED, DebateScheduler, asked_trigger, priority_of
from core.debate.work import DebateWork, abandoned_package
from core.llm.types import Task
from core.runs import Run, RunEvent, RunState
from tests.unit.debate.fakes import (
    DESCRIBE,
    NOW,
    RESTART,
    RUN,
    FixedClock,
    MemoryTurnLog,
    ScriptedCompleter,
    good_answers,
    snapshot,
)


def a_run(**changes: object) -> Run:
    values: dict[str, object] = {
        "id": RUN,
        "incident_id": 7,
        "trigger": OPENED,
        "state": RunState.RUNNING,
        "attempts": 1,
        "lease_owner": "host:1:0",
        "lease_expires_at": NOW + timedelta(minutes=1),
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "reason": None,
        "version": 2,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return Run.model_validate(values)


class Evidence:
    def __init__(self) -> None:
        self.built: list[int] = []

    async def build(self, incident_id: int) -> EvidenceSnapshot:
        self.built.append(incident_id)
        return snapshot()


class Decisions:
    def __init__(self) -> None:
        self.saved: dict[UUID, DecisionPackage] = {}
        self.looked_up: list[UUID] = []

    async def save(self, package: DecisionPackage) -> DecisionPackage:
        return self.saved.setdefault(package.run_id, package)

    async def for_run(self, run_id: UUID) -> DecisionPackage | None:
        self.looked_up.append(run_id)
        return self.saved.get(run_id)

    async def latest_for_incident(self, incident_id: int) -> DecisionPackage | None:
        return None


class Board:
    def __init__(self) -> None:
        self.stages: list[str] = []

    async def set_stage(self, run: Run, stage: str) -> bool:
        self.stages.append(stage)
        return True


class Announced:
    def __init__(self) -> None:
        self.packages: list[DecisionPackage] = []

    async def __call__(self, package: DecisionPackage) -> None:
        self.packages.append(package)


def work(
    completer: ScriptedCompleter, decisions: Decisions, announced: Announced
) -> tuple[DebateWork, Evidence, Board, list[int]]:
    clock = FixedClock()
    tools = [RESTART, DESCRIBE]
    debate = Debate(Agents(completer, tools, clock), MemoryTurnLog(), tools, clock, ceiling_s=5)
    evidence, board, poked = Evidence(), Board(), []

    def poke(ids: Iterable[int]) -> None:
        poked.extend(ids)

    return (
        DebateWork(evidence, debate, decisions, board, announced, on_card_change=poke),
        evidence,
        board,
        poked,
    )


async def test_a_debate_run_stores_its_package_once_and_waits_for_approval() -> None:
    decisions, announced = Decisions(), Announced()
    debate_work, evidence, board, poked = work(
        ScriptedCompleter(good_answers()), decisions, announced
    )
    assert await debate_work(a_run()) is RunEvent.AWAIT_APPROVAL
    assert evidence.built == [7]
    [package] = announced.packages
    assert decisions.saved == {RUN: package}
    assert package.approval.state is ApprovalState.WAITING
    # a debate done within 2 s shows no progress line, only its end (one card edit)
    assert board.stages == ["posted"]
    assert poked == [7]


async def test_a_package_proposing_nothing_completes_the_run() -> None:
    answers = good_answers()
    answers[Task.COORDINATE] = answers[Task.COORDINATE].model_copy(
        update={"recommended_action": None}
    )
    decisions, announced = Decisions(), Announced()
    debate_work, *_ = work(ScriptedCompleter(answers), decisions, announced)
    assert await debate_work(a_run()) is RunEvent.COMPLETE
    assert announced.packages[0].approval.state is ApprovalState.NOT_NEEDED


async def test_a_reclaimed_run_whose_package_exists_only_posts_it_again() -> None:
    decisions, announced = Decisions(), Announced()
    first, *_ = work(ScriptedCompleter(good_answers()), decisions, announced)
    await first(a_run())
    completer = ScriptedCompleter(good_answers())
    again, evidence, board, _ = work(completer, decisions, announced)
    assert await again(a_run(attempts=2)) is RunEvent.AWAIT_APPROVAL
    assert completer.asked == [] and evidence.built == []
    assert announced.packages[0] == announced.packages[1], "the same package, the same card"
    # the worker that died may have posted the card but not said so on the incident card
    assert board.stages == ["posted"]


async def test_the_incident_card_says_posted_only_once_the_decision_card_is_queued() -> None:
    decisions = Decisions()
    seen: list[list[str]] = []

    class Watching(Announced):
        async def __call__(self, package: DecisionPackage) -> None:
            seen.append(list(board.stages))
            await super().__call__(package)

    debate_work, _, board, _ = work(ScriptedCompleter(good_answers()), decisions, Watching())
    await debate_work(a_run())
    assert seen == [[]] and board.stages == ["posted"]


async def test_only_a_run_that_may_have_a_package_is_looked_up() -> None:
    decisions, announced = Decisions(), Announced()
    debate_work, *_ = work(ScriptedCompleter(good_answers()), decisions, announced)
    await debate_work(a_run())  # a new incident's run, claimed the first time
    assert decisions.looked_up == []
    other = UUID(int=RUN.int + 1)
    decisions.saved[other] = announced.packages[0].model_copy(update={"run_id": other})
    completer = ScriptedCompleter(good_answers())
    # a request in chat stores its package when it makes its run
    chat, *_ = work(completer, decisions, announced)
    assert await chat(a_run(id=other, trigger="chat:41")) is RunEvent.AWAIT_APPROVAL
    assert decisions.looked_up == [other] and completer.asked == []


def test_a_hopeless_run_is_answered_by_a_package_that_asks_for_a_person() -> None:
    package = abandoned_package(a_run(), "lease of w expired on attempt 3 of 3", NOW)
    assert package.status is DebateStatus.TIMEOUT and package.requires_human_approval
    assert package.recommended_action is None
    assert package.approval.state is ApprovalState.NOT_NEEDED
    assert "attempt 3 of 3" in package.why_human and "/debate 7" in package.summary


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_progress_edits_the_card_at_most_every_ten_seconds_and_the_end_at_once() -> None:
    board, mono, naps = Board(), Clock(), asyncio.Queue[float]()
    go = asyncio.Event()

    async def sleep(seconds: float) -> None:
        naps.put_nowait(seconds)
        await go.wait()
        go.clear()

    progress = CardProgress(
        board, a_run(), on_change=lambda _ids: None, monotonic=mono, sleep=sleep
    )
    async with progress.ticking():
        assert await naps.get() == 2.0  # the first tick comes after 2 s
        await progress.progress(RUN, 7, "diagnosing")
        assert board.stages == [], "nothing shown before the first tick"
        mono.t = 2.0
        go.set()  # the first tick: the stage reached by then
        assert await naps.get() == 10.0
        assert board.stages == ["diagnosing"]
        mono.t = 5.0
        await progress.progress(RUN, 7, "solving")  # too soon: shown at the next tick
        assert board.stages == ["diagnosing"]
        mono.t = 12.0
        go.set()  # the tick: the stage reached meanwhile, and the elapsed time, refreshed
        await naps.get()
        assert board.stages == ["diagnosing", "solving"]
        mono.t = 13.0
        await progress.finish("posted")
    assert board.stages == ["diagnosing", "solving", "posted"]


class Runs:
    """The part of RunStore the scheduler uses."""

    def __init__(self, missing: Sequence[int] = ()) -> None:
        self.made: list[tuple[list[tuple[int, int]], str]] = []
        self.missing = list(missing)
        self.asked: list[tuple[int, str, int]] = []

    async def create_many(self, wanted: Sequence[tuple[int, int]], trigger: str) -> int:
        self.made.append((list(wanted), trigger))
        return len(wanted)

    async def without_run(self, trigger: str, *, opened_since: datetime, limit: int) -> list[int]:
        return self.missing

    async def create(self, incident_id: int, trigger: str, *, priority: int = 0) -> Run:
        self.asked.append((incident_id, trigger, priority))
        return a_run(incident_id=incident_id, trigger=trigger, priority=priority)


def incident(incident_id: int, severity: Severity) -> Incident:
    return Incident(
        id=incident_id, group_key=f"g{incident_id}", title="t", severity=severity,
        status=IncidentStatus.FIRING, source="test", created_at=NOW, updated_at=NOW,
    )  # fmt: skip


async def test_new_incidents_get_a_run_each_most_severe_first_and_wake_the_workers() -> None:
    runs, woken = Runs(), []
    scheduler = DebateScheduler(runs, FixedClock(), wake=lambda *_: woken.append(1))  # type: ignore[arg-type]
    scheduler.opened([incident(1, Severity.WARNING), incident(2, Severity.CRITICAL)])
    await scheduler.drain()
    assert runs.made == [([(1, 1), (2, 3)], OPENED)]
    assert priority_of(incident(3, Severity.CRITICAL)) > priority_of(incident(4, Severity.INFO))
    assert woken == [1]


async def test_catch_up_makes_the_runs_a_crash_left_unmade() -> None:
    runs, woken = Runs(missing=[4, 9]), []
    scheduler = DebateScheduler(runs, FixedClock(), wake=lambda *_: woken.append(1))  # type: ignore[arg-type]
    assert await scheduler.catch_up() == 2
    assert runs.made == [([(4, 0), (9, 0)], OPENED)] and woken == [1]


async def test_a_debate_asked_for_goes_first_once_per_update() -> None:
    runs = Runs()
    scheduler = DebateScheduler(runs, FixedClock(), wake=lambda *_: None)  # type: ignore[arg-type]
    run = await scheduler.ask(7, update_id=4242)
    assert runs.asked == [(7, asked_trigger(4242), 10)] and run.trigger == "debate:4242"


async def test_a_stop_arriving_while_the_ticker_ends_is_not_swallowed() -> None:
    """The worker is cancelled just as its debate leaves `ticking()`: it must stop, not go on
    to post and loop for ever (which hung the event loop's shutdown)."""
    outer: asyncio.Task[str]

    async def sleep(_seconds: float) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            outer.cancel()  # the stop arrives while ticking() waits for its ticker to end
            raise

    async def debate() -> str:
        progress = CardProgress(Board(), a_run(), on_change=lambda _ids: None, sleep=sleep)
        async with progress.ticking():
            await asyncio.sleep(0)
        return "went on after being stopped"

    outer = asyncio.create_task(debate())
    with pytest.raises(asyncio.CancelledError):
        await outer
