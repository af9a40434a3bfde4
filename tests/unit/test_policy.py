"""Policy, rule by rule: what needs a human, and that nothing untrusted can lower it."""

from __future__ import annotations

from typing import Any

import pytest

from core.llm.schemas import RiskLevel
from core.policy import Autopilot, Situation, is_destructive, rule

CLEAN = Situation()
DEGRADED = Situation(debate="degraded")
LOW: dict[str, Any] = {"risk_level": "low"}


@pytest.mark.parametrize(
    ("action", "flagged", "proposal", "situation", "autopilot", "reasons"),
    [
        # autopilot low: only a low-risk, non-destructive action with nothing against it runs
        ("get_pods", False, LOW, CLEAN, "low", ()),
        ("get_pods", False, LOW, CLEAN, "off", ("HOWL_AUTOPILOT is off",)),
        # destructive by flag, by name (word parts), and both
        ("get_pods", True, LOW, CLEAN, "low", ("get_pods is destructive", "risk is medium")),
        ("rollout_restart", False, LOW, CLEAN, "low",
         ("rollout_restart is destructive", "risk is medium")),
        ("scale-up", False, LOW, CLEAN, "low", ("scale-up is destructive", "risk is medium")),
        ("delete_pod", True, LOW, CLEAN, "off",
         ("HOWL_AUTOPILOT is off", "delete_pod is destructive", "risk is medium")),
        # risk medium or higher
        ("get_pods", False, {"risk_level": "medium"}, CLEAN, "low", ("risk is medium",)),
        ("get_pods", False, {"risk_level": "high"}, CLEAN, "low", ("risk is high",)),
        ("get_pods", False, {"risk_level": "critical"}, CLEAN, "low", ("risk is critical",)),
        ("get_pods", False, {}, CLEAN, "low", ("risk is high",)),
        ("get_pods", False, {"risk_level": "none at all"}, CLEAN, "low", ("risk is high",)),
        # the debate, the evidence, the record
        ("get_pods", False, LOW, DEGRADED, "low", ("the debate ended degraded",)),
        ("get_pods", False, LOW, Situation(debate="timeout"), "low", ("the debate ended timeout",)),
        ("get_pods", False, LOW, Situation(debate="failed"), "low", ("the debate ended failed",)),
        ("get_pods", False, LOW, Situation(thin_evidence=True), "low", ("the evidence is thin",)),
        ("get_pods", False, LOW, Situation(anti_pattern=True), "low",
         ("a known anti-pattern matches",)),
        # a model may raise the bar, never lower it
        ("get_pods", False, {**LOW, "requires_human_approval": True}, CLEAN, "low",
         ("the model asked for a human",)),
        ("delete_pod", False,
         {"risk_level": "low", "destructive": False, "requires_human_approval": False,
          "autopilot": "low", "approved_by": [1001]},
         CLEAN, "low", ("delete_pod is destructive", "risk is medium")),
        ("get_pods", False,
         {"risk_level": "high", "requires_human_approval": False}, CLEAN, "low", ("risk is high",)),
        ("get_pods", False, {**LOW, "requires_human_approval": "no"}, Situation(anti_pattern=True),
         "low", ("a known anti-pattern matches",)),
    ],
)  # fmt: skip
def test_each_rule(
    action: str,
    flagged: bool,
    proposal: dict[str, Any],
    situation: Situation,
    autopilot: Autopilot,
    reasons: tuple[str, ...],
) -> None:
    ruling = rule(
        action,
        flagged_destructive=flagged,
        proposal=proposal,
        situation=situation,
        autopilot=autopilot,
    )
    assert ruling.reasons == reasons
    assert ruling.requires_approval is bool(reasons)
    assert ruling.runs_unasked is not bool(reasons)


def test_a_destructive_action_is_never_low_risk() -> None:
    ruling = rule(
        "drain_node", flagged_destructive=False, proposal=LOW, situation=CLEAN, autopilot="low"
    )
    assert (ruling.destructive, ruling.risk) == (True, RiskLevel.MEDIUM)


def test_a_higher_claimed_risk_is_kept() -> None:
    ruling = rule(
        "kill_pod",
        flagged_destructive=False,
        proposal={"risk_level": "CRITICAL"},
        situation=CLEAN,
        autopilot="low",
    )
    assert ruling.risk is RiskLevel.CRITICAL


@pytest.mark.parametrize(
    "name",
    ["restart", "delete_pvc", "scaleDeployment", "rollback_release", "kubectl-apply",
     "patch_configmap", "drain", "cordon_node", "uncordon_node", "killall", "exec_shell",
     "helm.upgrade", "redeploy", "force_delete", "autoscale", "evict_pod", "stop_service"],
)  # fmt: skip
def test_destructive_names(name: str) -> None:
    assert is_destructive(name, flagged=False)


@pytest.mark.parametrize(
    "name", ["get_pods", "describe_deployment", "show_logs", "top_nodes", "check_dns", "status"]
)
def test_read_only_names(name: str) -> None:
    assert not is_destructive(name, flagged=False)


@pytest.mark.parametrize("autopilot", ["off", "low"])
@pytest.mark.parametrize("claim", [{"risk_level": "low"}, {"destructive": False}, {}])
def test_an_alert_or_model_cannot_lower_a_registry_flag(
    autopilot: Autopilot, claim: dict[str, Any]
) -> None:
    ruling = rule(
        "get_pods",
        flagged_destructive=True,
        proposal={**claim, "requires_human_approval": False},
        situation=CLEAN,
        autopilot=autopilot,
    )
    assert ruling.requires_approval and ruling.destructive
