"""The debate's values: the evidence it reads, each agent's turn, and the package it ends with.

These are the contracts between the pieces of the debate (evidence builder,
agents, orchestrator, stores, cards, HTTP views); each piece speaks only these.
The JSON shape of `DecisionPackage` is public (CONTRACT.md, "The decision
package, as JSON"): its field names are stable.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from core.llm.schemas import RiskLevel
from core.llm.types import Task, ToolCall


class Role(StrEnum):
    """The five agents, in the order they speak (Reviewer and Critic together)."""

    DIAGNOSTICIAN = "diagnostician"
    SOLVER = "solver"
    REVIEWER = "reviewer"
    CRITIC = "critic"
    COORDINATOR = "coordinator"

    @property
    def task(self) -> Task:
        """The router task the role is answered as (routes, privacy, budgets apply per task)."""
        return _ROLE_TASKS[self]


_ROLE_TASKS = {
    Role.DIAGNOSTICIAN: Task.DIAGNOSE,
    Role.SOLVER: Task.SOLVE,
    Role.REVIEWER: Task.REVIEW,
    Role.CRITIC: Task.CRITIQUE,
    Role.COORDINATOR: Task.COORDINATE,
}


# --- evidence ---------------------------------------------------------------------------


class AlertEvidence(BaseModel):
    """One alert as the agents see it (already redacted)."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: str
    severity: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime | None = None
    #: the sender's link to the alert's source (Prometheus graph, Grafana panel)
    generator_url: str | None = None


class RelatedAlert(BaseModel):
    """An alert of another incident that fired near this one in time."""

    model_config = ConfigDict(frozen=True)

    incident_id: int
    name: str
    severity: str
    status: str
    labels: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime


class PastIncident(BaseModel):
    """An earlier incident with the same symptoms, and how it ended."""

    model_config = ConfigDict(frozen=True)

    incident_id: int
    title: str
    status: str
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    #: the latest decision of that incident's debate, if it had one
    decision_summary: str | None = None
    recommended_tool: str | None = None


class KnowledgeNote(BaseModel):
    """A published runbook or an active anti-pattern for these symptoms."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["runbook", "anti_pattern"]
    title: str
    body: str
    #: an anti-pattern's tool: automatic repair with it is blocked; a runbook's: what worked
    tool: str | None = None
    #: the arguments that tool ran with when the entry was written
    arguments: dict[str, str] = Field(default_factory=dict)
    #: the knowledge entry's id (core.knowledge), when the note is one
    entry_id: int | None = None
    #: filed under the incident's own symptoms hash, or only lexically close to them;
    #: only an anti-pattern of the same symptoms gates automatic repair
    match: Literal["same_symptoms", "similar"] = "same_symptoms"
    #: an anti-pattern gates until then (None: for as long as it is in the evidence)
    expires_at: datetime | None = None


class MetricQuery(BaseModel):
    """One Prometheus query and what it returned (a short summary, not raw samples)."""

    model_config = ConfigDict(frozen=True)

    name: str
    expr: str
    #: "ok", or why there is no value: "error", "timeout", "empty"
    status: Literal["ok", "empty", "error", "timeout"]
    #: e.g. "3 series; latest 0.93 (min 0.12, max 0.97) over 1h"
    summary: str = ""
    error: str | None = None


class MetricsEvidence(BaseModel):
    """What Prometheus said, or why it said nothing; the debate goes on either way."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "not_configured", "unavailable", "partial"]
    detail: str = ""
    queries: tuple[MetricQuery, ...] = ()


class EvidenceSnapshot(BaseModel):
    """Everything the debate reads about one incident, frozen when the debate starts.

    Built by `core.debate.evidence`; every string in it has passed the redactor.
    """

    model_config = ConfigDict(frozen=True)

    incident_id: int
    title: str
    severity: str
    status: str
    labels: dict[str, str] = Field(default_factory=dict)
    alerts: tuple[AlertEvidence, ...] = ()
    related: tuple[RelatedAlert, ...] = ()
    history: tuple[PastIncident, ...] = ()
    knowledge: tuple[KnowledgeNote, ...] = ()
    metrics: MetricsEvidence = MetricsEvidence(status="not_configured")
    #: what the snapshot could not include, in words (shown to the agents and on the card)
    gaps: tuple[str, ...] = ()
    taken_at: datetime


# --- turns -----------------------------------------------------------------------------


class Vote(StrEnum):
    """What the Reviewer and Critic say of the plan (others do not vote)."""

    APPROVE = "approve"
    REVISE = "revise"
    REJECT = "reject"
    ABSTAIN = "abstain"


class AgentTurn(BaseModel):
    """One agent's turn, as appended to the insert-only turn log."""

    model_config = ConfigDict(frozen=True)

    run_id: UUID
    incident_id: int
    role: Role
    #: sha256 of the canonical JSON the agent was given: same input, same hash
    input_hash: str
    #: the agent's answer, its task's contract as JSON (the safe fallback when degraded)
    output: dict[str, Any]
    latency_s: float
    vote: Vote | None = None
    #: the provider failed or answered garbage: the agent abstained
    degraded: bool = False
    provider: str = ""
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    created_at: datetime


# --- the decision package ---------------------------------------------------------------


class DebateStatus(StrEnum):
    COMPLETED = "completed"
    #: at least one agent abstained; the package stands on the others
    DEGRADED = "degraded"
    #: the ceiling (HOWL_DEBATE_TIMEOUT_S) passed: a person decides
    TIMEOUT = "timeout"
    #: an unexpected error: a person decides
    FAILED = "failed"


class ApprovalState(StrEnum):
    WAITING = "waiting"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    NOT_NEEDED = "not_needed"


class Approval(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: ApprovalState
    #: who decided (display names), in order
    by: tuple[str, ...] = ()
    at: datetime | None = None
    #: a rejecter's reason, given in reply to the bot's question (optional)
    reason: str | None = None


class ExecutionState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    #: never started: the registry refused the call (unknown action, an argument off pattern)
    REFUSED = "refused"


class Execution(BaseModel):
    """What became of the approved action: shown on the card, kept in the package."""

    model_config = ConfigDict(frozen=True)

    state: ExecutionState
    started_at: datetime
    finished_at: datetime | None = None
    exit_code: int | None = None
    duration_s: float | None = None
    #: what failed, in words ("exited with status 3", "killed after 10s"); empty on success
    reason: str = ""
    #: the last lines of stdout and stderr, redacted and trimmed
    stdout: str = ""
    stderr: str = ""


class ReviewSummary(BaseModel):
    """What the Reviewer and the Critic said, for the card and the JSON view."""

    model_config = ConfigDict(frozen=True)

    reviewer_verdict: Vote = Vote.ABSTAIN
    concerns: tuple[str, ...] = ()
    objections: tuple[str, ...] = ()
    worst_case: str = ""


class DecisionPackage(BaseModel):
    """What the debate concluded: shown as the decision card, stored, served as JSON."""

    model_config = ConfigDict(frozen=True)

    run_id: UUID
    incident_id: int
    recommended_action: ToolCall | None = None
    risk_level: RiskLevel
    requires_human_approval: bool
    blocked_reason: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    diagnosis: str
    summary: str
    why_human: str = ""
    status: DebateStatus
    review: ReviewSummary = ReviewSummary()
    #: roles that abstained (provider failed or answered garbage)
    degraded_roles: tuple[Role, ...] = ()
    approval: Approval
    created_at: datetime
    #: the approved action's run and result; None until it starts (added field, contract-safe)
    execution: Execution | None = None

    @property
    def waits_for_approval(self) -> bool:
        """An action is proposed and a person must say yes before it runs."""
        return self.recommended_action is not None and self.approval.state is ApprovalState.WAITING
