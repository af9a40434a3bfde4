"""The pure approval rules: who may press, how many must, until when, and once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from core.approvals import (
    ALREADY_APPROVED_BY_YOU,
    AUTOPILOT,
    EXPIRED,
    NOT_APPROVER,
    ApprovalRequest,
    Counted,
    Press,
    Refused,
    autopilot_request,
    expire,
    judge,
    new_request,
    package_approval,
    required_approvals,
    with_reason,
)
from core.debate.models import Approval, ApprovalState, DebateStatus, DecisionPackage
from core.llm.schemas import RiskLevel
from core.llm.types import ToolCall

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
RUN = UUID("019b76da-7c4e-7a31-9f2b-3c5d8e1f0a42")
ALICE, BOB, MALLORY = 501, 502, 666
APPROVERS = frozenset({ALICE, BOB})
TTL = timedelta(minutes=15)


def package(risk: RiskLevel = RiskLevel.MEDIUM) -> DecisionPackage:
    return DecisionPackage(
        run_id=RUN,
        incident_id=7,
        recommended_action=ToolCall(tool="restart_deployment", arguments={"name": "api"}),
        risk_level=risk,
        requires_human_approval=True,
        confidence=0.5,
        diagnosis="d",
        summary="s",
        status=DebateStatus.COMPLETED,
        approval=Approval(state=ApprovalState.WAITING),
        created_at=T0,
    )


def request(risk: RiskLevel = RiskLevel.MEDIUM) -> ApprovalRequest:
    return new_request(package(risk), now=T0, ttl=TTL)


def press(user: int, verdict: str = "approve", *, after: timedelta = timedelta(0)) -> Press:
    return Press(user_id=user, name=f"user{user}", verdict=verdict, at=T0 + after)  # type: ignore[arg-type]


def counted(result: Refused | Counted) -> ApprovalRequest:
    assert isinstance(result, Counted), result
    return result.after


def test_a_request_has_its_own_id_an_expiry_and_the_approvals_its_risk_needs() -> None:
    first, second = request(), request()
    assert first.id != second.id != RUN, "a fresh single-use id each time, never the run's"
    assert first.expires_at == T0 + TTL and first.state is ApprovalState.WAITING
    assert (first.required, request(RiskLevel.CRITICAL).required) == (1, 2)
    assert [required_approvals(r) for r in RiskLevel] == [1, 1, 1, 2]
    with pytest.raises(ValueError, match="nothing to approve"):
        new_request(package().model_copy(update={"recommended_action": None}), now=T0, ttl=TTL)


def test_one_approver_decides_a_non_critical_request() -> None:
    after = counted(judge(request(), press(ALICE), approvers=APPROVERS))
    assert after.state is ApprovalState.APPROVED and after.decided_at == T0
    assert after.version == 2 and [d.user_id for d in after.approvers] == [ALICE]
    assert package_approval(after) == Approval(state=ApprovalState.APPROVED, by=("user501",), at=T0)


def test_a_stranger_is_refused_before_anything_about_the_request_is_said() -> None:
    decided = counted(judge(request(), press(ALICE), approvers=APPROVERS))
    assert judge(decided, press(MALLORY), approvers=APPROVERS) == Refused(NOT_APPROVER)
    assert judge(request(), press(MALLORY, "reject"), approvers=APPROVERS) == Refused(NOT_APPROVER)
    assert judge(request(), press(ALICE), approvers=frozenset()) == Refused(NOT_APPROVER)


@pytest.mark.parametrize("verdict", ["approve", "reject"])
def test_a_decided_request_refuses_every_further_press(verdict: str) -> None:
    decided = counted(judge(request(), press(ALICE, verdict), approvers=APPROVERS))
    state = decided.state.value
    for again in (press(ALICE), press(BOB), press(BOB, "reject")):
        assert judge(decided, again, approvers=APPROVERS) == Refused(
            f"This request was already {state}; nothing changed."
        )


def test_a_press_at_or_after_expiry_is_refused_and_expiry_happens_once() -> None:
    waiting = request()
    assert judge(waiting, press(ALICE, after=TTL), approvers=APPROVERS) == Refused(EXPIRED)
    assert judge(waiting, press(ALICE, after=TTL - timedelta(seconds=1)), approvers=APPROVERS)
    assert expire(waiting, now=T0 + TTL - timedelta(seconds=1)) is None
    expired = expire(waiting, now=T0 + TTL)
    assert expired is not None and expired.state is ApprovalState.EXPIRED
    assert expired.version == waiting.version + 1
    assert expire(expired, now=T0 + 2 * TTL) is None, "expired once"
    assert package_approval(expired).state is ApprovalState.EXPIRED


def test_critical_needs_two_distinct_approvers() -> None:
    critical = request(RiskLevel.CRITICAL)
    once = counted(judge(critical, press(ALICE), approvers=APPROVERS))
    assert once.state is ApprovalState.WAITING and once.decided_at is None
    assert package_approval(once) == Approval(state=ApprovalState.WAITING, by=("user501",))
    assert judge(once, press(ALICE, after=timedelta(seconds=1)), approvers=APPROVERS) == Refused(
        ALREADY_APPROVED_BY_YOU
    )
    twice = counted(judge(once, press(BOB, after=timedelta(seconds=2)), approvers=APPROVERS))
    assert twice.state is ApprovalState.APPROVED and len(twice.approvers) == 2
    assert twice.version == critical.version + 2


def test_one_reject_ends_a_critical_request_even_after_an_approval() -> None:
    once = counted(judge(request(RiskLevel.CRITICAL), press(ALICE), approvers=APPROVERS))
    rejected = counted(judge(once, press(BOB, "reject"), approvers=APPROVERS))
    assert rejected.state is ApprovalState.REJECTED
    assert rejected.rejecter is not None and rejected.rejecter.user_id == BOB
    assert package_approval(rejected).by == ("user502",)


def test_only_the_rejecter_gives_a_reason_and_only_once() -> None:
    rejected = counted(judge(request(), press(BOB, "reject"), approvers=APPROVERS))
    assert with_reason(rejected, user_id=ALICE, reason="no") is None
    given = with_reason(rejected, user_id=BOB, reason="wrong service")
    assert given is not None and given.reason == "wrong service"
    assert package_approval(given).reason == "wrong service"
    assert with_reason(given, user_id=BOB, reason="again") is None
    assert with_reason(request(), user_id=BOB, reason="not rejected") is None


def test_the_autopilot_record_is_approved_by_the_autopilot_at_once() -> None:
    record = autopilot_request(package(RiskLevel.LOW), now=T0)
    assert record.state is ApprovalState.APPROVED and record.decided_at == T0
    assert [(d.user_id, d.name) for d in record.approvers] == [(None, AUTOPILOT)]
    assert judge(record, press(ALICE), approvers=APPROVERS) == Refused(
        "This request was already approved; nothing changed."
    )
