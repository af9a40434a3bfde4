"""The JSON each task must answer with: one pydantic model per task.

A model's answer is parsed into these and nothing else. Fields a model must
never set about itself (evaluation labels, verification results, success flags,
scores) are listed in `SELF_GRADING_FIELDS` and rejected wherever they appear.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.llm.types import Task, ToolCall


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Higher is riskier (declaration order)."""
        return list(RiskLevel).index(self)


def riskier(*levels: RiskLevel) -> RiskLevel:
    """The highest of `levels`: the one risk ordering every caller shares.

    >>> riskier(RiskLevel.LOW, RiskLevel.HIGH, RiskLevel.MEDIUM).value
    'high'
    """
    return max(levels, key=lambda level: level.rank)


#: keys a model may never emit: grading its own work is the evaluator's job
SELF_GRADING_FIELDS = frozenset(
    {
        "evaluation_label",
        "eval_label",
        "label",
        "labels_expected",
        "expected_action",
        "verified",
        "verification",
        "verification_result",
        "verification_status",
        "success",
        "succeeded",
        "is_correct",
        "correct",
        "score",
        "self_score",
        "grade",
        "passed",
    }
)


class _Answer(BaseModel):
    # extra keys a model adds are dropped (harmless chatter), but see SELF_GRADING_FIELDS
    model_config = ConfigDict(extra="ignore")


class Hypothesis(_Answer):
    cause: str = Field(min_length=1, max_length=500)
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)


class Diagnosis(_Answer):
    """diagnose: ranked hypotheses over the evidence snapshot."""

    summary: str = Field(min_length=1, max_length=500)
    hypotheses: list[Hypothesis] = Field(min_length=1)
    read_only_checks: list[str] = Field(default_factory=list)
    missing_evidence: list[str] = Field(default_factory=list)


class Proposal(_Answer):
    """solve: one action from the registry (or none) and why."""

    action: ToolCall | None = None
    rationale: str = Field(min_length=1, max_length=1500)
    risk_level: RiskLevel
    expected_effect: str = ""
    rollback: str = ""
    read_only_checks: list[str] = Field(default_factory=list)


class Review(_Answer):
    """review: does the proposal follow from the diagnosis and is it safe?"""

    verdict: Literal["approve", "revise", "reject"]
    concerns: list[str] = Field(default_factory=list)
    risk_level: RiskLevel


class Critique(_Answer):
    """critique: the strongest case against the proposal."""

    objections: list[str] = Field(default_factory=list)
    worst_case: str = ""
    risk_level: RiskLevel


class DecisionDraft(_Answer):
    """coordinate: the decision package the humans see."""

    recommended_action: ToolCall | None = None
    risk_level: RiskLevel
    requires_human_approval: bool
    confidence: float = Field(ge=0.0, le=1.0)
    diagnosis: str = Field(min_length=1, max_length=500)
    summary: str = Field(min_length=1, max_length=3000)
    why_human: str = ""
    blocked_reason: str | None = None


class ChatAnswer(_Answer):
    """chat: an answer to a person, and an action they asked for, if any."""

    answer: str = Field(min_length=1, max_length=3500)
    proposed_action: ToolCall | None = None


class ToolChoice(_Answer):
    """tool_call: the one call the model picked (or none)."""

    call: ToolCall | None = None
    reason: str = ""


class RunbookDraft(_Answer):
    """runbook: a reusable procedure written after a successful repair."""

    title: str = Field(min_length=1, max_length=200)
    symptoms: list[str] = Field(min_length=1)
    steps: list[str] = Field(min_length=1)
    verification: list[str] = Field(default_factory=list)
    rollback: str = ""


class DriftReading(_Answer):
    """drift_interpret: what a difference between desired and live state likely means."""

    intent: Literal["likely_intentional", "likely_accidental", "unknown"]
    level: RiskLevel
    explanation: str = Field(min_length=1, max_length=1500)
    recommendation: Literal["rollback", "adopt", "ignore", "investigate"]


#: the contract of each task
TASK_SCHEMAS: dict[Task, type[BaseModel]] = {
    Task.DIAGNOSE: Diagnosis,
    Task.SOLVE: Proposal,
    Task.REVIEW: Review,
    Task.CRITIQUE: Critique,
    Task.COORDINATE: DecisionDraft,
    Task.CHAT: ChatAnswer,
    Task.TOOL_CALL: ToolChoice,
    Task.RUNBOOK: RunbookDraft,
    Task.DRIFT_INTERPRET: DriftReading,
}
