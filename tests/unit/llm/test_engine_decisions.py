"""Decisions by meaning: another team's registry, evidence in other words, risk from the object."""

from __future__ import annotations

from typing import Any

import pytest

from core.llm.embedded import EmbeddedEngine
from core.llm.embedded.loader import builtin_knowledge
from core.llm.embedded.registry import intent_of
from core.llm.types import ChatMessage, ChatRequest, Task, ToolParam, ToolSpec

NAME = "^[a-z0-9-]{1,63}$"
POD = "checkout-api-6f7c9d8b5-k2j4x"


def _spec(name: str, description: str, *params: str, destructive: bool = False) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=description,
        params=tuple(ToolParam(name=p, pattern=NAME) for p in params),
        destructive=destructive,
    )


DIAGNOSTICS = ToolSpec(
    name="collect_diagnostics",
    description="Read-only: describe the object, recent events and logs",
    params=(
        ToolParam(name="kind", pattern="^(pod|deployment|node|job|cronjob)$"),
        ToolParam(name="name", pattern="^[a-z0-9][a-z0-9.-]{0,252}$"),
        ToolParam(name="namespace", pattern=NAME, required=False),
    ),
)
#: another team's registry: no name the engine ships with, and a read-only action
RENAMED = [
    _spec(
        "undo_release",
        "Return a deployment to its previous revision",
        "name",
        "namespace",
        destructive=True,
    ),
    _spec("bounce_app", "Rolling restart of an application", "app", "namespace"),
    _spec("evict_one", "Delete one pod; its controller replaces it", "pod", "namespace"),
    _spec("retrigger", "Create a new job from a CronJob template", "cron", "namespace"),
    _spec("reissue_cert", "Ask cert-manager to reissue a certificate", "cert", "namespace"),
    ToolSpec(
        name="mark_unschedulable",
        description="Cordon a node so nothing new lands on it",
        params=(ToolParam(name="host", pattern="^[a-z0-9.-]{1,253}$"),),
    ),
    DIAGNOSTICS,
]
CLASSIC = [
    _spec("rollback_deployment", "kubectl rollout undo", "name", "namespace"),
    _spec("delete_pod", "Delete one pod so its controller replaces it", "name", "namespace"),
    _spec("rerun_job", "Create a Job from the CronJob", "cronjob", "namespace"),
]


def _crashloop(description: str, **labels: str) -> dict[str, Any]:
    return {
        "alert_name": "KubePodCrashLooping",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": POD, **labels},
        "annotations": {"description": description},
    }


def _not_ready(description: str, **labels: str) -> dict[str, Any]:
    return {
        "alert_name": "KubePodNotReady",
        "labels": {"alertname": "KubePodNotReady", "namespace": "shop", "pod": POD, **labels},
        "annotations": {"description": description},
    }


def _job(namespace: str, job_name: str, description: str = "") -> dict[str, Any]:
    return {
        "alert_name": "KubeJobFailed",
        "labels": {"alertname": "KubeJobFailed", "namespace": namespace, "job_name": job_name},
        "annotations": {
            "description": description or f"Job {namespace}/{job_name} failed to complete."
        },
    }


def _decide(context: dict[str, Any], tools: list[ToolSpec], task: Task = Task.COORDINATE) -> Any:
    request = ChatRequest(
        task=task,
        messages=[ChatMessage(role="user", content="What should we do?")],
        tools=tools,
        context=context,
    )
    return EmbeddedEngine().answer(request).model_dump(mode="json")


def test_thin_evidence_gets_the_read_only_action_of_a_renamed_registry() -> None:
    draft = _decide(_crashloop("Back-off restarting failed container"), RENAMED)
    assert draft["recommended_action"] == {
        "tool": "collect_diagnostics",
        "arguments": {"kind": "pod", "name": POD, "namespace": "shop"},
    }
    assert draft["requires_human_approval"] is True, "a crash loop is medium risk"


def test_clear_evidence_gets_the_right_change_of_a_renamed_registry() -> None:
    draft = _decide(_crashloop("restarts began right after deploying 3.2.1"), RENAMED)
    assert draft["recommended_action"] == {
        "tool": "undo_release",
        "arguments": {"name": "checkout-api", "namespace": "shop"},
    }
    assert draft["requires_human_approval"] is True
    assert "destructive" in draft["why_human"]
    review = _decide(
        {**_crashloop("after deploying 3.2.1"), "proposal": _solve_of(draft)},
        RENAMED,
        Task.REVIEW,
    )
    assert review["verdict"] == "approve"


def _solve_of(draft: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": draft["recommended_action"],
        "rationale": "rolled out just before",
        "risk_level": draft["risk_level"],
    }


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (_not_ready("the worker pool hangs"), ("evict_one", {"pod": POD, "namespace": "shop"})),
        (
            {
                "alert_name": "CertificateExpiringSoon",
                "labels": {"namespace": "ingress", "certificate": "shop-tls"},
                "annotations": {"description": "expires in 5 days"},
            },
            ("reissue_cert", {"cert": "shop-tls", "namespace": "ingress"}),
        ),
        (
            {
                "alert_name": "KubeNodeNotReady",
                "labels": {"node": "node-3.example.internal"},
                "annotations": {"description": "kubelet stopped posting status"},
            },
            ("mark_unschedulable", {"host": "node-3.example.internal"}),
        ),
        (
            _job("reporting", "weekly-report-28934520"),
            ("retrigger", {"cron": "weekly-report", "namespace": "reporting"}),
        ),
    ],
)
def test_renamed_actions_are_found_by_what_they_do(
    context: dict[str, Any], expected: tuple[str, dict[str, str]]
) -> None:
    draft = _decide(context, RENAMED)
    tool, arguments = expected
    assert draft["recommended_action"] == {"tool": tool, "arguments": arguments}


def test_a_destructive_action_is_never_taken_for_a_read_only_one() -> None:
    tricky = [
        _spec("wipe_and_describe", "Read-only: describe, events and logs", "name", "namespace"),
        _spec("snapshot", "Read-only logs and events", "name", "namespace", destructive=True),
    ]
    draft = _decide(_crashloop("Back-off restarting failed container"), tricky)
    assert draft["recommended_action"] is None


def test_without_a_read_only_action_thin_evidence_proposes_nothing() -> None:
    draft = _decide(_crashloop("Back-off restarting failed container"), RENAMED[:-1])
    assert draft["recommended_action"] is None
    assert draft["requires_human_approval"] is True


def test_arguments_that_break_the_pattern_are_not_used() -> None:
    strict = ToolSpec(
        name="collect_diagnostics",
        description=DIAGNOSTICS.description,
        params=(ToolParam(name="name", pattern="^[a-z]{1,8}$"),),
    )
    draft = _decide(_crashloop("Back-off restarting failed container"), [strict])
    assert draft["recommended_action"] is None, f"{POD} does not match ^[a-z]{{1,8}}$"


def test_an_unknown_alert_proposes_no_change() -> None:
    context = {
        "alert_name": "LicenseServerUnreachable",
        "labels": {"deployment": "flexlm", "namespace": "ci"},
        "annotations": {"description": "lmgrd hangs since we shipped the new licence file"},
    }
    draft = _decide(context, RENAMED)
    assert draft["recommended_action"]["tool"] == "collect_diagnostics"
    assert draft["requires_human_approval"] is True
    assert _decide(context, RENAMED[:-1])["recommended_action"] is None


@pytest.mark.parametrize("namespace", ["billing", "payments", "default", "reporting"])
@pytest.mark.parametrize(
    ("job_name", "description"),
    [
        ("db-migrate-v42", ""),
        ("db-migrate-28934520", ""),
        ("schema-upgrade-28934520", ""),
        ("nightly-task-28934520", "Job nightly-task runs the database migrations and failed."),
        ("purge-sessions-28934520", ""),
        ("invoice-run-28934520", ""),
        ("payout-batch-28934520", ""),
        ("账单-28934520", "帳單 job failed"),
    ],
)
def test_a_migration_like_job_in_any_namespace_needs_a_human(
    namespace: str, job_name: str, description: str
) -> None:
    for tools in (RENAMED, CLASSIC):
        draft = _decide(_job(namespace, job_name, description), tools)
        tool = (draft["recommended_action"] or {}).get("tool")
        assert tool in (None, "collect_diagnostics"), f"{job_name} in {namespace}: {tool}"
        assert draft["risk_level"] == "high"
        assert draft["requires_human_approval"] is True


@pytest.mark.parametrize("namespace", ["billing", "payments", "reporting"])
def test_a_plain_report_job_may_be_rerun_in_any_namespace(namespace: str) -> None:
    draft = _decide(_job(namespace, "weekly-report-28934520"), CLASSIC)
    assert draft["recommended_action"] == {
        "tool": "rerun_job",
        "arguments": {"cronjob": "weekly-report", "namespace": namespace},
    }
    assert draft["risk_level"] == "low"
    assert draft["requires_human_approval"] is False


@pytest.mark.parametrize(
    ("description", "labels"),
    [
        ("crash looping after deploying the new build", {}),
        ("we shipped the new checkout this morning; now it crashes", {}),
        ("version 3.2.1 went live at 14:02", {}),
        ("errors since the release of 3.2.1", {}),
        ("部署後開始不斷重啟", {}),
        ("新版上線後容器一直崩潰", {}),
        ("Back-off restarting failed container", {"version": "3.2.1", "previous_version": "3.2.0"}),
        ("Back-off restarting failed container", {"deployed_at": "2026-12-02T14:02:00Z"}),
        (
            "Back-off restarting failed container",
            {"deployment_revision": "18", "previous_deployment_revision": "17"},
        ),
    ],
)
def test_recent_change_in_ordinary_words_and_labels(
    description: str, labels: dict[str, str]
) -> None:
    draft = _decide(_crashloop(description, **labels), CLASSIC)
    assert draft["recommended_action"] == {
        "tool": "rollback_deployment",
        "arguments": {"name": "checkout-api", "namespace": "shop"},
    }


@pytest.mark.parametrize(
    ("description", "labels"),
    [
        ("no deploy since Monday; crashes started at 14:00", {}),
        ("nothing was deployed today", {}),
        ("今天沒有部署，卻開始重啟", {}),
        ("the last deploy of checkout-api was 9 days ago", {}),
        ("no rollout in the last 7 days", {}),
        ("上次部署是 9 天前", {}),
        ("Back-off restarting failed container", {"version": "3.2.1", "previous_version": "3.2.1"}),
        ("Back-off restarting failed container", {"deployment_revision": "17"}),
        ("the deployment checkout-api is crash looping", {}),
    ],
)
def test_no_recent_change_no_rollback(description: str, labels: dict[str, str]) -> None:
    draft = _decide(_crashloop(description, **labels), CLASSIC)
    assert draft["recommended_action"] is None


@pytest.mark.parametrize(
    ("description", "labels"),
    [
        ("the worker pool is stuck", {}),
        ("request threads hang on a lock", {}),
        ("all workers blocked since 14:00", {}),
        ("the consumer is not progressing", {}),
        ("process is unresponsive", {}),
        ("worker 卡住 超過十分鐘", {}),
        ("服務無回應", {}),
        ("readiness probe failed", {"reason": "Deadlock"}),
    ],
)
def test_stuck_worker_in_ordinary_words_and_labels(
    description: str, labels: dict[str, str]
) -> None:
    draft = _decide(_not_ready(description, **labels), CLASSIC)
    assert draft["recommended_action"] == {
        "tool": "delete_pod",
        "arguments": {"name": POD, "namespace": "shop"},
    }
    assert draft["requires_human_approval"] is True


@pytest.mark.parametrize(
    "description",
    [
        "stuck pending: 0/5 nodes are available: insufficient cpu",
        "pod stuck, not enough memory on any node",
        "卡住了，叢集容量不足",
        "worker hangs waiting for the upstream payments API",
        "卡住：依賴服務沒有回應",
        "blocked: the database is down",
    ],
)
def test_capacity_or_a_failing_dependency_keeps_the_pod_alive(description: str) -> None:
    draft = _decide(_not_ready(description), [*CLASSIC, DIAGNOSTICS])
    assert draft["recommended_action"]["tool"] == "collect_diagnostics"


@pytest.mark.parametrize(
    "description",
    [
        "after deploying 3.2.1 the database is down and pods crash",
        "新版上線後，依賴服務無法連線",
        "since the rollout, connection refused from the upstream ledger service",
    ],
)
def test_a_failing_dependency_is_not_rolled_back(description: str) -> None:
    draft = _decide(_crashloop(description), CLASSIC)
    assert draft["recommended_action"] is None


@pytest.mark.parametrize(
    "description",
    ["all replicas hang on the same lock", "every pod is stuck", "所有副本都卡住"],
)
def test_every_replica_stuck_restarts_the_deployment_not_one_pod(description: str) -> None:
    restart = _spec("restart_deployment", "Rolling restart of a deployment", "name", "namespace")
    draft = _decide(_not_ready(description), [*CLASSIC, restart])
    assert draft["recommended_action"] == {
        "tool": "restart_deployment",
        "arguments": {"name": "checkout-api", "namespace": "shop"},
    }
    assert draft["requires_human_approval"] is True


def _backlog(description: str) -> dict[str, Any]:
    return {
        "alert_name": "QueueBacklogGrowing",
        "labels": {"namespace": "media", "deployment": "image-resizer", "queue": "resize"},
        "annotations": {"description": description},
    }


SCALE = ToolSpec(
    name="add_replicas",
    description="Scale a deployment out to the given number of replicas",
    params=(
        ToolParam(name="deployment", pattern=NAME),
        ToolParam(name="namespace", pattern=NAME),
        ToolParam(name="count", pattern="^([1-9]|[12][0-9]|30)$"),
    ),
    destructive=True,
)


@pytest.mark.parametrize(
    ("description", "count"),
    [
        ("all 3 image-resizer replicas run at 100% CPU; the cluster has spare capacity", "6"),
        ("both replicas are saturated and the nodes have free capacity", "4"),
        ("兩個副本都滿載 (2 pods), 節點還有容量", "4"),
    ],
)
def test_saturated_workers_are_scaled_out_to_twice_what_runs(description: str, count: str) -> None:
    draft = _decide(_backlog(description), [SCALE, DIAGNOSTICS])
    assert draft["recommended_action"] == {
        "tool": "add_replicas",
        "arguments": {"deployment": "image-resizer", "namespace": "media", "count": count},
    }
    assert draft["requires_human_approval"] is True


@pytest.mark.parametrize(
    "description",
    [
        "all 3 replicas run at 100% CPU; the HPA is at its maxReplicas",
        "all 3 replicas saturated; 0/5 nodes are available: insufficient cpu",
        "replicas run at 100% CPU",  # how many run is not said: no number to propose
        "all 3 replicas hang with idle CPU",
    ],
)
def test_no_scale_out_without_room_count_or_with_an_autoscaler(description: str) -> None:
    draft = _decide(_backlog(description), [SCALE, DIAGNOSTICS])
    assert (draft["recommended_action"] or {}).get("tool") != "add_replicas"


@pytest.mark.parametrize(
    ("spec", "intent"),
    [
        (_spec("trigger_cronjob", "Run a CronJob once now, outside its schedule"), "rerun_job"),
        (_spec("recycle_pod", "Remove a single pod; its ReplicaSet starts a fresh one"),
         "recreate_pod"),
        (_spec("bounce_service", "Restart every pod of a service's deployment"), "restart"),
        (_spec("grow_deployment", "Raise a deployment's replica count"), "scale_out"),
        (_spec("refresh_tls", "Force cert-manager to renew a TLS certificate"),
         "renew_certificate"),
    ],
)  # fmt: skip
def test_intents_are_read_from_names_and_descriptions(spec: ToolSpec, intent: str) -> None:
    assert intent_of(spec, builtin_knowledge()) == intent


@pytest.mark.parametrize("job_name", ["alembic-upgrade-1f3c", "flyway-migrate-7"])
def test_a_one_off_migration_job_is_medium_risk_at_least(job_name: str) -> None:
    draft = _decide(_job("inventory", job_name), [DIAGNOSTICS, *CLASSIC])
    assert draft["recommended_action"]["tool"] == "collect_diagnostics"
    assert draft["risk_level"] == "high"
    assert draft["requires_human_approval"] is True


def test_latency_right_after_a_deploy_is_rolled_back() -> None:
    context = {
        "alert_name": "HighRequestLatency",
        "labels": {"namespace": "shop", "deployment": "checkout-api"},
        "annotations": {"description": "p99 tripled right after deploying 2.8.0"},
    }
    draft = _decide(context, CLASSIC)
    assert draft["recommended_action"] == {
        "tool": "rollback_deployment",
        "arguments": {"name": "checkout-api", "namespace": "shop"},
    }


def test_one_hung_worker_gets_its_pod_replaced() -> None:
    context = {
        "alert_name": "WorkerHeartbeatMissing",
        "labels": {"namespace": "orders", "pod": POD, "deployment": "checkout-api"},
        "annotations": {"description": "the pod hangs; the other replicas are fine"},
    }
    draft = _decide(context, [DIAGNOSTICS, *RENAMED])
    assert draft["recommended_action"] == {
        "tool": "evict_one",
        "arguments": {"pod": POD, "namespace": "orders"},
    }
