"""Writes requests.jsonl from the incidents below: `python -m tests.evaluation.build_requests`.

Only what a model may read lives here: alerts and the registry each incident was
seen with. What an on-call engineer would accept is in labels.jsonl, written
apart and never derived from an engine's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RUN_ID = "evaluation-2026-12"

NAME = "^[a-z0-9-]{1,63}$"
NS = "^[a-z0-9-]{1,63}$"
OBJECT = "^[a-z0-9][a-z0-9.-]{0,252}$"
REPLICAS = "^([1-9]|[12][0-9]|30)$"


def _tool(tool: str, description: str, destructive: bool, /, **params: str) -> dict[str, Any]:
    return {"name": tool, "description": description, "destructive": destructive, "params": params}


#: the example pack's registry: no read-only action
CLASSIC = [
    _tool("restart_deployment", "Rolling restart of a deployment", True, name=NAME, namespace=NS),
    _tool(
        "rollback_deployment",
        "kubectl rollout undo to the previous revision",
        True,
        name=NAME,
        namespace=NS,
    ),
    _tool(
        "scale_deployment",
        "Set a deployment's replica count",
        True,
        name=NAME,
        namespace=NS,
        replicas=REPLICAS,
    ),
    _tool(
        "delete_pod",
        "Delete one pod so its controller replaces it",
        True,
        name=OBJECT,
        namespace=NS,
    ),
    _tool("cordon_node", "Mark a node unschedulable", True, node=OBJECT),
    _tool(
        "rerun_job", "Create a Job now from a CronJob's template", False, cronjob=NAME, namespace=NS
    ),
    _tool(
        "renew_certificate",
        "cmctl renew: ask cert-manager to reissue",
        False,
        certificate="^[a-z0-9.-]{1,253}$",
        namespace=NS,
    ),
]

_DIAGNOSTICS = _tool(
    "collect_diagnostics",
    "Read-only: describe the object, recent events and logs",
    False,
    namespace=NS,
    name=OBJECT,
)
_UNDO = _tool(
    "rollout_undo",
    "Return a deployment to its previous revision (kubectl rollout undo)",
    True,
    deployment=NAME,
    namespace=NS,
)
_BOUNCE = _tool(
    "bounce_service",
    "Restart every pod of a service's deployment, one at a time",
    True,
    service=NAME,
    namespace=NS,
)
_RERUN = _tool(
    "rerun_job",
    "Start a fresh run of a CronJob from its template",
    False,
    cronjob=NAME,
    namespace=NS,
)

#: another team's names for the same actions, with a read-only one
OPS = [
    _DIAGNOSTICS,
    _UNDO,
    _BOUNCE,
    _tool(
        "add_replicas",
        "Scale a deployment out to the given number of replicas",
        True,
        deployment=NAME,
        namespace=NS,
        count=REPLICAS,
    ),
    _tool(
        "recycle_pod",
        "Remove a single pod; its ReplicaSet starts a fresh one",
        True,
        pod=OBJECT,
        namespace=NS,
    ),
    _tool("mark_unschedulable", "Cordon a node so no new pods are placed on it", True, node=OBJECT),
    _RERUN,
    _tool(
        "reissue_cert",
        "Ask cert-manager to issue the certificate again now",
        False,
        certificate="^[a-z0-9.-]{1,253}$",
        namespace=NS,
    ),
]

#: renamed actions and no read-only one
RENAMED = [
    _tool(
        "revert_release",
        "Undo the last rollout of a deployment, going back one revision",
        True,
        deployment=NAME,
        namespace=NS,
    ),
    _tool(
        "restart_workload",
        "Rolling restart of a workload's pods",
        True,
        workload=NAME,
        namespace=NS,
    ),
    _tool(
        "grow_deployment",
        "Raise a deployment's replica count",
        True,
        deployment=NAME,
        namespace=NS,
        replicas=REPLICAS,
    ),
    _tool(
        "evict_pod",
        "Evict one pod so that its controller recreates it",
        True,
        pod=OBJECT,
        namespace=NS,
    ),
    _tool("cordon", "Stop scheduling new pods onto a node", True, hostname=OBJECT),
    _tool(
        "trigger_cronjob",
        "Run a CronJob once now, outside its schedule",
        False,
        cronjob=NAME,
        namespace=NS,
    ),
    _tool(
        "refresh_tls",
        "Force cert-manager to renew a TLS certificate",
        False,
        certificate="^[a-z0-9.-]{1,253}$",
        namespace=NS,
    ),
]

#: a small registry: a read-only action, undo, restart, re-run
MINIMAL = [_DIAGNOSTICS, _UNDO, _BOUNCE, _RERUN]

#: a platform team's names, for the unseen cases only
PLATFORM = [
    _tool(
        "inspect_workload",
        "Gather describe output, events and the last log lines; changes nothing",
        False,
        namespace=NS,
        target=OBJECT,
    ),
    _tool(
        "undo_deploy",
        "Put a deployment back on the revision it ran before the latest one",
        True,
        app=NAME,
        namespace=NS,
    ),
    _tool("cycle_pods", "Restart all pods of a deployment, a few at a time", True, app=NAME,
          namespace=NS),
    _tool("replace_pod", "Terminate one pod and let its owner start a new one", True,
          pod=OBJECT, namespace=NS),
    _tool("cordon_host", "Keep the scheduler from placing new pods on a host", True,
          host=OBJECT),
    _tool("retry_cronjob", "Kick off one extra run of a CronJob right away", False,
          cronjob=NAME, namespace=NS),
    _tool("rotate_certificate", "Have cert-manager issue a fresh certificate", False,
          certificate="^[a-z0-9.-]{1,253}$", namespace=NS),
]  # fmt: skip

REGISTRIES = {
    "classic": CLASSIC,
    "ops": OPS,
    "renamed": RENAMED,
    "minimal": MINIMAL,
    "platform": PLATFORM,
}

SYSTEM_PROMPT = (
    "You are the coordinator of an on-call team's incident debate. Answer with one JSON object "
    "matching the DecisionDraft contract: recommended_action (a registered tool and its "
    "arguments, or null), risk_level (low|medium|high|critical), requires_human_approval, "
    "confidence, diagnosis, summary, why_human, blocked_reason. Propose only registered tools; "
    "every argument must match its pattern."
)


@dataclass(frozen=True)
class Case:
    registry: str
    alert: str
    severity: str
    labels: dict[str, str]
    summary: str
    description: str
    variant: str = "baseline"
    extra: dict[str, str] = field(default_factory=dict)


def _pod(ns: str, pod: str, container: str) -> dict[str, str]:
    return {"namespace": ns, "pod": pod, "container": container}


def _job(ns: str, job: str) -> dict[str, str]:
    return {"namespace": ns, "job_name": job}


CASES: list[Case] = [
    # --- crash loops: with a recent change, and without -------------------------------
    Case("classic", "KubePodCrashLooping", "critical",
         _pod("checkout", "checkout-api-7d9f8c6b4-x2m9q", "api"),
         "Pod checkout/checkout-api-7d9f8c6b4-x2m9q is in CrashLoopBackOff",
         "Pod checkout/checkout-api-7d9f8c6b4-x2m9q is crash-looping; the restarts started right "
         "after deploying checkout-api v2.15.0.", "evidence_first"),
    Case("ops", "KubePodCrashLooping", "critical",
         _pod("payments", "ledger-api-5b7c9d6f8-p4q7r", "ledger"),
         "Pod payments/ledger-api-5b7c9d6f8-p4q7r is in CrashLoopBackOff",
         "We shipped ledger-api 1.8.0 twenty minutes ago; since then the container exits with "
         "code 1 a few seconds after start."),
    Case("renamed", "KubePodCrashLooping", "critical",
         _pod("search", "query-api-6c8d7f5b9-t6y2u", "query"),
         "Pod search/query-api-6c8d7f5b9-t6y2u is in CrashLoopBackOff",
         "Version 3.2.1 of query-api went live at 09:10 UTC and the pod has been crash-looping "
         "ever since."),
    Case("minimal", "KubePodCrashLooping", "critical",
         _pod("web", "storefront-84c6d9f7b-k3l5m", "web") | {"deployment": "storefront"},
         "Pod web/storefront-84c6d9f7b-k3l5m is in CrashLoopBackOff",
         "CrashLoopBackOff since the rollout of storefront 4.0.2 finished 6 minutes ago.", "terse"),
    Case("ops", "KubePodCrashLooping", "critical",
         _pod("orders", "orders-worker-69f8d7c5b-w8e4r", "worker"),
         "Pod orders/orders-worker-69f8d7c5b-w8e4r 持續 CrashLoopBackOff",
         "部署 orders-worker v2.5.0 之後，Pod orders/orders-worker-69f8d7c5b-w8e4r 持續 "
         "CrashLoopBackOff，每次啟動約 5 秒後退出。"),
    Case("classic", "KubePodCrashLooping", "warning",
         _pod("notifications", "sms-gateway-7f6d5c4b3-a1s2d", "gateway"),
         "Pod notifications/sms-gateway-7f6d5c4b3-a1s2d is in CrashLoopBackOff",
         "Pod notifications/sms-gateway-7f6d5c4b3-a1s2d is in CrashLoopBackOff. There has been no "
         "rollout of sms-gateway in the last 7 days."),
    Case("ops", "KubePodCrashLooping", "warning",
         _pod("inventory", "inventory-sync-5d4c8b7f6-g5h6j", "sync"),
         "Pod inventory/inventory-sync-5d4c8b7f6-g5h6j is in CrashLoopBackOff",
         "Pod inventory/inventory-sync-5d4c8b7f6-g5h6j is waiting to start: back-off restarting "
         "failed container sync (6 restarts in 15 minutes)."),
    Case("minimal", "KubePodCrashLooping", "warning",
         _pod("auth", "token-service-6b5a4c3d2-z7x8c", "token"),
         "Pod auth/token-service-6b5a4c3d2-z7x8c is in CrashLoopBackOff",
         "Back-off restarting failed container token in pod auth/token-service-6b5a4c3d2-z7x8c.",
         "terse"),
    Case("ops", "KubePodCrashLooping", "warning",
         _pod("media", "transcoder-7c6b5a4d3-v9b8n", "transcoder"),
         "Pod media/transcoder-7c6b5a4d3-v9b8n is in CrashLoopBackOff",
         "Pod media/transcoder-7c6b5a4d3-v9b8n has restarted 9 times in the last 30 minutes."),
    # --- 5xx: after a change, and from a dependency ------------------------------------
    Case("classic", "Http5xxErrorRateHigh", "critical",
         {"namespace": "orders", "service": "orders-api", "deployment": "orders-api"},
         "orders-api 5xx ratio above 5%",
         "5xx ratio for orders-api is 14% since we shipped orders-api 5.4.0 at 13:40 UTC."),
    Case("ops", "APIHighErrorRate", "critical",
         {"namespace": "cart", "service": "cart-api", "deployment": "cart-api"},
         "cart-api error rate is high",
         "The error rate of cart-api jumped to 9% right after deploying cart-api 2.1.0.",
         "evidence_first"),
    Case("minimal", "Http5xxErrorRateHigh", "critical",
         {"namespace": "profile", "service": "profile-api", "deployment": "profile-api"},
         "profile-api answers 500 to 11% of requests",
         "Version 3.2.1 went live at 10:02 UTC; since then 11% of profile-api requests fail with "
         "500."),
    Case("renamed", "HighErrorRate", "critical",
         {"namespace": "catalog", "service": "catalog-api", "deployment": "catalog-api"},
         "catalog-api returns 500s",
         "After the new release catalog-api 7.3.0 was rolled out, 6% of requests return 500 "
         "Internal Server Error."),
    Case("ops", "Http5xxErrorRateHigh", "critical",
         {"namespace": "shipping", "service": "shipping-api", "deployment": "shipping-api"},
         "shipping-api 5xx 錯誤比例過高",
         "shipping-api 上線 3.2.1 版之後，5xx 錯誤比例升到 15%。"),
    Case("classic", "APIHighErrorRate", "critical",
         {"namespace": "catalog", "service": "catalog-web", "deployment": "catalog-web"},
         "catalog-web answers 502 to 8% of requests",
         "catalog-web answers 502 to 8% of requests; its logs show connection refused from "
         "pricing-service. No deploy of catalog-web since last week."),
    Case("ops", "Http5xxErrorRateHigh", "critical",
         {"namespace": "checkout", "service": "checkout-api", "deployment": "checkout-api"},
         "checkout-api 5xx ratio is 7%",
         "checkout-api fails 7% of requests; every failure is a timeout calling the external "
         "payment-gateway."),
    Case("minimal", "APIHighErrorRate", "critical",
         {"namespace": "search", "service": "search-api", "deployment": "search-api"},
         "search-api returns 503",
         "search-api returns 503 for 10% of queries: upstream elasticsearch cluster reports red "
         "status.", "terse"),
    Case("classic", "Http5xxErrorRateHigh", "critical",
         {"namespace": "edge", "service": "api-gateway", "deployment": "api-gateway"},
         "api-gateway 5xx ratio is 9%",
         "The last deploy of api-gateway was 9 days ago; the 5xx come from upstream auth-service "
         "timeouts."),
    # --- images that cannot be pulled -----------------------------------------------------
    Case("classic", "KubePodImagePullBackOff", "warning",
         _pod("media", "thumbnailer-5c7d8e9f6-q1w2e", "thumbnailer"),
         "Pod media/thumbnailer-5c7d8e9f6-q1w2e cannot pull its image",
         "Back-off pulling image registry.example.internal/thumbnailer:v3.0.1: manifest unknown; "
         "the rollout of thumbnailer v3.0.1 started 5 minutes ago."),
    Case("ops", "KubePodErrImagePull", "warning",
         _pod("auth", "session-store-6d8e9f7a5-r4t5y", "store") | {"deployment": "session-store"},
         "Pod auth/session-store-6d8e9f7a5-r4t5y: ErrImagePull",
         "Image tag 1.4.2 of session-store was not found in the registry; the pod was created by "
         "the release we shipped 8 minutes ago."),
    Case("renamed", "KubePodImagePullBackOff", "warning",
         _pod("tools", "ci-runner-7e8f9a6b5-u7i8o", "runner"),
         "Pod tools/ci-runner-7e8f9a6b5-u7i8o cannot pull its image",
         "Back-off pulling image docker.io/library/alpine:3.19: 429 Too Many Requests (pull rate "
         "limit) on a node that joined 10 minutes ago."),
    Case("minimal", "KubePodImagePullBackOff", "warning",
         _pod("billing", "invoice-renderer-8f9a7b6c5-p0o9i", "renderer"),
         "Pod billing/invoice-renderer-8f9a7b6c5-p0o9i cannot pull its image",
         "Back-off pulling image registry.example.internal/invoice-renderer:2.2.0: unauthorized.",
         "terse"),
    # --- failed jobs: migrations and money need people, reports may be re-run -----------
    Case("classic", "KubeJobFailed", "warning", _job("payments", "db-migrate-v42"),
         "Job payments/db-migrate-v42 failed to complete",
         "Job payments/db-migrate-v42 failed to complete."),
    Case("ops", "KubeJobFailed", "warning", _job("orders", "schema-migration-20261202"),
         "Job orders/schema-migration-20261202 failed to complete",
         "Job orders/schema-migration-20261202 failed to complete: BackoffLimitExceeded."),
    Case("renamed", "KubeJobFailed", "warning", _job("accounts", "flyway-migrate-7"),
         "Job accounts/flyway-migrate-7 failed to complete",
         "Job accounts/flyway-migrate-7 failed to complete.", "terse"),
    Case("minimal", "KubeJobFailed", "warning", _job("inventory", "alembic-upgrade-1f3c"),
         "Job inventory/alembic-upgrade-1f3c failed to complete",
         "Job inventory/alembic-upgrade-1f3c failed to complete after 3 attempts."),
    Case("classic", "KubeJobFailed", "warning", _job("billing", "charge-subscriptions-28934520"),
         "Job billing/charge-subscriptions-28934520 failed to complete",
         "Job billing/charge-subscriptions-28934520 failed to complete."),
    Case("ops", "KubeJobFailed", "warning", _job("crm", "purge-inactive-accounts-28934400"),
         "Job crm/purge-inactive-accounts-28934400 failed to complete",
         "Job crm/purge-inactive-accounts-28934400 failed to complete."),
    Case("minimal", "KubeJobFailed", "warning", _job("data", "backfill-order-totals-28934460"),
         "Job data/backfill-order-totals-28934460 failed to complete",
         "Job data/backfill-order-totals-28934460 failed to complete."),
    Case("classic", "KubeJobFailed", "warning", _job("reporting", "daily-sales-report-28934520"),
         "Job reporting/daily-sales-report-28934520 failed to complete",
         "Job reporting/daily-sales-report-28934520 failed to complete."),
    Case("ops", "KubeJobFailed", "warning", _job("billing", "usage-report-28934460"),
         "Job billing/usage-report-28934460 failed to complete",
         "Job billing/usage-report-28934460 failed to complete."),
    Case("renamed", "KubeJobFailed", "warning", _job("marketing", "weekly-kpi-report-28934880"),
         "Job marketing/weekly-kpi-report-28934880 failed to complete",
         "Job marketing/weekly-kpi-report-28934880 failed to complete.", "terse"),
    Case("minimal", "KubeJobFailed", "warning", _job("payments", "daily-metrics-report-28934520"),
         "Job payments/daily-metrics-report-28934520 failed to complete",
         "Job payments/daily-metrics-report-28934520 failed to complete."),
    Case("ops", "KubeJobFailed", "warning", _job("reporting", "nightly-report-28934520"),
         "報表排程工作 reporting/nightly-report-28934520 執行失敗",
         "報表排程工作 reporting/nightly-report-28934520 執行失敗，未能完成。"),
    Case("classic", "KubeJobFailed", "warning", _job("billing", "db-migrate-v43"),
         "資料庫遷移工作 billing/db-migrate-v43 執行失敗",
         "資料庫遷移工作 billing/db-migrate-v43 執行失敗，未能完成。"),
    Case("minimal", "KubeJobFailed", "warning", _job("web", "sitemap-generator-28934400"),
         "Job web/sitemap-generator-28934400 failed to complete",
         "Job web/sitemap-generator-28934400 failed: BackoffLimitExceeded.", "terse"),
    Case("ops", "KubeJobFailed", "warning", _job("analytics", "export-report-28934520"),
         "Job analytics/export-report-28934520 failed to complete",
         "Job analytics/export-report-28934520 failed with DeadlineExceeded."),
    Case("classic", "KubeJobFailed", "warning", _job("payments", "ledger-migration-v12"),
         "Job payments/ledger-migration-v12 failed to complete",
         "Job payments/ledger-migration-v12 failed to complete."),
    # --- certificates --------------------------------------------------------------------
    Case("classic", "CertificateExpiringSoon", "warning",
         {"namespace": "ingress", "name": "api-example-com-tls"},
         "Certificate ingress/api-example-com-tls expires in 5 days",
         "Certificate ingress/api-example-com-tls expires in 5 days; cert-manager has not renewed "
         "it."),
    Case("ops", "CertManagerCertExpirySoon", "warning",
         {"namespace": "web", "name": "www-example-org"},
         "Certificate web/www-example-org expires in 4 days",
         "The certificate web/www-example-org expires in 4 days; the last renewal attempt "
         "failed.", "evidence_first"),
    Case("renamed", "TLSCertificateExpiring", "warning",
         {"namespace": "ingress", "name": "shop-tls"},
         "Certificate ingress/shop-tls expires in 5 days",
         "TLS certificate ingress/shop-tls will expire in 5 days and was not renewed."),
    Case("minimal", "CertificateExpiringSoon", "warning",
         {"namespace": "ingress", "name": "admin-example-com-tls"},
         "Certificate ingress/admin-example-com-tls expires in 6 days",
         "Certificate ingress/admin-example-com-tls expires in 6 days; cert-manager has not "
         "renewed it."),
    Case("ops", "CertificateExpiringSoon", "warning",
         {"namespace": "ingress", "name": "pay-example-com-tls"},
         "憑證 ingress/pay-example-com-tls 即將到期",
         "憑證 ingress/pay-example-com-tls 將於 5 天後到期，cert-manager 未能自動更新。"),
    # --- stuck workers -------------------------------------------------------------------
    Case("classic", "KubePodNotReady", "warning",
         {"namespace": "checkout", "pod": "cart-6a7b8c9d5-m1n2b"},
         "Pod checkout/cart-6a7b8c9d5-m1n2b is not ready",
         "Pod checkout/cart-6a7b8c9d5-m1n2b has not been ready for 20 minutes: the worker hangs, "
         "its readiness probe times out and the request pool is exhausted by calls waiting on a "
         "dead connection."),
    Case("ops", "WorkerHeartbeatMissing", "warning",
         {"namespace": "orders", "pod": "fulfilment-worker-5b6c7d8e9-c3v4b",
          "deployment": "fulfilment-worker"},
         "Worker orders/fulfilment-worker-5b6c7d8e9-c3v4b hangs",
         "Pod orders/fulfilment-worker-5b6c7d8e9-c3v4b hangs: no log output for 25 minutes, its "
         "heartbeat is stale and its share of the queue is not draining; the other replicas are "
         "fine."),
    Case("renamed", "KubePodNotReady", "warning",
         {"namespace": "notifications", "pod": "push-sender-7c8d9e6f5-n5m6k"},
         "Pod notifications/push-sender-7c8d9e6f5-n5m6k is not ready",
         "The worker in pod notifications/push-sender-7c8d9e6f5-n5m6k is blocked: its event loop "
         "has been blocked for 300 s and readiness fails; the other replicas serve normally.",
         "evidence_first"),
    Case("minimal", "KubePodNotReady", "warning",
         {"namespace": "search", "pod": "indexer-6d7e8f9a4-j7k8l", "deployment": "indexer"},
         "Pod search/indexer-6d7e8f9a4-j7k8l is not ready",
         "Pod search/indexer-6d7e8f9a4-j7k8l is stuck: a thread dump shows every worker thread "
         "waiting on a lock that is never released; readiness times out."),
    Case("classic", "KubePodNotReady", "warning",
         {"namespace": "checkout", "pod": "cart-6a7b8c9d5-q9w8e"},
         "Pod checkout/cart-6a7b8c9d5-q9w8e 未就緒",
         "Pod checkout/cart-6a7b8c9d5-q9w8e 工作程序卡住，readiness 探測逾時已超過 15 分鐘，"
         "其他副本正常。"),
    Case("classic", "KafkaConsumerGroupLag", "warning",
         {"namespace": "billing", "consumergroup": "invoice-consumer", "topic": "invoices",
          "deployment": "invoice-consumer"},
         "Consumer group invoice-consumer is lagging",
         "All invoice-consumer replicas are stuck: no offsets committed for 20 minutes while lag "
         "grows past 300k messages; the brokers are healthy."),
    Case("ops", "KafkaConsumerGroupLag", "warning",
         {"namespace": "events", "consumergroup": "audit-writer", "topic": "audit",
          "deployment": "audit-writer", "service": "audit-writer"},
         "Consumer group audit-writer is lagging",
         "Every audit-writer consumer hangs since the broker failover at 03:12: no commits for 30 "
         "minutes, lag at 1.2M and growing; brokers report healthy."),
    # --- capacity, latency, memory -------------------------------------------------------
    Case("classic", "KubeDeploymentReplicasMismatch", "warning",
         {"namespace": "recommend", "deployment": "recommender"},
         "Deployment recommend/recommender has not matched its replicas",
         "Deployment recommend/recommender has 4 of 8 replicas available for 20 minutes; new pods "
         "are Pending: 0/9 nodes are available: insufficient memory."),
    Case("ops", "KubeDeploymentReplicasMismatch", "warning",
         {"namespace": "search", "deployment": "search-api"},
         "Deployment search/search-api has not matched its replicas",
         "Deployment search/search-api has not matched the expected number of replicas for 15 "
         "minutes; new pods Pending: 0/12 nodes available: insufficient cpu."),
    Case("classic", "KubeHpaMaxedOut", "warning",
         {"namespace": "web", "horizontalpodautoscaler": "storefront"},
         "HPA web/storefront is at its maximum",
         "HPA web/storefront has been running at max replicas (20) for 25 minutes."),
    Case("ops", "KubeHpaMaxedOut", "warning",
         {"namespace": "api", "horizontalpodautoscaler": "public-api"},
         "HPA api/public-api is at its maximum",
         "HPA api/public-api has run at its maximum of 30 replicas for 20 minutes with CPU at 95% "
         "on every replica."),
    Case("minimal", "HighRequestLatency", "warning",
         {"namespace": "search", "service": "search-api"},
         "search-api p99 latency is high",
         "p99 latency of search-api is 2.4 s against an SLO of 500 ms.", "evidence_first"),
    Case("classic", "HighRequestLatency", "warning",
         {"namespace": "profile", "service": "profile-api"},
         "profile-api p99 latency is high",
         "p99 latency of profile-api is 1.8 s against an SLO of 300 ms for the last 15 minutes."),
    Case("renamed", "HighRequestLatency", "warning",
         {"namespace": "checkout", "service": "checkout-api", "deployment": "checkout-api"},
         "checkout-api p99 latency tripled",
         "p99 latency of checkout-api tripled (350 ms to 1.1 s) right after deploying "
         "checkout-api 2.8.0 at 11:20 UTC."),
    Case("ops", "HighRequestLatency", "warning",
         {"namespace": "search", "service": "suggest-api"},
         "suggest-api 的 p99 延遲過高",
         "suggest-api 的 p99 延遲為 2.1 秒，高於 500 毫秒的 SLO，已持續 15 分鐘。"),
    Case("classic", "KubeContainerOOMKilled", "warning",
         _pod("analytics", "aggregator-7a8b9c6d5-s2d3f", "aggregator"),
         "Container aggregator was OOMKilled",
         "Container aggregator in pod analytics/aggregator-7a8b9c6d5-s2d3f was OOMKilled 4 times "
         "in the last hour."),
    Case("ops", "KubeContainerOOMKilled", "warning",
         _pod("search", "search-indexer-7c8d9f6b5-h4j5k", "indexer"),
         "Container indexer was OOMKilled",
         "Container indexer in pod search/search-indexer-7c8d9f6b5-h4j5k was OOMKilled 3 times in "
         "the last hour.", "terse"),
    Case("minimal", "KubeContainerOOMKilled", "warning",
         _pod("media", "resizer-5e6f7a8b9-l6k7j", "resizer"),
         "容器 resizer 記憶體不足被終止",
         "容器 resizer（pod media/resizer-5e6f7a8b9-l6k7j）在過去一小時內因記憶體不足被終止 "
         "(OOMKilled) 3 次。"),
    Case("renamed", "KubeContainerOOMKilled", "warning",
         _pod("reports", "pdf-builder-6f7a8b9c1-y6u7i", "builder") | {"deployment": "pdf-builder"},
         "Container builder was OOMKilled",
         "Container builder was OOMKilled 5 times since the rollout of pdf-builder 2.0.0 an hour "
         "ago; before the rollout it ran at 60% of its memory limit.", "evidence_first"),
    Case("minimal", "PodRestartingTooOften", "warning",
         _pod("notifications", "mailer-5f6a7b8c9-r5t6y", "mailer"),
         "Container mailer restarts too often",
         "Container mailer restarted 7 times in 1 h; last termination reason OOMKilled."),
    Case("classic", "CPUThrottlingHigh", "info",
         _pod("web", "frontend-5d8f7c6b9-a8s9d", "nginx"),
         "CPU throttling of nginx is 31%",
         "31% throttling of CPU in namespace web for container nginx in pod "
         "frontend-5d8f7c6b9-a8s9d."),
    Case("ops", "CPUThrottlingHigh", "info",
         _pod("api", "public-api-6e7f8a9b1-f3g4h", "api"),
         "CPU throttling of api is 42%",
         "42% throttling of CPU in namespace api for container api in pod "
         "public-api-6e7f8a9b1-f3g4h.", "terse"),
    # --- nodes and hosts -----------------------------------------------------------------
    Case("classic", "KubeNodeNotReady", "warning", {"node": "ip-10-0-8-23.ec2.internal"},
         "Node ip-10-0-8-23.ec2.internal is not ready",
         "ip-10-0-8-23.ec2.internal has been unready for more than 15 minutes."),
    Case("ops", "KubeNodeNotReady", "warning", {"node": "ip-10-0-5-42.ec2.internal"},
         "節點 ip-10-0-5-42.ec2.internal 未就緒",
         "節點 ip-10-0-5-42.ec2.internal 已超過 15 分鐘未就緒。"),
    Case("renamed", "KubeNodeNotReady", "warning", {"node": "gke-prod-pool-2-7f3a"},
         "Node gke-prod-pool-2-7f3a is not ready",
         "gke-prod-pool-2-7f3a has reported NotReady for 20 minutes; kubelet stopped posting node "
         "status.", "terse"),
    Case("minimal", "KubeNodeNotReady", "warning", {"node": "worker-17.dc1.example.internal"},
         "Node worker-17.dc1.example.internal is not ready",
         "worker-17.dc1.example.internal has been unready for more than 15 minutes."),
    Case("classic", "NodeMemoryHighUtilization", "critical",
         {"instance": "ip-10-0-9-14.ec2.internal:9100"},
         "Memory is filling up on ip-10-0-9-14",
         "Memory is filling up at ip-10-0-9-14.ec2.internal:9100: 95% used; kubelet reports "
         "MemoryPressure.", "terse"),
    Case("ops", "NodeFilesystemSpaceFillingUp", "warning",
         {"instance": "ip-10-0-3-30.ec2.internal:9100", "mountpoint": "/var/lib/kubelet",
          "device": "nvme0n1p1"},
         "Filesystem on ip-10-0-3-30 is filling up",
         "Filesystem /var/lib/kubelet at ip-10-0-3-30.ec2.internal:9100 has only 8% available "
         "space left and is filling up."),
    Case("renamed", "NodeDiskIOSaturation", "warning",
         {"instance": "ip-10-0-6-8.ec2.internal:9100", "device": "nvme1n1"},
         "Disk IO is saturated on ip-10-0-6-8",
         "Disk IO queue is high on nvme1n1 at ip-10-0-6-8.ec2.internal:9100: 14 for the last 30 "
         "minutes."),
    Case("classic", "NodeClockSkewDetected", "warning",
         {"instance": "ip-10-0-2-19.ec2.internal:9100"},
         "Clock skew on ip-10-0-2-19",
         "Clock at ip-10-0-2-19.ec2.internal:9100 is out of sync by more than 0.05 s."),
    Case("ops", "NodeNetworkReceiveErrs", "warning",
         {"instance": "ip-10-0-4-33.ec2.internal:9100", "device": "eth0"},
         "Receive errors on ip-10-0-4-33 eth0",
         "ip-10-0-4-33.ec2.internal:9100 interface eth0 has encountered 2.1% receive errors in the "
         "last two minutes."),
    Case("classic", "HostHighCpuLoad", "warning",
         {"instance": "batch-02.example.internal:9100", "role": "batch"},
         "CPU load on batch-02 is above 80%",
         "CPU load on the batch host batch-02 is above 85% for 12 minutes during the nightly ETL "
         "window, as every night."),
    # --- data stores -------------------------------------------------------------------
    Case("classic", "KubePersistentVolumeFillingUp", "critical",
         {"namespace": "data", "persistentvolumeclaim": "data-mysql-0"},
         "PVC data/data-mysql-0 is almost full",
         "The PersistentVolume claimed by data-mysql-0 in namespace data is only 4% free."),
    Case("ops", "KubePersistentVolumeFillingUp", "critical",
         {"namespace": "data", "persistentvolumeclaim": "data-postgres-1"},
         "PVC data/data-postgres-1 is almost full",
         "The PersistentVolume claimed by data-postgres-1 in namespace data is only 2% free and "
         "is expected to fill within 3 hours.", "evidence_first"),
    Case("renamed", "PostgresqlTooManyConnections", "critical",
         {"instance": "pg-orders.example.internal:9187"},
         "pg-orders uses 94% of max_connections",
         "PostgreSQL instance pg-orders has 94% of max_connections in use."),
    Case("minimal", "PostgresqlReplicationLag", "critical",
         {"instance": "pg-replica-2.example.internal:9187"},
         "pg-replica-2 lags the primary",
         "Replica pg-replica-2 is 420 seconds behind the primary.", "terse"),
    Case("classic", "KubeStatefulSetReplicasMismatch", "warning",
         {"namespace": "queue", "statefulset": "rabbitmq"},
         "StatefulSet queue/rabbitmq has not matched its replicas",
         "StatefulSet queue/rabbitmq has not matched the expected number of replicas: 2 of 3 "
         "ready for 20 minutes."),
    Case("ops", "KubeStatefulSetReplicasMismatch", "warning",
         {"namespace": "data", "statefulset": "kafka"},
         "StatefulSet data/kafka has not matched its replicas",
         "StatefulSet data/kafka has 2 of 3 replicas ready for 15 minutes."),
    Case("classic", "etcdHighNumberOfLeaderChanges", "warning",
         {"job": "etcd", "instance": "10.0.0.12:2379"},
         "etcd leader changes",
         "etcd cluster has seen 5 leader changes within the last 15 minutes."),
    Case("ops", "CoreDNSErrorsHigh", "critical",
         {"namespace": "kube-system", "job": "coredns"},
         "CoreDNS SERVFAIL ratio is 6%",
         "CoreDNS is returning SERVFAIL for 6% of requests; its logs show i/o timeouts to the "
         "upstream resolver 10.0.0.2."),
    Case("minimal", "TargetDown", "warning",
         {"job": "kafka-exporter", "namespace": "monitoring", "service": "kafka-exporter"},
         "kafka-exporter targets are down",
         "100% of the kafka-exporter/kafka-exporter targets in monitoring namespace are down."),
    Case("ops", "TargetDown", "warning",
         {"job": "redis-exporter", "namespace": "monitoring", "service": "redis-exporter"},
         "redis-exporter targets are down",
         "100% of the redis-exporter/redis-exporter targets in monitoring namespace are down."),
    Case("minimal", "KubePodNotReady", "warning",
         {"namespace": "catalog", "pod": "catalog-web-7b8c9d1e2-h8j9k"},
         "Pod catalog/catalog-web-7b8c9d1e2-h8j9k is not ready",
         "Pod catalog/catalog-web-7b8c9d1e2-h8j9k has been in a non-ready state for longer than "
         "15 minutes.", "terse"),
    Case("ops", "KubePodNotReady", "warning",
         {"namespace": "catalog", "pod": "catalog-web-7b8c9d1e2-z1x2c"},
         "Pod catalog/catalog-web-7b8c9d1e2-z1x2c is not ready",
         "Pod catalog/catalog-web-7b8c9d1e2-z1x2c has been in a non-ready state for longer than "
         "15 minutes."),
    Case("classic", "KafkaConsumerGroupLag", "warning",
         {"namespace": "orders", "consumergroup": "order-events", "topic": "orders",
          "deployment": "order-events-consumer"},
         "Consumer group order-events is lagging",
         "Consumer group order-events lags 180k messages on topic orders and the lag is growing; "
         "consumers commit normally."),
    Case("minimal", "KafkaConsumerGroupLag", "warning",
         {"namespace": "billing", "consumergroup": "payment-events", "topic": "payments"},
         "Consumer group payment-events is lagging",
         "Consumer group payment-events lags 90k messages on topic payments and the lag is "
         "growing.", "evidence_first"),
    # --- clear capacity: scale out ---------------------------------------------------------
    Case("classic", "QueueBacklogGrowing", "warning",
         {"namespace": "media", "deployment": "image-resizer", "queue": "resize-jobs"},
         "resize-jobs backlog is growing",
         "The resize-jobs queue grows by 400 jobs a minute: all 3 image-resizer replicas run at "
         "100% CPU and there is no autoscaler; the cluster has spare capacity."),
    Case("ops", "QueueBacklogGrowing", "warning",
         {"namespace": "media", "deployment": "video-encoder", "queue": "encode"},
         "encode backlog is growing",
         "The encode queue grows steadily: both video-encoder replicas are saturated at 100% CPU, "
         "no autoscaler is configured and the nodes have free capacity."),
    # --- a rollout that does not progress ----------------------------------------------------
    Case("renamed", "KubeDeploymentRolloutStuck", "warning",
         {"namespace": "accounts", "deployment": "accounts-api"},
         "Rollout of accounts/accounts-api is stuck",
         "The rollout of accounts-api 6.1.0 has exceeded its progress deadline: new pods fail "
         "their readiness probe while the old ones still serve."),
    Case("minimal", "KubeDeploymentRolloutStuck", "warning",
         {"namespace": "web", "deployment": "landing"},
         "Rollout of web/landing is stuck",
         "The rollout of landing 1.12.0 started 25 minutes ago and has not progressed: new pods "
         "crash on start."),
    # --- evidence in another annotation ------------------------------------------------------
    Case("ops", "Http5xxErrorRateHigh", "critical",
         {"namespace": "billing", "service": "billing-api", "deployment": "billing-api"},
         "billing-api 5xx ratio is 13%",
         "5xx ratio for billing-api is 13% over the last 10 minutes.", "baseline",
         {"recent_change": "billing-api 4.1.0 rollout finished at 14:02 UTC, 6 minutes before "
          "this alert"}),
    # --- alerts nobody wrote knowledge for -----------------------------------------------
    Case("classic", "LicenseServerUnreachable", "warning",
         {"instance": "lic-02.example.internal"},
         "License daemon on lic-02 is not answering",
         "The FlexLM license daemon on lic-02 has not answered checks from the build agents for 10 "
         "minutes."),
    Case("ops", "BadgeReaderOffline", "warning",
         {"namespace": "facilities", "site": "hq-3f"},
         "Badge reader at hq-3f is offline",
         "The badge reader at the 3rd floor entrance has not checked in for 30 minutes."),
    Case("renamed", "SapIdocBacklogHigh", "warning", {"instance": "sap-pi-01"},
         "IDoc backlog on sap-pi-01",
         "More than 5000 IDocs are waiting in status 64 on sap-pi-01."),
    Case("minimal", "AccessControlGatewayDown", "warning", {"instance": "badge-gw-01"},
         "門禁閘道 badge-gw-01 無法連線",
         "門禁系統閘道 badge-gw-01 已 20 分鐘無法連線。"),
    Case("classic", "MainframeBatchLate", "warning", {"instance": "mf-01"},
         "Overnight batch on mf-01 is late",
         "The overnight batch on mf-01 is 40 minutes late; a new version of the batch scheduler "
         "was deployed on mf-01 yesterday."),
    Case("ops", "PrinterQueueStuck", "info", {"instance": "print-srv-02"},
         "Print queue on print-srv-02 is stuck",
         "The label-printer queue on print-srv-02 has held 120 jobs for 15 minutes.", "terse"),
    # --- more phrasings and registries (cases 101 on) ----------------------------------------
    Case("renamed", "Http5xxErrorRateHigh", "critical",
         {"namespace": "search", "service": "autocomplete", "deployment": "autocomplete"},
         "autocomplete 5xx ratio is 12%",
         "We shipped autocomplete 0.9.4 at 16:05 UTC; 12% of requests have failed with 500 since."),
    Case("minimal", "Http5xxErrorRateHigh", "critical",
         {"namespace": "payments", "service": "payments-api", "deployment": "payments-api"},
         "payments-api 5xx ratio is 8%",
         "Errors started right after deploying payments-api 9.0.1: 8% of card authorisations "
         "fail with 500.", "evidence_first"),
    Case("classic", "QueueNotDraining", "warning",
         {"namespace": "reports", "deployment": "report-worker", "queue": "render"},
         "render queue is not draining",
         "All report-worker replicas hang: no job has finished in 20 minutes, every worker shows "
         "the same job in progress and CPU is idle."),
    Case("renamed", "QueueNotDraining", "warning",
         {"namespace": "mail", "deployment": "mail-sender", "queue": "outbound"},
         "outbound mail queue is not draining",
         "Every mail-sender worker is blocked on a stale SMTP connection: nothing sent for 15 "
         "minutes while the queue grows; the SMTP relay itself answers.", "terse"),
    Case("ops", "KubeJobFailed", "warning", _job("payments", "db-migrate-v42"),
         "Job payments/db-migrate-v42 failed to complete",
         "Job payments/db-migrate-v42 failed to complete."),
    Case("renamed", "KubeJobFailed", "warning", _job("billing", "monthly-usage-report-28934520"),
         "Job billing/monthly-usage-report-28934520 failed to complete",
         "Job billing/monthly-usage-report-28934520 failed to complete."),
    Case("classic", "CertificateExpiringSoon", "warning",
         {"namespace": "ingress", "name": "cdn-example-com-tls"},
         "憑證 ingress/cdn-example-com-tls 即將到期",
         "憑證 ingress/cdn-example-com-tls 將於 4 天後到期，自動更新沒有成功。"),
    Case("ops", "KubeContainerOOMKilled", "warning",
         _pod("catalog", "catalog-api-5c6d7e8f9-b2n3m", "api") | {"deployment": "catalog-api"},
         "Container api was OOMKilled",
         "Version 2.4.0 of catalog-api went live 40 minutes ago; since then the api container has "
         "been OOMKilled 6 times, never before."),
    Case("ops", "KubePodCrashLooping", "warning",
         _pod("search", "ranker-6f7e8d9c1-d4f5g", "ranker"),
         "Pod search/ranker-6f7e8d9c1-d4f5g 持續重啟",
         "Pod search/ranker-6f7e8d9c1-d4f5g 處於 CrashLoopBackOff，過去 30 分鐘重啟 8 次。"),
    Case("minimal", "KubePodCrashLooping", "critical",
         _pod("orders", "orders-api-7a6b5c4d3-e5r6t", "api") | {"deployment": "orders-api"},
         "Pod orders/orders-api-7a6b5c4d3-e5r6t is in CrashLoopBackOff",
         "Pod orders/orders-api-7a6b5c4d3-e5r6t is crash-looping: the new config we shipped "
         "with orders-api 5.5.0 ten minutes ago fails validation at start."),
]  # fmt: skip


def _tools_line(tools: list[dict[str, Any]]) -> str:
    calls = [
        f"{tool['name']}(" + ", ".join(f"{p}~{rx}" for p, rx in tool["params"].items()) + ")"
        for tool in tools
    ]
    return "Registered tools: " + "; ".join(calls)


def request(
    number: int,
    case: Case,
    prefix: str = "eval",
    registries: dict[str, list[dict[str, Any]]] = REGISTRIES,
    run_id: str = RUN_ID,
) -> dict[str, Any]:
    incident_id = f"{prefix}-{number:03d}"
    labels = {"alertname": case.alert, "severity": case.severity} | case.labels
    annotations = {"summary": case.summary, "description": case.description} | case.extra
    alert = {
        "alert_name": case.alert,
        "annotations": dict(sorted(annotations.items())),
        "labels": dict(sorted(labels.items())),
        "severity": case.severity,
    }
    tools = registries[case.registry]
    prompt = (
        f"Incident {incident_id}. Alert as received (sanitized):\n"
        f"{json.dumps(alert, ensure_ascii=False)}\n{_tools_line(tools)}"
    )
    return {
        "schema_version": "howl.replay.request.v1",
        "run_id": run_id,
        "incident_id": incident_id,
        "candidate_id": f"{incident_id}-{case.variant}",
        "system_prompt": SYSTEM_PROMPT,
        "user_prompt": prompt,
        "incident_context": {
            "alert_name": case.alert,
            "labels": labels,
            "annotations": annotations,
            "severity": case.severity,
            "tools": tools,
        },
        "source_metadata": {
            "source": "alertmanager",
            "sanitized": True,
            "cluster": "eval-prod",
            "registry": case.registry,
        },
        "response_contract": "coordinate",
        "metadata": {
            "request_only": True,
            "not_replacement_evidence": True,
            "candidate_variant_id": case.variant,
        },
    }


def write_pack(
    path: Path,
    cases: list[Case],
    prefix: str,
    registries: dict[str, list[dict[str, Any]]] = REGISTRIES,
    run_id: str = RUN_ID,
) -> None:
    requests = [request(n, c, prefix, registries, run_id) for n, c in enumerate(cases, 1)]
    lines = [json.dumps(r, ensure_ascii=False) for r in requests]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"wrote {len(lines)} request(s) to {path.relative_to(HERE)}")


def main() -> None:
    # imported here: the unseen cases reuse this module's registries and Case
    from tests.evaluation.unseen_cases import UNSEEN_CASES

    write_pack(HERE / "requests.jsonl", CASES, "eval")
    write_pack(HERE / "unseen" / "requests.jsonl", UNSEEN_CASES, "unseen")


if __name__ == "__main__":
    main()
