"""A full debate with only the embedded engine, in-process: what the default install answers with.

Agents and Debate over a Router holding just the EmbeddedEngine (as
`howl replay` builds it), an in-memory turn log and a fixed clock, over
snapshots shaped like the evidence builder's: three alerts, neighbours, a past
incident, a runbook note and two metric queries, with four registered actions.
"""

from __future__ import annotations

import time
import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from bench.debate_world import ACTIONS
from core.actions.registry import ActionRegistry
from core.debate.agents import Agents
from core.debate.models import (
    AgentTurn,
    AlertEvidence,
    DebateStatus,
    EvidenceSnapshot,
    KnowledgeNote,
    MetricQuery,
    MetricsEvidence,
    PastIncident,
    RelatedAlert,
)
from core.debate.orchestrator import Debate
from core.replay.evaluation import embedded_router

#: debates run first and not counted (imports, caches, the knowledge base's first match)
WARMUP = 20

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


class MemoryTurnLog:
    def __init__(self) -> None:
        self.turns: list[AgentTurn] = []

    async def append(self, *turns: AgentTurn) -> None:
        self.turns.extend(turns)

    async def for_run(self, run_id: Any) -> list[AgentTurn]:
        return [t for t in self.turns if t.run_id == run_id]


class FixedClock:
    def now(self) -> datetime:
        return NOW


#: (alertname, summary, labels) of the incidents the embedded engine is asked about
INCIDENTS = (
    ("KubePodCrashLooping", "api pods restart in a loop", {"deployment": "api", "pod": "api-7d9"}),
    ("KubeDeploymentReplicasMismatch", "checkout has 1 of 3 replicas", {"deployment": "checkout"}),
    ("HighLatencyP99", "p99 latency of api above 2 s for 10 minutes", {"service": "api"}),
    ("NodeFilesystemAlmostFull", "/var on node-3 is 95% full", {"instance": "node-3:9100"}),
)


def realistic_snapshot(index: int) -> EvidenceSnapshot:
    """An incident as the evidence builder makes it: alerts, neighbours, history, notes, metrics."""
    name, summary, extra = INCIDENTS[index % len(INCIDENTS)]
    labels = {"alertname": name, "namespace": "prod", "severity": "critical", **extra}
    alerts = tuple(
        AlertEvidence(
            name=name, status="firing", severity="critical", labels={**labels, "replica": str(i)},
            annotations={"summary": summary, "runbook_url": "https://runbooks.example/x"},
            starts_at=NOW - timedelta(minutes=5 + i), generator_url="http://127.0.0.1:9090/graph",
        )
        for i in range(3)
    )  # fmt: skip
    related = tuple(
        RelatedAlert(
            incident_id=100 + i, name=f"Neighbour{i}", severity="warning", status="firing",
            labels={"alertname": f"Neighbour{i}", "namespace": "prod"},
            starts_at=NOW - timedelta(minutes=i),
        )
        for i in range(3)
    )  # fmt: skip
    history = (
        PastIncident(
            incident_id=42, title=name, status="resolved", created_at=NOW - timedelta(days=3),
            resolved_at=NOW - timedelta(days=3, minutes=-20), resolved_by="alice",
            decision_summary="restarted the deployment after approval",
            recommended_tool="restart_deployment",
        ),
    )  # fmt: skip
    knowledge = (
        KnowledgeNote(
            kind="runbook",
            title=f"{name} runbook",
            body="Check recent rollouts first; a restart helps only a stuck process.",
        ),
    )
    metrics = MetricsEvidence(
        status="ok",
        queries=(
            MetricQuery(name="restarts", expr="increase(kube_pod_container_status_restarts_total"
                        '{namespace="prod"}[15m])', status="ok",
                        summary="3 series; latest 7 (min 0, max 7) over 1h"),
            MetricQuery(name="cpu", expr='rate(container_cpu_usage_seconds_total{namespace="prod"}'
                        "[5m])", status="ok", summary="3 series; latest 0.93 over 1h"),
        ),
    )  # fmt: skip
    return EvidenceSnapshot(
        incident_id=index + 1, title=name, severity="critical", status="open", labels=labels,
        alerts=alerts, related=related, history=history, knowledge=knowledge, metrics=metrics,
        taken_at=NOW,
    )  # fmt: skip


async def embedded_debates(count: int) -> tuple[list[float], dict[str, int]]:
    """Milliseconds per full debate with only the embedded engine, and the packages' statuses."""
    tools = ActionRegistry.from_config(tomllib.loads(ACTIONS)).tools()
    router = embedded_router()
    clock = FixedClock()
    debate = Debate(Agents(router, tools, clock), MemoryTurnLog(), tools, clock, ceiling_s=260)
    snapshots = [realistic_snapshot(i) for i in range(len(INCIDENTS))]
    times: list[float] = []
    statuses: dict[str, int] = {}
    try:
        for i in range(WARMUP + count):
            snapshot = snapshots[i % len(snapshots)]
            started = time.perf_counter()
            package = await debate.run(uuid4(), snapshot)
            took = (time.perf_counter() - started) * 1000
            if i < WARMUP:
                continue
            times.append(took)
            statuses[package.status.value] = statuses.get(package.status.value, 0) + 1
    finally:
        await router.aclose()
    if statuses.get(DebateStatus.FAILED.value) or statuses.get(DebateStatus.TIMEOUT.value):
        raise RuntimeError(f"embedded debates did not all conclude: {statuses}")
    return times, statuses
