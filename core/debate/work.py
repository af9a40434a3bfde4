"""A debate as a run's work: evidence, the five agents, the package stored once, the card posted.

What a crash cannot do here:
- debate twice after the package was stored: a re-claimed run whose package
  exists only posts it again (the card has the run's key, so the chat shows
  one decision card however often it is posted);
- store two packages for one run: `DecisionStore.save` keeps the first.
The run ends `waiting_approval` whenever the package proposes an action (one
waiting for a person, or one policy lets run unasked): the approval flow
(core/approval_flow.py) takes it from there, so every action runs on one path.
It ends `completed` when there is no action, or its approval was already
refused (a re-claimed run whose request was rejected or expired).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol

import structlog

from core.debate.models import (
    Approval,
    ApprovalState,
    DebateStatus,
    DecisionPackage,
    EvidenceSnapshot,
)
from core.debate.orchestrator import Debate
from core.debate.ports import DecisionStore
from core.debate.progress import CardProgress, StageBoard
from core.debate.scheduler import OPENED
from core.llm.schemas import RiskLevel
from core.runs import Run, RunEvent

log = structlog.get_logger(__name__)

Announce = Callable[[DecisionPackage], Awaitable[None]]


class Evidence(Protocol):
    """Builds an incident's snapshot (see core/debate/evidence.py)."""

    async def build(self, incident_id: int) -> EvidenceSnapshot: ...


#: the stage the incident card shows once the debate is over
FINAL_STAGE = {
    DebateStatus.COMPLETED: "posted",
    DebateStatus.DEGRADED: "posted",
    DebateStatus.TIMEOUT: "timeout",
    DebateStatus.FAILED: "failed",
}


def abandoned_package(run: Run, reason: str, now: datetime) -> DecisionPackage:
    """The answer of a run the reaper timed out (its workers kept dying): a person decides."""
    why = f"the debate could not finish: {reason}"
    return DecisionPackage(
        run_id=run.id,
        incident_id=run.incident_id,
        recommended_action=None,
        risk_level=RiskLevel.HIGH,
        requires_human_approval=True,
        blocked_reason=why,
        confidence=0.0,
        diagnosis="unknown: the debate did not finish",
        summary=f"No decision: {why}. A person decides; /debate {run.incident_id} tries again.",
        why_human=why,
        status=DebateStatus.TIMEOUT,
        approval=Approval(state=ApprovalState.NOT_NEEDED),
        created_at=now,
    )


def ending(package: DecisionPackage) -> RunEvent:
    """How a run ends once its package exists: waiting for its action's approval flow, or done."""
    refused = package.approval.state in (ApprovalState.REJECTED, ApprovalState.EXPIRED)
    if package.recommended_action is None or refused or package.execution is not None:
        return RunEvent.COMPLETE
    return RunEvent.AWAIT_APPROVAL


class DebateWork:
    """The work function of debate runs (see core/run_worker.py)."""

    def __init__(
        self,
        evidence: Evidence,
        debate: Debate,
        decisions: DecisionStore,
        board: StageBoard,
        announce: Announce,
        *,
        on_card_change: Callable[[Iterable[int]], None],
    ) -> None:
        self._evidence = evidence
        self._debate = debate
        self._decisions = decisions
        self._board = board
        self._announce = announce
        self._on_card_change = on_card_change

    async def __call__(self, run: Run) -> RunEvent:
        # a dead worker's run, or one whose package was stored when it was made (a
        # request in chat): posted, not debated again
        stored = await self._stored(run)
        progress = CardProgress(self._board, run, on_change=self._on_card_change)
        if stored is not None:
            log.info("debate_already_decided", incident_id=run.incident_id)
            await self._announce(stored)
            await progress.finish(FINAL_STAGE[stored.status])  # a crash may have left it
            return ending(stored)
        async with progress.ticking():
            snapshot = await self._evidence.build(run.incident_id)
            package = await self._debate.run(run.id, snapshot, progress=progress)
        saved = await self._decisions.save(package)
        log.info(
            "debate_decided",
            incident_id=run.incident_id,
            status=saved.status.value,
            action=saved.recommended_action.tool if saved.recommended_action else None,
            approval=saved.approval.state.value,
        )
        try:
            await self._announce(saved)
        finally:
            # after the decision card is queued: the incident card says it was posted
            await progress.finish(FINAL_STAGE[saved.status])
        return ending(saved)

    async def _stored(self, run: Run) -> DecisionPackage | None:
        if run.trigger == OPENED and run.attempts == 1:
            # the scheduler makes these runs bare and this is their first claim: no
            # package can exist yet, so the read is saved on every new incident's path
            return None
        return await self._decisions.for_run(run.id)
