"""Policy: when a human must approve an action. One place, pure functions.

The proposal comes from a model and the situation from alerts and a debate, so
both are untrusted: they can only ever *raise* what policy requires. A model
saying `destructive: false`, `risk_level: low` or `requires_human_approval:
false` about a `delete_*` action changes nothing; only the operator's registry
flag and the team's HOWL_AUTOPILOT setting are trusted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from core.llm.schemas import RiskLevel, riskier

Autopilot = Literal["off", "low"]
DebateStatus = Literal["completed", "degraded", "timeout", "failed"]

#: a word part starting or ending with one of these makes an action destructive
DESTRUCTIVE_WORDS = (
    "restart", "delete", "scale", "rollback", "apply", "patch", "drain", "cordon", "kill",
    "exec", "evict", "terminate", "destroy", "remove", "drop", "truncate", "purge", "wipe",
    "reboot", "shutdown", "stop", "reset", "revert", "rollout", "upgrade",
    "downgrade", "replace", "failover", "promote", "migrate", "flush", "taint",
)  # fmt: skip
#: these only as a whole part or its end (`redeploy`), since `deployment` or `credit` is no verb
WHOLE_WORDS = ("deploy", "edit", "rm", "set")


def word_parts(name: str) -> list[str]:
    """`name` split at `_`, `-`, `.`, spaces and camelCase humps, lower-cased.

    >>> word_parts("rollout_restart")
    ['rollout', 'restart']
    >>> word_parts("scale-up")
    ['scale', 'up']
    >>> word_parts("forceDeletePod")
    ['force', 'delete', 'pod']
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return [part for part in re.split(r"[^a-z0-9]+", spaced.lower()) if part]


def destructive_by_name(name: str) -> bool:
    """Whether a word part of `name` starts or ends with a destructive word.

    >>> [destructive_by_name(n) for n in ("redeploy", "deploy_api", "helm_set_values")]
    [True, True, True]

    >>> [destructive_by_name(n) for n in ("rollout_restart", "scale-up", "kubectl_exec")]
    [True, True, True]
    >>> [destructive_by_name(n) for n in ("scaledown", "reapply", "delete_pod", "drainNode")]
    [True, True, True, True]
    >>> [destructive_by_name(n) for n in ("get_pods", "describe_deployment", "show_logs")]
    [False, False, False]
    """
    return any(
        any(part.startswith(word) or part.endswith(word) for word in DESTRUCTIVE_WORDS)
        or any(part == word or part.endswith(word) for word in WHOLE_WORDS)
        for part in word_parts(name)
    )


def is_destructive(name: str, *, flagged: bool) -> bool:
    """Destructive if the registry flags it or its name says so; a model has no say.

    >>> is_destructive("get_pods", flagged=True), is_destructive("delete_pod", flagged=False)
    (True, True)
    >>> is_destructive("get_pods", flagged=False)
    False
    """
    return flagged or destructive_by_name(name)


def claimed_risk(proposal: Mapping[str, Any]) -> RiskLevel:
    """The risk a model claims; anything missing or unreadable counts as high.

    >>> claimed_risk({"risk_level": "low"}).value, claimed_risk({"risk_level": "tiny"}).value
    ('low', 'high')
    >>> claimed_risk({}).value
    'high'
    """
    raw = proposal.get("risk_level")
    try:
        return RiskLevel(str(raw).strip().lower()) if raw is not None else RiskLevel.HIGH
    except ValueError:
        return RiskLevel.HIGH


@dataclass(frozen=True)
class Situation:
    """What is known around a proposal; every field can only raise the requirement."""

    debate: DebateStatus = "completed"
    thin_evidence: bool = False
    anti_pattern: bool = False


@dataclass(frozen=True)
class Ruling:
    """What policy requires for one proposed action, and why."""

    requires_approval: bool
    risk: RiskLevel
    destructive: bool
    reasons: tuple[str, ...]

    @property
    def runs_unasked(self) -> bool:
        return not self.requires_approval


def rule(
    action: str,
    *,
    flagged_destructive: bool,
    proposal: Mapping[str, Any],
    situation: Situation,
    autopilot: Autopilot,
) -> Ruling:
    """Whether `action` needs a human. `proposal` is the model's untrusted answer.

    >>> low = {"risk_level": "low"}
    >>> rule("get_pods", flagged_destructive=False, proposal=low, situation=Situation(),
    ...      autopilot="low").requires_approval
    False
    >>> rule("get_pods", flagged_destructive=False, proposal=low, situation=Situation(),
    ...      autopilot="off").reasons
    ('HOWL_AUTOPILOT is off',)
    >>> lying = {"risk_level": "low", "destructive": False, "requires_human_approval": False}
    >>> ruling = rule("delete_pod", flagged_destructive=False, proposal=lying,
    ...               situation=Situation(), autopilot="low")
    >>> ruling.requires_approval, ruling.risk.value, ruling.reasons
    (True, 'medium', ('delete_pod is destructive', 'risk is medium'))
    """
    destructive = is_destructive(action, flagged=flagged_destructive)
    # a destructive action is never low risk, whatever the model claims
    risk = riskier(claimed_risk(proposal), RiskLevel.MEDIUM if destructive else RiskLevel.LOW)
    reasons = [
        reason
        for reason, applies in (
            ("HOWL_AUTOPILOT is off", autopilot != "low"),
            (f"{action} is destructive", destructive),
            (f"risk is {risk.value}", risk is not RiskLevel.LOW),
            (f"the debate ended {situation.debate}", situation.debate != "completed"),
            ("the evidence is thin", situation.thin_evidence),
            ("a known anti-pattern matches", situation.anti_pattern),
            ("the model asked for a human", proposal.get("requires_human_approval") is True),
        )
        if applies
    ]
    return Ruling(bool(reasons), risk, destructive, tuple(reasons))
