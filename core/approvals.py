"""Approval requests: who may say yes to a proposed action, how many must, and until when.

What cannot happen, decided here over values (storage only applies it):
- a press counting from someone not in HOWL_APPROVER_IDS, after the request
  was decided, after it expired, or twice from one person: `judge` refuses it
  with a one-line notice and returns no change;
- a critical action running on one person's word: it needs two distinct approvers;
- a request living forever: `expire` turns a waiting request past its
  `expires_at` into an expired one.
Two presses at the same instant cannot both count: the store writes a judged
request only if the row is still at the version judged (see
storage/repositories/approvals.py), and the loser is judged again against the
winner's result.

Pure: no I/O. The store is the `ApprovalStore` protocol below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict

from core.audit import AuditEntry
from core.debate.models import Approval, ApprovalState, DecisionPackage
from core.llm.schemas import RiskLevel
from core.llm.types import ToolCall

Verdict = Literal["approve", "reject"]

#: the name an autopilot approval is recorded under
AUTOPILOT = "autopilot"

NOT_APPROVER = "Only approvers (HOWL_APPROVER_IDS) can decide on actions; nothing changed."
ALREADY_APPROVED_BY_YOU = (
    "You already approved this; a second, different approver must approve too. Nothing changed."
)
EXPIRED = "This approval request has expired; nothing changed."
DECIDED = "This request was already {state}; nothing changed."


class Decider(BaseModel):
    """One person's (or the autopilot's) say on a request."""

    model_config = ConfigDict(frozen=True)

    #: Telegram user id; None for the autopilot
    user_id: int | None
    name: str
    verdict: Verdict
    at: datetime


class ApprovalRequest(BaseModel):
    """One waiting action and what its approvers said; its id is on the buttons, single use."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    run_id: UUID
    incident_id: int
    action: ToolCall
    risk: RiskLevel
    #: distinct approvals needed: 2 for critical risk, else 1
    required: int
    state: ApprovalState
    deciders: tuple[Decider, ...] = ()
    reason: str | None = None
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    #: bumped by every change: a write judged on an older read is refused
    version: int = 1

    @property
    def approvers(self) -> tuple[Decider, ...]:
        return tuple(d for d in self.deciders if d.verdict == "approve")

    @property
    def rejecter(self) -> Decider | None:
        return next((d for d in self.deciders if d.verdict == "reject"), None)


def required_approvals(risk: RiskLevel) -> int:
    """Two distinct approvers for critical risk, one otherwise.

    >>> required_approvals(RiskLevel.CRITICAL), required_approvals(RiskLevel.HIGH)
    (2, 1)
    """
    return 2 if risk is RiskLevel.CRITICAL else 1


def new_request(
    package: DecisionPackage, *, now: datetime, ttl: timedelta, request_id: UUID | None = None
) -> ApprovalRequest:
    """A waiting request for the package's action, expiring `ttl` from now."""
    if package.recommended_action is None:
        raise ValueError("a package without an action has nothing to approve")
    return ApprovalRequest(
        id=request_id or uuid4(),
        run_id=package.run_id,
        incident_id=package.incident_id,
        action=package.recommended_action,
        risk=package.risk_level,
        required=required_approvals(package.risk_level),
        state=ApprovalState.WAITING,
        created_at=now,
        expires_at=now + ttl,
    )


def autopilot_request(
    package: DecisionPackage, *, now: datetime, request_id: UUID | None = None
) -> ApprovalRequest:
    """The record of an action policy let run unasked: approved by the autopilot, now."""
    waiting = new_request(package, now=now, ttl=timedelta(0), request_id=request_id)
    return waiting.model_copy(
        update={
            "state": ApprovalState.APPROVED,
            "deciders": (Decider(user_id=None, name=AUTOPILOT, verdict="approve", at=now),),
            "decided_at": now,
        }
    )


@dataclass(frozen=True)
class Press:
    """A person pressing Approve or Reject on a request's card."""

    user_id: int
    name: str
    verdict: Verdict
    at: datetime


@dataclass(frozen=True)
class Refused:
    """The press counts for nothing; `notice` is the one-line answer."""

    notice: str


@dataclass(frozen=True)
class Counted:
    """The press counts: `after` is the request to write (conditional on its version)."""

    after: ApprovalRequest

    @property
    def decided(self) -> bool:
        return self.after.state is not ApprovalState.WAITING


def judge(
    request: ApprovalRequest, press: Press, *, approvers: frozenset[int]
) -> Refused | Counted:
    """What a press does to a request, or why it does nothing.

    The order matters: a stranger learns nothing about the request's state.
    """
    if press.user_id not in approvers:
        return Refused(NOT_APPROVER)
    if request.state is not ApprovalState.WAITING:
        return Refused(DECIDED.format(state=request.state.value))
    if press.at >= request.expires_at:
        return Refused(EXPIRED)
    if any(d.user_id == press.user_id for d in request.deciders):
        return Refused(ALREADY_APPROVED_BY_YOU)
    said = Decider(user_id=press.user_id, name=press.name, verdict=press.verdict, at=press.at)
    deciders = (*request.deciders, said)
    state = ApprovalState.WAITING
    if press.verdict == "reject":
        state = ApprovalState.REJECTED
    elif sum(d.verdict == "approve" for d in deciders) >= request.required:
        state = ApprovalState.APPROVED
    decided = press.at if state is not ApprovalState.WAITING else None
    return Counted(
        request.model_copy(
            update={
                "deciders": deciders,
                "state": state,
                "decided_at": decided,
                "version": request.version + 1,
            }
        )
    )


def expire(request: ApprovalRequest, *, now: datetime) -> ApprovalRequest | None:
    """The request expired, if it was waiting past its time; None when it stays as it is."""
    if request.state is not ApprovalState.WAITING or now < request.expires_at:
        return None
    return request.model_copy(
        update={"state": ApprovalState.EXPIRED, "decided_at": now, "version": request.version + 1}
    )


def with_reason(request: ApprovalRequest, *, user_id: int, reason: str) -> ApprovalRequest | None:
    """The rejection with its reason, if `user_id` rejected it and gave none yet; else None."""
    rejecter = request.rejecter
    if request.state is not ApprovalState.REJECTED or rejecter is None:
        return None
    if rejecter.user_id != user_id or request.reason is not None:
        return None
    return request.model_copy(update={"reason": reason, "version": request.version + 1})


def package_approval(request: ApprovalRequest) -> Approval:
    """The approval as the decision package (and its card) shows it."""
    if request.state is ApprovalState.REJECTED:
        names = tuple(d.name for d in request.deciders if d.verdict == "reject")
    else:
        names = tuple(d.name for d in request.approvers)
    return Approval(state=request.state, by=names, at=request.decided_at, reason=request.reason)


@dataclass(frozen=True)
class Opened:
    """What is written with a new request, in its transaction: why, and the package's view."""

    audit: AuditEntry
    approval: Approval


class ApprovalStore(Protocol):
    """Approval requests, one per run."""

    async def open(
        self, request: ApprovalRequest, *, opened: Opened | None = None
    ) -> tuple[ApprovalRequest, DecisionPackage | None]:
        """Store the run's request; the one already stored when the run has one (never two).

        When the request is new, `opened` is written with it, in one transaction: its
        audit entry, and its state into the run's package (which comes back; None when
        the request was not new, or the run has no package).
        """
        ...

    async def get(self, request_id: UUID) -> ApprovalRequest | None: ...

    async def for_run(self, run_id: UUID) -> ApprovalRequest | None: ...

    async def write(self, after: ApprovalRequest) -> bool:
        """Write `after` if the stored row is still at `after.version - 1`; False otherwise."""
        ...

    async def due(self, *, now: datetime, limit: int) -> list[ApprovalRequest]:
        """Waiting requests whose time is up, oldest first."""
        ...

    async def approved_not_started(self, *, limit: int) -> list[ApprovalRequest]:
        """Approved requests whose run still waits (a crash or a race between the press
        and the run's own transition left the action unstarted)."""
        ...
