"""The embedded engine: every family recognised, every task a valid contract, never unsafe."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.llm.embedded import EmbeddedEngine
from core.llm.embedded.incident import Incident
from core.llm.embedded.loader import builtin_knowledge
from core.llm.embedded.matching import match_family
from core.llm.schemas import SELF_GRADING_FIELDS, TASK_SCHEMAS, DecisionDraft, Proposal
from core.llm.toolcalls import validate_tool_call
from core.llm.types import ChatMessage, ChatRequest, Task, ToolParam, ToolSpec

NAME = "^[a-z0-9-]{1,63}$"
KNOWLEDGE = builtin_knowledge()
FAMILIES = KNOWLEDGE.families


def _tool(name: str, *params: str, pattern: str = NAME) -> ToolSpec:
    return ToolSpec(name=name, params=tuple(ToolParam(name=p, pattern=pattern) for p in params))


REGISTRY = [
    _tool("restart_deployment", "name", "namespace"),
    _tool("rollback_deployment", "name", "namespace"),
    _tool("delete_pod", "name", "namespace"),
    _tool("cordon_node", "node", pattern="^[a-z0-9.-]{1,253}$"),
    _tool("rerun_job", "cronjob", "namespace"),
    _tool("renew_certificate", "certificate", "namespace", pattern="^[a-z0-9.-]{1,253}$"),
    _tool("expand_pvc", "name", "namespace"),
]

POD = "api-7d9f8b6c4-x2x9z"

#: one representative alert per family: (alert name, labels, description)
REPRESENTATIVE: dict[str, tuple[str, dict[str, str], str]] = {
    "watchdog": ("Watchdog", {}, "This alert is always firing"),
    "etcd": ("etcdNoLeader", {"instance": "10.0.0.11:2379"}, "member has no leader"),
    "apiserver": ("KubeAPIErrorBudgetBurn", {}, "API server is burning its error budget"),
    "dns": ("CoreDNSErrorsHigh", {"namespace": "kube-system"}, "SERVFAIL responses"),
    "pod_crashloop": (
        "KubePodCrashLooping",
        {"namespace": "shop", "pod": POD, "container": "app"},
        "crash looping since the rollout of v2.3",
    ),
    "image_pull": (
        "KubePodImagePullBackOff",
        {"namespace": "shop", "pod": POD},
        "manifest unknown",
    ),
    "pod_not_ready": ("KubePodNotReady", {"namespace": "shop", "pod": POD}, "worker pool stuck"),
    "deployment_replicas": (
        "KubeDeploymentReplicasMismatch",
        {"namespace": "shop", "deployment": "api"},
        "pods pending",
    ),
    "statefulset_replicas": (
        "KubeStatefulSetReplicasMismatch",
        {"namespace": "data", "statefulset": "kafka"},
        "2 of 3 ready",
    ),
    "oom_killed": ("KubeContainerOOMKilled", {"namespace": "shop", "pod": POD}, "OOMKilled"),
    "restart_rate": ("PodRestartingTooOften", {"namespace": "shop", "pod": POD}, "7 restarts"),
    "cpu_throttling": ("CPUThrottlingHigh", {"namespace": "shop", "pod": POD}, "38% throttled"),
    "hpa_maxed": ("KubeHpaMaxedOut", {"namespace": "shop", "horizontalpodautoscaler": "api"}, ""),
    "pvc_filling": (
        "KubePersistentVolumeFillingUp",
        {"namespace": "data", "persistentvolumeclaim": "data-pg-0"},
        "3% free",
    ),
    "node_filesystem": (
        "NodeFilesystemSpaceFillingUp",
        {"instance": "node-1:9100", "mountpoint": "/"},
        "9% left",
    ),
    "node_not_ready": ("KubeNodeNotReady", {"node": "node-1.example.internal"}, "unready"),
    "node_memory_pressure": ("NodeMemoryHighUtilization", {"instance": "node-1:9100"}, "96%"),
    "high_load": ("HostHighCpuLoad", {"instance": "node-1:9100"}, "load above 80%"),
    "disk_io": ("NodeDiskIOSaturation", {"instance": "node-1:9100"}, "queue 12"),
    "target_down": ("TargetDown", {"job": "exporter", "namespace": "monitoring"}, "targets down"),
    "http_errors": (
        "Http5xxErrorRateHigh",
        {"namespace": "shop", "service": "api", "deployment": "api"},
        "12% 5xx since the deploy of 3.2.1",
    ),
    "latency": ("HighRequestLatency", {"namespace": "shop", "service": "api"}, "p99 2.4s"),
    "cert_expiry": (
        "CertificateExpiringSoon",
        {"namespace": "ingress", "name": "shop-tls"},
        "expires in 6 days",
    ),
    "job_failed": (
        "KubeJobFailed",
        {"namespace": "reporting", "job_name": "nightly-report-28934520"},
        "failed",
    ),
    "db_connections": ("PostgresqlTooManyConnections", {"instance": "pg:9187"}, "92% used"),
    "replication_lag": ("PostgresqlReplicationLag", {"instance": "pg-replica:9187"}, "340 s"),
    "queue_backlog": ("KafkaConsumerGroupLag", {"consumergroup": "invoices"}, "lag growing"),
    "clock_skew": ("NodeClockSkewDetected", {"instance": "node-1:9100"}, "out of sync"),
    "packet_loss": ("NodeNetworkReceiveErrs", {"instance": "node-1:9100", "device": "eth0"}, ""),
    "quota": ("KubeQuotaAlmostFull", {"namespace": "shop"}, "90% of cpu quota"),
    "daemonset": (
        "KubeDaemonSetRolloutStuck",
        {"namespace": "kube-system", "daemonset": "fluent-bit"},
        "only 4 of 6 scheduled",
    ),
    "blackbox_probe": ("ProbeFailed", {"instance": "https://shop.example.com"}, "probe failed"),
    "monitoring_pipeline": (
        "PrometheusRuleFailures",
        {"namespace": "monitoring", "pod": "prometheus-k8s-0"},
        "failed to evaluate 12 rules",
    ),
    "service_down": ("RedisDown", {"instance": "redis:9121", "namespace": "cache"}, "down"),
    "worker_stuck": (
        "WorkerHeartbeatMissing",
        {"namespace": "orders", "pod": POD},
        "the worker hangs: no log output for 25 minutes",
    ),
    "conntrack": (
        "NodeHighNumberConntrackEntriesUsed",
        {"instance": "node-1:9100"},
        "82% of conntrack entries used",
    ),
}

UNKNOWN = ("LicenseServerUnreachable", {"instance": "flexlm-01"}, "license server unreachable")


def _context(alert: tuple[str, dict[str, str], str]) -> dict[str, Any]:
    name, labels, description = alert
    return {
        "alert_name": name,
        "labels": {"alertname": name, **labels},
        "annotations": {"description": description},
        "severity": "warning",
    }


def _request(
    task: Task, context: dict[str, Any], tools: list[ToolSpec] | None = None
) -> ChatRequest:
    return ChatRequest(
        task=task,
        messages=[ChatMessage(role="user", content="What should we do?")],
        tools=REGISTRY if tools is None else tools,
        context=context,
    )


async def _answer(request: ChatRequest) -> dict[str, Any]:
    response = await EmbeddedEngine().chat(request, timeout_s=1.0)
    value: dict[str, Any] = json.loads(response.content)
    TASK_SCHEMAS[request.task].model_validate(value)
    return value


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_knowledge_covers_at_least_25_families_with_real_content() -> None:
    assert len(FAMILIES) >= 25
    assert len({f.key for f in FAMILIES}) == len(FAMILIES)
    for family in FAMILIES:
        assert family.causes and family.checks, family.key
        assert all(0 < c.confidence <= 1 for c in family.causes), family.key


def test_every_family_has_a_representative() -> None:
    assert set(REPRESENTATIVE) == {f.key for f in FAMILIES}


@pytest.mark.parametrize("key", sorted(REPRESENTATIVE))
def test_family_matched_by_its_representative_alert(key: str) -> None:
    name, labels, description = REPRESENTATIVE[key]
    family = match_family(
        Incident(alert_name=name, labels=labels, text=description.lower()), KNOWLEDGE
    )
    assert family is not None and family.key == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("pod web-1 is in crashloopbackoff", "pod_crashloop"),
        ("no space left on device on /var", "node_filesystem"),
        ("consumer lag keeps growing on orders", "queue_backlog"),
        ("x509 certificate expires in 3 days", "cert_expiry"),
    ],
)
def test_family_matched_by_keywords_without_a_name(text: str, key: str) -> None:
    family = match_family(Incident(text=text), KNOWLEDGE)
    assert family is not None and family.key == key


@pytest.mark.parametrize("task", list(Task))
@pytest.mark.parametrize("key", sorted(REPRESENTATIVE))
async def test_every_task_answers_a_valid_contract(task: Task, key: str) -> None:
    value = await _answer(_request(task, _context(REPRESENTATIVE[key])))
    assert not _keys(value) & SELF_GRADING_FIELDS


@pytest.mark.parametrize("task", list(Task))
async def test_every_task_answers_with_empty_context(task: Task) -> None:
    value = await _answer(_request(task, {}))
    assert not _keys(value) & SELF_GRADING_FIELDS


async def test_reads_the_alert_from_message_text_when_context_is_empty() -> None:
    request = ChatRequest(
        task=Task.DIAGNOSE,
        messages=[
            ChatMessage(
                role="user",
                content=f"Firing: alertname=KubePodCrashLooping namespace=shop pod={POD}",
            )
        ],
    )
    value = await _answer(request)
    assert value["summary"].startswith("Pod crash looping")
    assert f"kubectl -n shop describe pod {POD}" in value["read_only_checks"]


async def test_deterministic() -> None:
    request = _request(Task.COORDINATE, _context(REPRESENTATIVE["pod_crashloop"]))
    engine = EmbeddedEngine()
    first = await engine.chat(request, timeout_s=1.0)
    second = await engine.chat(request, timeout_s=1.0)
    assert first.content == second.content
    assert (first.provider, first.model) == ("embedded", "howl-rules-v1")
    assert engine.local is True


@pytest.mark.parametrize("task", [Task.SOLVE, Task.COORDINATE, Task.TOOL_CALL, Task.REVIEW])
async def test_unknown_alert_gets_a_conservative_answer(task: Task) -> None:
    value = await _answer(_request(task, _context(UNKNOWN)))
    if task is Task.COORDINATE:
        draft = DecisionDraft.model_validate(value)
        assert draft.recommended_action is None
        assert draft.requires_human_approval is True
        assert draft.why_human
    elif task is Task.SOLVE:
        assert Proposal.model_validate(value).action is None
    elif task is Task.TOOL_CALL:
        assert value["call"] is None


@pytest.mark.parametrize("key", sorted(REPRESENTATIVE))
async def test_actions_come_only_from_registered_tools_with_valid_arguments(key: str) -> None:
    context = _context(REPRESENTATIVE[key])
    for task, field in [
        (Task.SOLVE, "action"),
        (Task.COORDINATE, "recommended_action"),
        (Task.TOOL_CALL, "call"),
    ]:
        value = await _answer(_request(task, context))
        if value[field] is not None:
            validate_tool_call(value[field], REGISTRY)  # raises when not allowed
        bare = await _answer(_request(task, context, tools=[]))
        assert bare[field] is None, "no registry, no action"


async def test_expected_remedies_are_proposed() -> None:
    crash = await _answer(_request(Task.COORDINATE, _context(REPRESENTATIVE["pod_crashloop"])))
    assert crash["recommended_action"] == {
        "tool": "rollback_deployment",
        "arguments": {"name": "api", "namespace": "shop"},
    }
    assert crash["requires_human_approval"] is True
    cert = await _answer(_request(Task.COORDINATE, _context(REPRESENTATIVE["cert_expiry"])))
    assert cert["recommended_action"]["tool"] == "renew_certificate"
    assert cert["risk_level"] == "low"
    assert cert["requires_human_approval"] is False, "low risk and not destructive"
    job = await _answer(_request(Task.SOLVE, _context(REPRESENTATIVE["job_failed"])))
    assert job["action"] == {
        "tool": "rerun_job",
        "arguments": {"cronjob": "nightly-report", "namespace": "reporting"},
    }


async def test_no_action_when_an_argument_breaks_its_pattern() -> None:
    strict = [_tool("rollback_deployment", "name", "namespace", pattern="^[a-z]{1,3}$")]
    context = _context(REPRESENTATIVE["pod_crashloop"])
    context["labels"]["namespace"] = "production"
    value = await _answer(_request(Task.SOLVE, context, tools=strict))
    assert value["action"] is None


async def test_rollback_needs_evidence_of_a_recent_change() -> None:
    context = _context(REPRESENTATIVE["pod_crashloop"])
    context["annotations"] = {"description": "password authentication failed"}
    value = await _answer(_request(Task.COORDINATE, context))
    assert value["recommended_action"] is None
    assert value["requires_human_approval"] is True


async def test_a_failed_migration_job_is_never_rerun_and_needs_a_human() -> None:
    context = _context(
        ("KubeJobFailed", {"namespace": "billing", "job_name": "db-migrate-v42"}, "")
    )
    value = await _answer(_request(Task.COORDINATE, context))
    assert value["recommended_action"] is None
    assert value["risk_level"] == "high"
    assert value["requires_human_approval"] is True


async def test_destructive_action_always_needs_a_human() -> None:
    value = await _answer(_request(Task.COORDINATE, _context(REPRESENTATIVE["http_errors"])))
    assert value["recommended_action"]["tool"] == "rollback_deployment"
    assert value["requires_human_approval"] is True


async def test_review_rejects_an_unregistered_proposal() -> None:
    context = _context(REPRESENTATIVE["pod_crashloop"])
    context["proposal"] = {
        "action": {"tool": "drain_node", "arguments": {"node": "n1"}},
        "rationale": "drain it",
        "risk_level": "low",
    }
    review = await _answer(_request(Task.REVIEW, context))
    assert review["verdict"] == "reject"
    draft = await _answer(_request(Task.COORDINATE, context))
    assert draft["blocked_reason"].startswith("proposed action not runnable")
    assert (draft["recommended_action"] or {}).get("tool") != "drain_node"


async def test_reviewer_risk_raises_the_coordinators() -> None:
    context = _context(REPRESENTATIVE["cert_expiry"])
    context["critique"] = {"objections": ["wildcard"], "risk_level": "high"}
    draft = await _answer(_request(Task.COORDINATE, context))
    assert draft["risk_level"] == "high"
    assert draft["requires_human_approval"] is True


async def test_chat_turns_a_request_into_a_registered_call() -> None:
    context = {"question": "please restart the checkout deployment in shop"}
    value = await _answer(_request(Task.CHAT, context))
    assert value["proposed_action"] == {
        "tool": "restart_deployment",
        "arguments": {"name": "checkout", "namespace": "shop"},
    }


async def test_runbook_never_emits_self_grading_keys() -> None:
    value = await _answer(_request(Task.RUNBOOK, _context(REPRESENTATIVE["pod_crashloop"])))
    assert "verification" not in value
    assert any(step.startswith("Confirm:") for step in value["steps"])


@pytest.mark.parametrize(
    ("drift", "intent", "recommendation"),
    [
        (
            {"resource": "deploy/api", "field": "spec.replicas", "desired": 3, "live": 6},
            "likely_intentional",
            "ignore",
        ),
        (
            {
                "resource": "deploy/api",
                "field": "spec.template.spec.hostNetwork",
                "desired": False,
                "live": True,
            },
            "likely_accidental",
            "rollback",
        ),
        (
            {
                "resource": "deploy/api",
                "field": "spec.template.spec.containers[0].image",
                "desired": "api:1.2",
                "live": "api:1.3-hotfix",
            },
            "unknown",
            "investigate",
        ),
    ],
)
async def test_drift_readings(drift: dict[str, Any], intent: str, recommendation: str) -> None:
    value = await _answer(_request(Task.DRIFT_INTERPRET, {"drift": drift}))
    assert (value["intent"], value["recommendation"]) == (intent, recommendation)
