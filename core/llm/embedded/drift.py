"""Reading a difference between desired (Git) and live state the way an operator would.

>>> interpret({"resource": "deployment/api", "field": "spec.replicas",
...            "desired": 3, "live": 7}).recommendation
'ignore'
>>> interpret({"resource": "deployment/api",
...            "field": "spec.template.spec.containers[0].securityContext.privileged",
...            "desired": False, "live": True}).level.value
'critical'
"""

from __future__ import annotations

import re
from typing import Any, Literal

from core.llm.schemas import DriftReading, RiskLevel

Intent = Literal["likely_intentional", "likely_accidental", "unknown"]
Recommendation = Literal["rollback", "adopt", "ignore", "investigate"]

#: (field pattern, intent, level, recommendation, why) — first match wins
_RULES: tuple[tuple[str, Intent, RiskLevel, Recommendation, str], ...] = (
    (
        r"privileged|hostnetwork|hostpid|hostpath|capabilities|runasuser|allowprivilegeescalation",
        "likely_accidental",
        RiskLevel.CRITICAL,
        "rollback",
        "a security setting was loosened outside Git; treat it as a possible compromise",
    ),
    (
        r"rolebinding|clusterrole|\brules\b|serviceaccount|networkpolicy",
        "likely_accidental",
        RiskLevel.HIGH,
        "rollback",
        "access rules changed outside review",
    ),
    (
        r"replicas",
        "likely_intentional",
        RiskLevel.LOW,
        "ignore",
        "replica counts are changed by autoscalers and by hand during incidents",
    ),
    (
        r"restartedat|kubectl\.kubernetes\.io|annotations|deployment\.kubernetes\.io/revision",
        "likely_intentional",
        RiskLevel.LOW,
        "ignore",
        "bookkeeping annotations written by kubectl and controllers",
    ),
    (
        r"resources|limits|requests",
        "likely_intentional",
        RiskLevel.MEDIUM,
        "adopt",
        "resources are often tuned live during an incident; put the value in Git",
    ),
    (
        r"image",
        "unknown",
        RiskLevel.HIGH,
        "investigate",
        "a different image runs than Git says: a hotfix, or an untracked deploy",
    ),
    (
        r"secret|password|token|\benv\b|configmap",
        "unknown",
        RiskLevel.HIGH,
        "investigate",
        "configuration or credentials differ; find who changed them before reverting",
    ),
)


def interpret(drift: dict[str, Any]) -> DriftReading:
    """The likely meaning of one drifted field and what to do about it."""
    resource = str(drift.get("resource") or "the resource")
    field = str(drift.get("field") or "")
    desired, live = drift.get("desired"), drift.get("live")
    change = f"{resource} {field or 'state'}: desired {desired!r}, live {live!r}"
    if live is None and desired is not None:
        return DriftReading(
            intent="unknown",
            level=RiskLevel.HIGH,
            explanation=f"{change}. The live object or field is gone; something deleted it.",
            recommendation="investigate",
        )
    for pattern, intent, level, recommendation, why in _RULES:
        if re.search(pattern, field, re.IGNORECASE):
            return DriftReading(
                intent=intent,
                level=level,
                explanation=f"{change}. {why}."[:1500],
                recommendation=recommendation,
            )
    return DriftReading(
        intent="unknown",
        level=RiskLevel.MEDIUM,
        explanation=f"{change}. No rule explains this field; compare with recent changes."[:1500],
        recommendation="investigate",
    )
