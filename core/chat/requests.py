"""A chat request's pure parts: which incident it is about, and the package it becomes.

The package of a chat request always waits for an approver: policy
(`core.policy.rule`) is asked what the action needs and can only add reasons,
and nothing in the person's text or the model's answer can take one away.

>>> named_incident("restart it, see #12 and #13")
12
>>> named_incident("restart the api") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from core.alerting.models import Actor, IncidentView
from core.chat.prompts import call_text
from core.debate.models import (
    Approval,
    ApprovalState,
    DebateStatus,
    DecisionPackage,
    ReviewSummary,
)
from core.llm.types import ToolCall
from core.policy import Autopilot, Situation, rule
from core.runs import Run

_NAMED = re.compile(r"#(\d{1,12})\b")
#: why every chat request waits, before whatever policy adds
CHAT_REASON = "asked for in chat: a person approves every chat request"
NOT_REVIEWED = "not reviewed: a chat request skips the debate; the approver is the review"


def named_incident(text: str) -> int | None:
    """The first incident the text names as `#<id>`."""
    match = _NAMED.search(text)
    return int(match[1]) if match else None


def labels_of(view: IncidentView) -> dict[str, str]:
    """The incident's labels with its alerts' (the firing ones win a clash)."""
    merged = dict(view.incident.labels)
    for alert in sorted(view.alerts, key=lambda a: a.status == "firing"):
        merged.update(alert.labels)
    return merged


def matches(call: ToolCall, labels: Mapping[str, str]) -> bool:
    """Every argument that names something (not a count) is one of the incident's label values.

    >>> call = ToolCall(tool="restart", arguments={"name": "api", "namespace": "prod"})
    >>> matches(call, {"deployment": "api", "namespace": "prod", "alertname": "X"})
    True
    >>> matches(call, {"deployment": "web", "namespace": "prod"})
    False
    """
    values = set(labels.values())
    names = [v for v in call.arguments.values() if not v.isdigit()]
    return bool(names) and all(v in values for v in names)


def matching_incident(call: ToolCall, views: Sequence[IncidentView]) -> IncidentView | None:
    """The newest open incident whose labels the call's arguments all name."""
    found = [view for view in views if view.incident.is_open and matches(call, labels_of(view))]
    return max(found, key=lambda view: view.incident.id, default=None)


def chat_package(
    run: Run,
    call: ToolCall,
    *,
    flagged_destructive: bool,
    asker: Actor,
    text: str,
    reason: str,
    autopilot: Autopilot,
    now: datetime,
) -> DecisionPackage:
    """The decision package of a chat request: the call, waiting for an approver.

    No debate weighed any evidence, so the situation counts as thin evidence
    and the model's (absent) risk claim counts as high; `requires_human_approval`
    is True whatever policy would allow.
    """
    ruling = rule(
        call.tool,
        flagged_destructive=flagged_destructive,
        proposal={},
        situation=Situation(thin_evidence=True),
        autopilot=autopilot,
    )
    asked = f"{asker.name} asked in chat: “{text[:300]}”"
    return DecisionPackage(
        run_id=run.id,
        incident_id=run.incident_id,
        recommended_action=call,
        risk_level=ruling.risk,
        requires_human_approval=True,
        confidence=0.0,
        diagnosis=f"none: {asker.name} asked for {call.tool} in chat; no debate weighed it",
        summary=(
            f"{asked}. Proposed from the action registry: {call_text(call.tool, call.arguments)}."
            + (f" Model: {reason[:300]}" if reason else "")
        ),
        why_human="; ".join([CHAT_REASON, *ruling.reasons]),
        status=DebateStatus.COMPLETED,
        # nobody reviewed it: the card's reviewer line says so rather than stay blank
        review=ReviewSummary(concerns=(NOT_REVIEWED,)),
        approval=Approval(state=ApprovalState.WAITING),
        created_at=now,
    )
