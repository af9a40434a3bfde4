"""The anti-pattern gate: for 7 days (configurable) the same symptoms block automatic execution
of the action that failed, and the package names the anti-pattern; not after, not for others."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.actions.executor import ActionStatus
from core.debate.agents import Agents
from core.debate.models import ApprovalState, DecisionPackage, KnowledgeNote
from core.debate.orchestrator import Debate
from core.errors import ConfigError
from core.knowledge.service import KnowledgeService
from core.knowledge.settings import anti_pattern_window
from core.knowledge.source import StoredKnowledge
from core.llm.schemas import DecisionDraft, Proposal
from core.llm.types import Task, ToolCall
from tests.unit.debate.fakes import (
    DESCRIBE,
    RESTART,
    RUN,
    MemoryTurnLog,
    ScriptedCompleter,
    good_answers,
    snapshot,
)
from tests.unit.knowledge.fakes import (
    LABELS,
    Clock,
    MemoryKnowledgeStore,
    RecordingCards,
    RunbookCompleter,
    outcome,
)

#: a read-only, low-risk action: the kind autopilot "low" runs without asking
LOOK = ToolCall(tool="describe_pod", arguments={"pod": "api-7d9f8b6c4-x2x9k"})


def look_answers() -> ScriptedCompleter:
    answers = good_answers()
    solve = answers[Task.SOLVE]
    draft = answers[Task.COORDINATE]
    assert isinstance(solve, Proposal) and isinstance(draft, DecisionDraft)
    answers[Task.SOLVE] = solve.model_copy(update={"action": LOOK})
    answers[Task.COORDINATE] = draft.model_copy(update={"recommended_action": LOOK})
    return ScriptedCompleter(answers)


async def decide(clock: Clock, *notes: KnowledgeNote) -> DecisionPackage:
    agents = Agents(look_answers(), [RESTART, DESCRIBE], clock)
    debate = Debate(
        agents, MemoryTurnLog(), [RESTART, DESCRIBE], clock, ceiling_s=5.0, autopilot="low"
    )
    return await debate.run(RUN, snapshot(knowledge=notes, labels=LABELS))


def note(**changes: object) -> KnowledgeNote:
    values: dict[str, object] = {
        "kind": "anti_pattern",
        "title": "#3 Do not describe_pod for WorkerQueueStuck",
        "body": "...",
        "tool": "describe_pod",
        "entry_id": 3,
    }
    values.update(changes)
    return KnowledgeNote.model_validate(values)


async def test_without_an_anti_pattern_autopilot_runs_the_low_risk_action() -> None:
    package = await decide(Clock())
    assert package.recommended_action == LOOK
    assert not package.requires_human_approval
    assert package.approval.state is ApprovalState.NOT_NEEDED


async def test_an_active_anti_pattern_blocks_autopilot_and_names_itself() -> None:
    clock = Clock()
    package = await decide(clock, note(expires_at=clock.now() + timedelta(days=1)))
    assert package.requires_human_approval
    assert package.approval.state is ApprovalState.WAITING
    assert "#3 Do not describe_pod" in (package.blocked_reason or "")
    assert "#3 Do not describe_pod" in package.why_human
    assert package.recommended_action == LOOK, "a person may still approve it knowingly"


async def test_an_expired_a_similar_or_another_tools_anti_pattern_does_not_gate() -> None:
    clock = Clock()
    for other in (
        note(expires_at=clock.now() - timedelta(seconds=1)),
        note(match="similar", expires_at=clock.now() + timedelta(days=1)),
        note(tool="restart_deployment"),
    ):
        package = await decide(clock, other)
        assert not package.requires_human_approval, other


@pytest.mark.parametrize(
    ("days", "config", "blocked"),
    [
        (6.9, {}, True),
        (7.1, {}, False),
        (1.9, {"knowledge": {"anti_pattern_days": 2}}, True),
        (2.1, {"knowledge": {"anti_pattern_days": 2}}, False),
    ],
)
async def test_a_failure_gates_the_same_symptoms_for_the_window_and_not_after(
    days: float, config: dict[str, object], blocked: bool
) -> None:
    clock, store = Clock(), MemoryKnowledgeStore()
    window = anti_pattern_window(config)
    learn = KnowledgeService(
        store, RecordingCards(), RunbookCompleter(), clock, anti_pattern_window=window
    )
    failed = outcome(ActionStatus.FAILED)
    failed = type(failed)(
        incident=failed.incident,
        package=failed.package.model_copy(update={"recommended_action": LOOK}),
        result=failed.result,
        approved_by=failed.approved_by,
        approved_at=failed.approved_at,
    )
    anti = await learn.learn(failed)
    assert anti is not None
    clock.advance(timedelta(days=days))
    # the same problem on another pod of the same deployment
    labels = {**LABELS, "pod": "api-7d9f8b6c4-zz9zz"}
    notes = await StoredKnowledge(store, clock, window=window).for_symptoms(
        labels, "WorkerQueueStuck"
    )
    package = await decide(clock, *notes)
    assert package.requires_human_approval is blocked
    if blocked:
        assert f"#{anti.id} " in (package.blocked_reason or "")


def test_the_window_setting_is_checked() -> None:
    assert anti_pattern_window({"knowledge": {"files": []}}) == timedelta(days=7)
    for bad in (0, -1, "7", True, 400):
        with pytest.raises(ConfigError, match="anti_pattern_days"):
            anti_pattern_window({"knowledge": {"anti_pattern_days": bad}})
