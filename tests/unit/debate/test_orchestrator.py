"""The debate with fake providers: order, concurrency, degradation, ceiling, errors, policy."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from core.debate.agents import Agents
from core.debate.models import (
    ApprovalState,
    DebateStatus,
    KnowledgeNote,
    Role,
    Vote,
)
from core.debate.orchestrator import Debate
from core.llm.schemas import Critique, DecisionDraft, Review
from core.llm.schemas import RiskLevel as R
from core.llm.types import ChatRequest, Task
from tests.unit.debate.fakes import (
    CALL,
    DESCRIBE,
    RESTART,
    RUN,
    FixedClock,
    MemoryTurnLog,
    RecordingProgress,
    ScriptedCompleter,
    good_answers,
    hang,
    snapshot,
)


def debate(
    completer: ScriptedCompleter,
    turns: MemoryTurnLog | None = None,
    *,
    ceiling_s: float = 5.0,
    autopilot: str = "off",
) -> tuple[Debate, MemoryTurnLog]:
    log = turns or MemoryTurnLog()
    clock = FixedClock()
    agents = Agents(completer, [RESTART, DESCRIBE], clock)
    return (
        Debate(
            agents,
            log,
            [RESTART, DESCRIBE],
            clock,
            ceiling_s=ceiling_s,
            autopilot=autopilot,  # type: ignore[arg-type]
        ),
        log,
    )


async def test_agents_speak_in_order_and_every_turn_is_logged() -> None:
    completer = ScriptedCompleter(good_answers())
    progress = RecordingProgress()
    run, turns = debate(completer)
    package = await run.run(RUN, snapshot(), progress=progress)
    assert completer.asked[:2] == [Task.DIAGNOSE, Task.SOLVE]
    assert set(completer.asked[2:4]) == {Task.REVIEW, Task.CRITIQUE}
    assert completer.asked[4] == Task.COORDINATE
    assert [t.role for t in turns.turns][:2] == [Role.DIAGNOSTICIAN, Role.SOLVER]
    assert turns.turns[-1].role is Role.COORDINATOR and len(turns.turns) == 5
    assert all(t.run_id == RUN and t.incident_id == 7 and not t.degraded for t in turns.turns)
    assert {t.role: t.vote for t in turns.turns}[Role.REVIEWER] is Vote.APPROVE
    assert progress.stages == ["diagnosing", "solving", "reviewing", "deciding"]
    assert package.status is DebateStatus.COMPLETED
    assert package.recommended_action == CALL


async def test_each_agent_is_given_what_it_needs() -> None:
    completer = ScriptedCompleter(good_answers())
    run, _ = debate(completer)
    await run.run(RUN, snapshot())
    by_task = {r.task: r for r in completer.requests}
    assert "proposal" not in by_task[Task.DIAGNOSE].context
    assert by_task[Task.DIAGNOSE].tools == []
    assert [t.name for t in by_task[Task.SOLVE].tools] == ["restart_deployment", "describe_pod"]
    assert by_task[Task.SOLVE].context["labels"]["deployment"] == "api"
    assert by_task[Task.REVIEW].context["proposal"]["action"]["tool"] == "restart_deployment"
    assert "review" not in by_task[Task.CRITIQUE].context  # the critic does not hear the reviewer
    assert set(by_task[Task.COORDINATE].context) >= {"diagnosis", "proposal", "review", "critique"}


async def test_reviewer_and_critic_run_concurrently() -> None:
    arrived = {Task.REVIEW: asyncio.Event(), Task.CRITIQUE: asyncio.Event()}
    answers = good_answers()

    def waits_for(other: Task, answer: BaseModel):  # type: ignore[no-untyped-def]
        async def answer_when_both_asked(request: ChatRequest) -> BaseModel:
            arrived[request.task].set()
            # answered only once the other agent's request is in flight too
            await asyncio.wait_for(arrived[other].wait(), timeout=2)
            return answer

        return answer_when_both_asked

    script = {
        **answers,
        Task.REVIEW: waits_for(Task.CRITIQUE, answers[Task.REVIEW]),
        Task.CRITIQUE: waits_for(Task.REVIEW, answers[Task.CRITIQUE]),
    }
    run, _ = debate(ScriptedCompleter(script))
    package = await run.run(RUN, snapshot())
    assert package.status is DebateStatus.COMPLETED


@pytest.mark.parametrize(
    "task", [Task.DIAGNOSE, Task.SOLVE, Task.REVIEW, Task.CRITIQUE, Task.COORDINATE]
)
async def test_a_failing_agent_abstains_and_the_debate_goes_on(task: Task) -> None:
    completer = ScriptedCompleter(good_answers(), failing=frozenset({task}))
    run, turns = debate(completer, autopilot="low")
    package = await run.run(RUN, snapshot())
    role = next(r for r in Role if r.task is task)
    degraded = [t for t in turns.turns if t.degraded]
    assert [t.role for t in degraded] == [role]
    assert degraded[0].error and "ProviderTimeout" in degraded[0].error
    assert len(turns.turns) == 5
    assert package.status is DebateStatus.DEGRADED
    assert package.degraded_roles == (role,)
    # even with autopilot on, a degraded debate needs a person
    assert package.requires_human_approval
    assert "abstained" in package.why_human


async def test_the_ceiling_ends_the_debate_with_a_package_that_asks_for_a_person() -> None:
    completer = ScriptedCompleter({**good_answers(), Task.REVIEW: hang})
    run, turns = debate(completer, ceiling_s=0.2, autopilot="low")
    package = await asyncio.wait_for(run.run(RUN, snapshot()), timeout=3)
    assert package.status is DebateStatus.TIMEOUT
    assert package.requires_human_approval
    assert "ceiling of 0.2 s while reviewing" in (package.blocked_reason or "")
    # what was said before the ceiling is kept, and marked unreviewed
    assert package.recommended_action == CALL
    assert package.approval.state is ApprovalState.WAITING
    assert package.risk_level is R.HIGH
    assert [t.role for t in turns.turns] == [Role.DIAGNOSTICIAN, Role.SOLVER]


async def test_an_unexpected_error_becomes_a_failed_package() -> None:
    completer = ScriptedCompleter({**good_answers(), Task.SOLVE: RuntimeError("boom")})
    run, _ = debate(completer)
    package = await run.run(RUN, snapshot())
    assert package.status is DebateStatus.FAILED
    assert package.requires_human_approval and package.recommended_action is None
    assert package.approval.state is ApprovalState.NOT_NEEDED
    assert "failed while solving (RuntimeError)" in package.why_human


async def test_cancellation_is_not_swallowed() -> None:
    completer = ScriptedCompleter({**good_answers(), Task.DIAGNOSE: hang})
    run, _ = debate(completer)
    task = asyncio.create_task(run.run(RUN, snapshot()))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_reviewer_vetoes_a_plan_it_rejects() -> None:
    review = Review(verdict="reject", concerns=["risk exceeds the evidence"], risk_level=R.HIGH)
    completer = ScriptedCompleter({**good_answers(), Task.REVIEW: review})
    run, _ = debate(completer)
    package = await run.run(RUN, snapshot())
    assert package.recommended_action is None
    assert package.blocked_reason == (
        "the reviewer rejected restart_deployment: risk exceeds the evidence"
    )
    assert package.review.reviewer_verdict is Vote.REJECT
    assert package.risk_level is R.HIGH


async def test_the_critic_raises_the_risk_the_solver_claimed() -> None:
    critique = Critique(objections=["a bad node fits too"], worst_case="outage", risk_level=R.HIGH)
    completer = ScriptedCompleter({**good_answers(), Task.CRITIQUE: critique})
    run, _ = debate(completer, autopilot="low")
    package = await run.run(RUN, snapshot())
    assert package.risk_level is R.HIGH
    assert package.requires_human_approval and "risk is high" in package.why_human
    assert package.review.objections == ("a bad node fits too",)


async def test_nothing_a_model_says_lowers_what_policy_requires() -> None:
    # every agent says low risk and no human, for a destructive action, autopilot on
    run, _ = debate(ScriptedCompleter(good_answers()), autopilot="low")
    package = await run.run(RUN, snapshot())
    assert package.requires_human_approval
    assert package.approval.state is ApprovalState.WAITING
    assert "restart_deployment is destructive" in package.why_human
    assert package.risk_level is R.MEDIUM


async def test_an_unregistered_action_is_never_recommended() -> None:
    draft = good_answers()[Task.COORDINATE].model_copy(
        update={"recommended_action": CALL.model_copy(update={"tool": "rm_rf"})}
    )
    assert isinstance(draft, DecisionDraft)
    completer = ScriptedCompleter({**good_answers(), Task.COORDINATE: draft})
    run, _ = debate(completer)
    package = await run.run(RUN, snapshot())
    assert package.recommended_action is None
    assert package.blocked_reason == "rm_rf is not a registered action"


async def test_an_anti_pattern_blocks_automatic_repair_and_names_itself() -> None:
    note = KnowledgeNote(
        kind="anti_pattern", title="restarting api loses sessions", body="...", tool=CALL.tool
    )
    run, _ = debate(ScriptedCompleter(good_answers()), autopilot="low")
    package = await run.run(RUN, snapshot(knowledge=(note,)))
    assert package.requires_human_approval
    assert "restarting api loses sessions" in (package.blocked_reason or "")
    assert "a known anti-pattern matches" in package.why_human


async def test_thin_evidence_asks_for_a_person_even_without_an_action() -> None:
    answers = good_answers()
    draft = answers[Task.COORDINATE].model_copy(
        update={"recommended_action": None, "requires_human_approval": False}
    )
    completer = ScriptedCompleter({**answers, Task.COORDINATE: draft})
    run, _ = debate(completer)
    package = await run.run(RUN, snapshot(alerts=()))
    assert package.recommended_action is None
    assert package.requires_human_approval and package.why_human == "the evidence is thin"
    assert package.approval.state is ApprovalState.NOT_NEEDED


async def test_the_same_input_gives_the_same_input_hash() -> None:
    first, second = MemoryTurnLog(), MemoryTurnLog()
    await debate(ScriptedCompleter(good_answers()), first)[0].run(RUN, snapshot())
    await debate(ScriptedCompleter(good_answers()), second)[0].run(RUN, snapshot())
    assert [t.input_hash for t in first.turns] == [t.input_hash for t in second.turns]
    hashes = {t.role: t.input_hash for t in first.turns}
    # the Reviewer and the Critic read the same plan; every other role reads its own input
    assert hashes[Role.REVIEWER] == hashes[Role.CRITIC]
    assert len(set(hashes.values())) == 4


async def test_a_call_waits_for_a_provider_slot_with_its_stage_as_priority() -> None:
    """In a storm the debates further along go first (core/slots.py)."""
    completer = ScriptedCompleter(good_answers())
    run, _ = debate(completer)
    await run.run(RUN, snapshot())
    priority = {r.task: r.priority for r in completer.requests}
    assert priority == {
        Task.DIAGNOSE: 0, Task.SOLVE: 1, Task.REVIEW: 2, Task.CRITIQUE: 2, Task.COORDINATE: 3
    }  # fmt: skip
