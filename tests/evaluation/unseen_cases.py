"""The unseen set: 30 more incidents, written after the engine had been tuned on the first 110.

Never tune the engine on these: their first recorded score is the honest measure
of how the engine fares on alerts nobody wrote knowledge for. Labels are in
unseen/labels.jsonl, written before any engine ran on these requests.
"""

from __future__ import annotations

from tests.evaluation.build_requests import Case


def _pod(ns: str, pod: str, container: str) -> dict[str, str]:
    return {"namespace": ns, "pod": pod, "container": container}


def _job(ns: str, job: str) -> dict[str, str]:
    return {"namespace": ns, "job_name": job}


UNSEEN_CASES: list[Case] = [
    Case("platform", "KubePodCrashLooping", "critical",
         _pod("billing", "invoice-api-6d5c4b3a2-q1w2e", "api") | {"deployment": "invoice-api"},
         "Pod billing/invoice-api-6d5c4b3a2-q1w2e is in CrashLoopBackOff",
         "invoice-api has been crash-looping since release 4.1 hit production 15 minutes ago."),
    Case("platform", "Http5xxErrorRateHigh", "critical",
         {"namespace": "web", "service": "storefront", "deployment": "storefront"},
         "storefront 5xx ratio is 10%",
         "The errors started when the canary of storefront 2.0.3 was promoted to all traffic."),
    Case("platform", "HighRequestLatency", "warning",
         {"namespace": "search", "service": "ranker", "deployment": "ranker"},
         "ranker p99 latency is high",
         "p99 of ranker went from 200 ms to 900 ms after this morning's deployment (v8.2.0)."),
    Case("platform", "KubePodCrashLooping", "critical",
         _pod("orders", "cart-api-5f4e3d2c1-a9s8d", "api") | {"deployment": "cart-api"},
         "Pod orders/cart-api-5f4e3d2c1-a9s8d 持續重啟",
         "新版本 cart-api 1.3.0 發佈後，Pod orders/cart-api-5f4e3d2c1-a9s8d 一直 "
         "CrashLoopBackOff。"),
    Case("platform", "Http5xxErrorRateHigh", "critical",
         {"namespace": "checkout", "service": "checkout-api", "deployment": "checkout-api"},
         "checkout-api 5xx 比例 9%",
         "昨天之後 checkout-api 沒有任何部署；錯誤都來自下游 payment-gateway 逾時。"),
    Case("platform", "KubePodCrashLooping", "warning",
         _pod("media", "uploader-7b6a5c4d3-z2x3c", "uploader"),
         "Pod media/uploader-7b6a5c4d3-z2x3c is in CrashLoopBackOff",
         "Container uploader keeps exiting with code 2; 11 restarts in 40 minutes."),
    Case("platform", "KubeContainerOOMKilled", "warning",
         _pod("analytics", "rollup-6c5b4a3d2-v4b5n", "rollup"),
         "Container rollup was OOMKilled",
         "Container rollup in pod analytics/rollup-6c5b4a3d2-v4b5n was OOMKilled twice in 30 "
         "minutes."),
    Case("platform", "KubePodNotReady", "warning",
         {"namespace": "events", "pod": "dispatcher-5a4b3c2d1-m6n7b"},
         "Pod events/dispatcher-5a4b3c2d1-m6n7b is not ready",
         "dispatcher-5a4b3c2d1-m6n7b is frozen: no progress for 18 minutes and a goroutine dump "
         "shows every goroutine parked on the same mutex; its siblings are healthy."),
    Case("platform", "QueueNotDraining", "warning",
         {"namespace": "mail", "deployment": "newsletter-worker", "queue": "newsletters"},
         "newsletters queue is not draining",
         "All newsletter-worker replicas are deadlocked: none has taken a message in 25 minutes "
         "and their CPU is flat at zero."),
    Case("platform", "KafkaConsumerGroupLag", "warning",
         {"namespace": "search", "consumergroup": "indexer", "topic": "documents",
          "deployment": "doc-indexer"},
         "Consumer group indexer is lagging",
         "doc-indexer 的所有副本都卡住，佇列沒有消化，已 20 分鐘沒有提交 offset；broker 正常。"),
    Case("platform", "KubeJobFailed", "warning", _job("users", "migrate-accounts-schema-9"),
         "Job users/migrate-accounts-schema-9 failed to complete",
         "Job users/migrate-accounts-schema-9 failed to complete."),
    Case("platform", "KubeJobFailed", "warning", _job("catalog", "liquibase-update-5"),
         "Job catalog/liquibase-update-5 failed to complete",
         "Job catalog/liquibase-update-5 failed to complete."),
    Case("platform", "KubeJobFailed", "warning", _job("payments", "refund-batch-28934520"),
         "Job payments/refund-batch-28934520 failed to complete",
         "Job payments/refund-batch-28934520 failed to complete."),
    Case("platform", "KubeJobFailed", "warning", _job("media", "delete-expired-uploads-28934"),
         "Job media/delete-expired-uploads-28934 failed to complete",
         "Job media/delete-expired-uploads-28934 failed to complete."),
    Case("platform", "KubeJobFailed", "warning", _job("finance", "daily-traffic-report-28934520"),
         "Job finance/daily-traffic-report-28934520 failed to complete",
         "Job finance/daily-traffic-report-28934520 failed to complete."),
    Case("platform", "KubeJobFailed", "warning", _job("reporting", "weekly-report-28934880"),
         "週報產生工作 reporting/weekly-report-28934880 執行失敗",
         "週報產生工作 reporting/weekly-report-28934880 執行失敗，沒有完成。"),
    Case("platform", "CertificateNotReady", "warning",
         {"namespace": "ingress", "name": "docs-example-com-tls"},
         "Certificate ingress/docs-example-com-tls expires in 3 days",
         "cert-manager failed to renew ingress/docs-example-com-tls (ACME order pending for 2 "
         "days); it expires in 3 days."),
    Case("platform", "CertificateExpiringSoon", "warning",
         {"namespace": "ingress", "name": "m-example-com-tls"},
         "憑證 ingress/m-example-com-tls 快要過期",
         "憑證 ingress/m-example-com-tls 還有 6 天過期，尚未自動續約。"),
    Case("platform", "KubeNodeNotReady", "warning", {"node": "node-pool-b-12"},
         "Node node-pool-b-12 is not ready",
         "node-pool-b-12 stopped reporting Ready 18 minutes ago."),
    Case("platform", "KubePersistentVolumeFillingUp", "critical",
         {"namespace": "data", "persistentvolumeclaim": "data-elasticsearch-2"},
         "PVC data/data-elasticsearch-2 is almost full",
         "The volume claimed by data-elasticsearch-2 is 97% used."),
    Case("platform", "TargetDown", "warning",
         {"job": "postgres-exporter", "namespace": "monitoring", "service": "postgres-exporter"},
         "postgres-exporter targets are down",
         "All postgres-exporter targets in namespace monitoring have been down for 10 minutes."),
    Case("platform", "KubeHpaMaxedOut", "warning",
         {"namespace": "api", "horizontalpodautoscaler": "graphql"},
         "HPA api/graphql is at its maximum",
         "HPA api/graphql has been pinned at its 24-replica maximum for half an hour."),
    Case("platform", "ElevatorControllerOffline", "warning", {"instance": "lift-ctl-2"},
         "Elevator controller lift-ctl-2 is offline",
         "The building management system lost contact with lift-ctl-2."),
    Case("platform", "ServerRoomTemperatureHigh", "critical", {"instance": "bms-01"},
         "機房溫度過高",
         "二樓機房溫度達 31°C，冷氣機組 2 號無回應。"),
    Case("platform", "KubeDeploymentRolloutStuck", "warning",
         {"namespace": "accounts", "deployment": "profile-svc"},
         "Rollout of accounts/profile-svc is stuck",
         "The new ReplicaSet never became available after we rolled out profile-svc 3.3."),
    Case("platform", "KubePodImagePullBackOff", "warning",
         _pod("web", "landing-6e5d4c3b2-k8l9p", "web") | {"deployment": "landing"},
         "Pod web/landing-6e5d4c3b2-k8l9p cannot pull its image",
         "manifest for registry.example.internal/landing:4.4.0 not found: the deploy we pushed "
         "5 minutes ago references a tag that was never built."),
    Case("classic", "KubePodCrashLooping", "critical",
         _pod("auth", "login-api-7d6c5b4a3-r5t6y", "api") | {"deployment": "login-api"},
         "Pod auth/login-api-7d6c5b4a3-r5t6y is in CrashLoopBackOff",
         "login-api 6.0.0 went out at 12:05 UTC; the pods have crash-looped since 12:06."),
    Case("classic", "KubeJobFailed", "warning", _job("payments", "inventory-report-28934520"),
         "Job payments/inventory-report-28934520 failed to complete",
         "Job payments/inventory-report-28934520 failed to complete."),
    Case("classic", "KubeJobFailed", "warning", _job("web", "migrate-db-users-3"),
         "Job web/migrate-db-users-3 failed to complete",
         "Job web/migrate-db-users-3 failed to complete."),
    Case("classic", "KafkaConsumerGroupLag", "warning",
         {"namespace": "orders", "consumergroup": "shipments", "topic": "shipments",
          "deployment": "shipment-consumer"},
         "Consumer group shipments is lagging",
         "Every shipment-consumer replica is wedged: no commits for 25 minutes while the lag "
         "climbs; the brokers are fine."),
]  # fmt: skip
