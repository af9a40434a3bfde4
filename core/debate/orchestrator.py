"""The orchestrator: Diagnostician -> Solver -> (Reviewer || Critic) -> Coordinator -> package.

Guarantees:
- `Debate.run` never raises (but for its own cancellation): past the ceiling
  (HOWL_DEBATE_TIMEOUT_S) or on any unexpected error it returns a package that
  proposes nothing runnable without a person and says why.
- Every turn is appended to the turn log as soon as the agent answered, in
  order, while the next agent is already asked (core/debate/turn_writer.py);
  all of them are in the log before the package is returned.
- The package never asks for less than policy (`core.policy.rule`) requires:
  the Coordinator's draft, the Reviewer's and the Critic's risk levels, a
  degraded debate, thin evidence and a matching anti-pattern can only raise
  the requirement. A Reviewer that rejects the plan vetoes the action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import structlog
from pydantic import BaseModel

from core.debate.agents import Agents, Answer
from core.debate.models import (
    Approval,
    ApprovalState,
    DebateStatus,
    DecisionPackage,
    EvidenceSnapshot,
    KnowledgeNote,
    ReviewSummary,
    Role,
    Vote,
)
from core.debate.ports import ProgressSink, TurnLog
from core.debate.turn_writer import TurnWriter
from core.llm.schemas import (
    Critique,
    DecisionDraft,
    Diagnosis,
    Proposal,
    Review,
    RiskLevel,
    riskier,
)
from core.llm.types import ToolCall, ToolSpec
from core.policy import Autopilot, Situation, rule
from core.ports import Clock

log = structlog.get_logger(__name__)
T = TypeVar("T", bound=BaseModel)

#: below this top-hypothesis confidence the evidence counts as thin: a person decides
THIN_CONFIDENCE = 0.3


class Stage:
    """Where a debate stands, as the incident card shows it."""

    DIAGNOSING = "diagnosing"
    SOLVING = "solving"
    REVIEWING = "reviewing"
    DECIDING = "deciding"


@dataclass
class _Heard:
    """The answers so far (a timeout or an error keeps what was said)."""

    stage: str = Stage.DIAGNOSING
    diagnosis: Diagnosis | None = None
    proposal: Proposal | None = None
    review: Review | None = None
    critique: Critique | None = None
    degraded: list[Role] = field(default_factory=list)
    progress: ProgressSink | None = None
    writer: TurnWriter | None = None

    def take(self, answer: Answer[Any]) -> None:
        if answer.turn.degraded:
            self.degraded.append(answer.turn.role)


class Debate:
    """Runs the five agents for one incident and concludes a decision package."""

    def __init__(
        self,
        agents: Agents,
        turns: TurnLog,
        tools: Sequence[ToolSpec],
        clock: Clock,
        *,
        ceiling_s: float,
        autopilot: Autopilot = "off",
    ) -> None:
        self._agents = agents
        self._turns = turns
        self._tools = {tool.name: tool for tool in tools}
        self._clock = clock
        self._ceiling_s = ceiling_s
        self._autopilot: Autopilot = autopilot

    async def run(
        self, run_id: UUID, snapshot: EvidenceSnapshot, *, progress: ProgressSink | None = None
    ) -> DecisionPackage:
        """The debate's package; never raises (a timeout or an error asks for a person).

        `progress` is told each stage as it begins (the incident card shows it).
        """
        writer = TurnWriter(self._turns)
        heard = _Heard(progress=progress, writer=writer)
        try:
            async with asyncio.timeout(self._ceiling_s):
                return await self._debate(run_id, snapshot, heard)
        except TimeoutError:
            log.warning("debate_timed_out", stage=heard.stage, ceiling_s=self._ceiling_s)
            why = f"the debate passed its ceiling of {self._ceiling_s:g} s while {heard.stage}"
            status = DebateStatus.TIMEOUT
        except Exception as exc:  # the promise: an answer for every incident, whatever broke
            log.exception("debate_failed", stage=heard.stage)
            why = f"the debate failed while {heard.stage} ({type(exc).__name__})"
            status = DebateStatus.FAILED
        await writer.settled()  # what was heard is in the log before the package
        return self._unfinished(run_id, snapshot, heard, status, why)

    async def _debate(
        self, run_id: UUID, snapshot: EvidenceSnapshot, heard: _Heard
    ) -> DecisionPackage:
        agents = self._agents
        await self._at(run_id, snapshot, heard, Stage.DIAGNOSING)
        diagnosis = self._record(heard, await agents.diagnose(run_id, snapshot))
        heard.diagnosis = diagnosis

        await self._at(run_id, snapshot, heard, Stage.SOLVING)
        proposal = self._record(heard, await agents.solve(run_id, snapshot, diagnosis))
        heard.proposal = proposal

        await self._at(run_id, snapshot, heard, Stage.REVIEWING)
        # the Reviewer and the Critic read the same plan and do not hear each other
        async with asyncio.TaskGroup() as group:
            reviewing = group.create_task(agents.review(run_id, snapshot, diagnosis, proposal))
            critiquing = group.create_task(agents.critique(run_id, snapshot, diagnosis, proposal))
        review, critique = self._record_both(heard, reviewing.result(), critiquing.result())
        heard.review, heard.critique = review, critique

        await self._at(run_id, snapshot, heard, Stage.DECIDING)
        draft = self._record(
            heard,
            await agents.coordinate(run_id, snapshot, diagnosis, proposal, review, critique),
        )
        assert heard.writer is not None
        await heard.writer.written()
        return self._conclude(run_id, snapshot, heard, draft)

    def _record(self, heard: _Heard, answer: Answer[T]) -> T:
        heard.take(answer)
        assert heard.writer is not None
        heard.writer.append(answer.turn)
        return answer.value

    def _record_both(
        self, heard: _Heard, review: Answer[Review], critique: Answer[Critique]
    ) -> tuple[Review, Critique]:
        """The Reviewer's and the Critic's turns, heard together: one write."""
        heard.take(review)
        heard.take(critique)
        assert heard.writer is not None
        heard.writer.append(review.turn, critique.turn)
        return review.value, critique.value

    async def _at(
        self, run_id: UUID, snapshot: EvidenceSnapshot, heard: _Heard, stage: str
    ) -> None:
        heard.stage = stage
        if heard.progress is None:
            return
        try:
            await heard.progress.progress(run_id, snapshot.incident_id, stage)
        except Exception:  # the card's progress line is a courtesy: never worth the debate
            log.warning("debate_progress_failed", stage=stage, exc_info=True)

    # --- concluding ------------------------------------------------------------------

    def _conclude(
        self, run_id: UUID, snapshot: EvidenceSnapshot, heard: _Heard, draft: DecisionDraft
    ) -> DecisionPackage:
        assert heard.diagnosis and heard.proposal and heard.review and heard.critique
        status = DebateStatus.DEGRADED if heard.degraded else DebateStatus.COMPLETED
        reasons: list[str] = []
        blocked = draft.blocked_reason
        action = draft.recommended_action
        if action is not None and action.tool not in self._tools:
            blocked, action = f"{action.tool} is not a registered action", None
        review_stands = Role.REVIEWER not in heard.degraded
        if action is not None and review_stands and heard.review.verdict == "reject":
            concerns = "; ".join(heard.review.concerns[:2]) or "no reason given"
            blocked, action = f"the reviewer rejected {action.tool}: {concerns}", None
        risk = riskier(
            draft.risk_level,
            heard.proposal.risk_level,
            heard.review.risk_level,
            heard.critique.risk_level,
        )
        if review_stands and heard.review.verdict == "revise":
            reasons.append("the reviewer asked for the plan to be revised")
        if heard.degraded:
            reasons.append(f"{', '.join(heard.degraded)} abstained (no valid model answer)")
        thin = _thin(snapshot, heard.diagnosis)
        anti = self._anti_pattern(snapshot, action)
        if anti is not None and action is not None:
            until = f" until {anti.expires_at:%Y-%m-%d %H:%M} UTC" if anti.expires_at else ""
            gate = f"anti-pattern {anti.title!r} blocks automatic {action.tool}{until}"
            blocked = blocked or gate
            reasons.append(gate)
        requires = draft.requires_human_approval or bool(reasons)
        if action is not None:
            spec = self._tools[action.tool]
            ruling = rule(
                action.tool,
                flagged_destructive=spec.destructive,
                proposal={"risk_level": risk.value, "requires_human_approval": requires},
                situation=Situation(
                    debate=status.value, thin_evidence=thin, anti_pattern=anti is not None
                ),
                autopilot=self._autopilot,
            )
            risk = riskier(risk, ruling.risk)
            requires = requires or ruling.requires_approval
            reasons.extend(r for r in ruling.reasons if r != "the model asked for a human")
        else:
            if thin:
                reasons.append("the evidence is thin")
            requires = requires or status is not DebateStatus.COMPLETED or thin
        if draft.why_human:
            reasons.insert(0, draft.why_human)
        return DecisionPackage(
            run_id=run_id,
            incident_id=snapshot.incident_id,
            recommended_action=action,
            risk_level=risk,
            requires_human_approval=requires,
            blocked_reason=blocked,
            confidence=draft.confidence,
            diagnosis=draft.diagnosis,
            summary=draft.summary,
            why_human=_join(reasons) if requires else "",
            status=status,
            review=_review_summary(heard),
            degraded_roles=tuple(heard.degraded),
            approval=Approval(
                state=ApprovalState.WAITING
                if action is not None and requires
                else ApprovalState.NOT_NEEDED
            ),
            created_at=self._clock.now(),
        )

    def _unfinished(
        self,
        run_id: UUID,
        snapshot: EvidenceSnapshot,
        heard: _Heard,
        status: DebateStatus,
        why: str,
    ) -> DecisionPackage:
        """What a timed-out or failed debate can still say: what it heard; a person decides."""
        proposal = heard.proposal
        action: ToolCall | None = proposal.action if proposal is not None else None
        if action is not None and action.tool not in self._tools:
            action = None
        if heard.review is not None and heard.review.verdict == "reject":
            action = None
        known = [
            answer.risk_level
            for answer in (proposal, heard.review, heard.critique)
            if answer is not None
        ]
        top = heard.diagnosis.hypotheses[0] if heard.diagnosis is not None else None
        done = "the proposal below is the Solver's, unreviewed" if action else "no action proposed"
        return DecisionPackage(
            run_id=run_id,
            incident_id=snapshot.incident_id,
            recommended_action=action,
            risk_level=riskier(RiskLevel.HIGH, *known),
            requires_human_approval=True,
            blocked_reason=why,
            confidence=top.confidence if top is not None else 0.0,
            diagnosis=top.cause[:500] if top is not None else "unknown: the debate did not finish",
            summary=f"{why[0].upper()}{why[1:]}; {done}. A person decides.",
            why_human=why,
            status=status,
            review=_review_summary(heard),
            degraded_roles=tuple(heard.degraded),
            approval=Approval(
                state=ApprovalState.WAITING if action is not None else ApprovalState.NOT_NEEDED
            ),
            created_at=self._clock.now(),
        )

    def _anti_pattern(
        self, snapshot: EvidenceSnapshot, action: ToolCall | None
    ) -> KnowledgeNote | None:
        """The anti-pattern of these same symptoms that gates `action`, while it is active."""
        if action is None:
            return None
        now = self._clock.now()
        for note in snapshot.knowledge:
            if note.kind != "anti_pattern" or note.tool != action.tool:
                continue
            if note.match != "same_symptoms":
                continue  # close symptoms warn the agents; only the same ones gate
            if note.expires_at is not None and note.expires_at <= now:
                continue  # the window (HOWL_CONFIG [knowledge] anti_pattern_days) has passed
            return note
        return None


def _thin(snapshot: EvidenceSnapshot, diagnosis: Diagnosis) -> bool:
    top = max((h.confidence for h in diagnosis.hypotheses), default=0.0)
    return not snapshot.alerts or top < THIN_CONFIDENCE


def _review_summary(heard: _Heard) -> ReviewSummary:
    review, critique = heard.review, heard.critique
    verdict = Vote.ABSTAIN
    if review is not None and Role.REVIEWER not in heard.degraded:
        verdict = Vote(review.verdict)
    return ReviewSummary(
        reviewer_verdict=verdict,
        concerns=tuple(review.concerns[:5]) if review is not None else (),
        objections=tuple(critique.objections[:5]) if critique is not None else (),
        worst_case=critique.worst_case if critique is not None else "",
    )


def _join(reasons: list[str]) -> str:
    unique = list(dict.fromkeys(r.strip() for r in reasons if r.strip()))
    return "; ".join(unique)[:1000]
