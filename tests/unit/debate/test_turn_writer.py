"""Turns are written behind the debate: in order, off its critical path, all before the package."""

from __future__ import annotations

import asyncio

import pytest

from core.debate.models import AgentTurn, DebateStatus, Role
from core.debate.turn_writer import TurnWriter
from core.llm.types import ChatRequest, Task
from tests.unit.debate.fakes import RUN, MemoryTurnLog, ScriptedCompleter, good_answers, snapshot
from tests.unit.debate.test_orchestrator import debate


class GatedTurnLog(MemoryTurnLog):
    """Each append waits for the gate: a slow database."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.started: list[Role] = []

    async def append(self, *turns: AgentTurn) -> None:
        self.started.extend(t.role for t in turns)
        await self.gate.wait()
        await super().append(*turns)


class FailingTurnLog(MemoryTurnLog):
    def __init__(self, fail_on: Role) -> None:
        super().__init__()
        self.fail_on = fail_on

    async def append(self, *turns: AgentTurn) -> None:
        if any(turn.role is self.fail_on for turn in turns):
            raise ConnectionError("database went away")
        await super().append(*turns)


async def test_the_next_agent_is_asked_while_the_last_turn_is_still_being_written() -> None:
    turns = GatedTurnLog()
    seen_when_solving: list[list[AgentTurn]] = []
    answers = good_answers()
    solved = answers[Task.SOLVE]

    async def solve(_request: ChatRequest) -> object:
        seen_when_solving.append(list(turns.turns))
        return solved

    run, _ = debate(ScriptedCompleter({**answers, Task.SOLVE: solve}), turns)
    task = asyncio.create_task(run.run(RUN, snapshot()))
    for _ in range(50):
        await asyncio.sleep(0)
    # every agent answered, but no write finished: the package waits for them
    assert seen_when_solving == [[]]
    assert not task.done()
    turns.gate.set()
    package = await task
    assert package.status is DebateStatus.COMPLETED
    roles = [t.role for t in turns.turns]
    assert roles[:2] == [Role.DIAGNOSTICIAN, Role.SOLVER] and roles[-1] is Role.COORDINATOR
    assert len(roles) == 5 and turns.started == roles, "written one at a time, in order"


async def test_a_failed_turn_write_fails_the_debate_and_nothing_after_it_is_written() -> None:
    turns = FailingTurnLog(fail_on=Role.SOLVER)
    run, _ = debate(ScriptedCompleter(good_answers()), turns)
    package = await run.run(RUN, snapshot())
    assert package.status is DebateStatus.FAILED
    assert "(ConnectionError)" in package.why_human and package.requires_human_approval
    assert [t.role for t in turns.turns] == [Role.DIAGNOSTICIAN]


async def test_a_write_that_failed_is_raised_by_the_next_append_and_by_written() -> None:
    turns = FailingTurnLog(fail_on=Role.DIAGNOSTICIAN)
    writer = TurnWriter(turns)
    run, _ = debate(ScriptedCompleter(good_answers()), MemoryTurnLog())
    first = (await run._agents.diagnose(RUN, snapshot())).turn
    writer.append(first)
    await asyncio.sleep(0)
    with pytest.raises(ConnectionError):
        writer.append(first.model_copy(update={"role": Role.SOLVER}))
    with pytest.raises(ConnectionError):
        await writer.written()
    await writer.settled()  # logged, not raised
    assert turns.turns == []


async def test_the_reviewer_and_the_critic_are_written_in_one_write() -> None:
    class Batches(MemoryTurnLog):
        def __init__(self) -> None:
            super().__init__()
            self.writes: list[list[Role]] = []

        async def append(self, *turns: AgentTurn) -> None:
            self.writes.append([t.role for t in turns])
            await super().append(*turns)

    turns = Batches()
    run, _ = debate(ScriptedCompleter(good_answers()), turns)
    await run.run(RUN, snapshot())
    assert turns.writes == [
        [Role.DIAGNOSTICIAN],
        [Role.SOLVER],
        [Role.REVIEWER, Role.CRITIC],
        [Role.COORDINATOR],
    ]
