"""The debate pipeline's time, through the real `howl run` and in-process (issue 10).

In one run, against a fake OpenAI-compatible model that answers every role
validly after a fixed latency L (and limits nothing itself):
- alert to decision card: POST /alerts until the decision card is in the
  emulated on-call group, over the critical path 4·L (diagnose, solve,
  review ‖ critique, coordinate); alerts one after another, median and worst,
  each split into its parts (before the first model call, the model's
  4·L and its gaps, after the last answer) so a fixed cost shows where it is;
- a storm: 50 new incidents in one post, the provider at concurrency 8:
  throughput as a ratio of the ideal, which is every call's L packed into 8
  slots (50 · 5 · L / 8), and the concurrency the fake model saw;
- the embedded engine alone (the default install, no model): a full debate's
  latency in-process over an in-memory turn log, p50 and p99.

Targets: median card <= 1.10 × 4·L; storm >= 0.9 of ideal; embedded p99 < 50 ms.
A missed target is a figure, not a failure: only a broken run raises.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from bench.howl_proc import howl_process
from bench.table import Row
from bot.playground.botapi import BotApiEmulator
from bot.playground.server import create_emulator_app
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
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import serve_asgi

TOKEN = "424310:debate-bench-token-local-only-000000"
CHAT = -1004310
#: the fake model's latency per call
LATENCY_S = 0.2
#: the debate's critical path: diagnose, solve, review ‖ critique, coordinate
CRITICAL_PATH_S = 4 * LATENCY_S
CARD_SAMPLES = 5
STORM = 50
CONCURRENCY = 8
CALLS_PER_DEBATE = 5
EMBEDDED_DEBATES = 200
EMBEDDED_WARMUP = 20
#: how long to wait for one card, or for the storm, before calling the run broken
PATIENCE_S = 120.0
DECISION = "⚖️ Decision"

ACTIONS = """
[[actions]]
name = "restart_deployment"
description = "Rolling restart of a deployment"
command = ["/bin/echo", "rollout", "restart", "deployment/{name}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
timeout_s = 10

[[actions]]
name = "rollback_deployment"
description = "Roll a deployment back to its previous revision"
command = ["/bin/echo", "rollout", "undo", "deployment/{name}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
timeout_s = 10

[[actions]]
name = "scale_deployment"
description = "Set a deployment's replica count"
command = ["/bin/echo", "scale", "deployment/{name}", "--replicas={replicas}", "-n", "{namespace}"]
params = { name = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$", replicas = "^[0-9]{1,2}$" }
timeout_s = 10

[[actions]]
name = "describe_pod"
description = "Read-only: kubectl describe of a pod"
command = ["/bin/echo", "describe", "pod", "{pod}", "-n", "{namespace}"]
params = { pod = "^[a-z0-9-]{1,63}$", namespace = "^[a-z0-9-]{1,63}$" }
destructive = false
timeout_s = 10
"""


def provider_config(model_url: str) -> str:
    """The fake model as a named provider: the one way to give a provider concurrency 8.

    HOWL_LLM_BASE_URL's provider keeps the defaults (concurrency 4, 60 rpm) with no
    setting to change them, so the bench routes every debate task to `[llm.providers.fake]`.
    """
    routes = "".join(
        f'\n[llm.routes.{task}]\nproviders = ["fake"]\n'
        for task in ("diagnose", "solve", "review", "critique", "coordinate")
    )
    return f"""
[llm.providers.fake]
base_url = "{model_url}"
model = "fake-model"
local = true
concurrency = {CONCURRENCY}
rpm = 100000
timeout_s = 60
{routes}"""


CALL = {"tool": "restart_deployment", "arguments": {"name": "api", "namespace": "prod"}}
#: each role's valid answer, found by "You are the <Role>" at the start of its system prompt
ANSWERS: dict[str, dict[str, Any]] = {
    "Diagnostician": {
        "summary": "api workers hang on a stuck consumer",
        "hypotheses": [{"cause": "a consumer deadlocked", "confidence": 0.7, "evidence": ["q"]}],
    },
    "Solver": {"action": CALL, "rationale": "a restart frees the consumer", "risk_level": "low"},
    "Reviewer": {"verdict": "approve", "concerns": ["drops in-flight jobs"], "risk_level": "medium"},
    "Critic": {"objections": ["a bad release fits too"], "worst_case": "jobs lost",
               "risk_level": "medium"},
    "Coordinator": {
        "recommended_action": CALL, "risk_level": "medium", "requires_human_approval": True,
        "confidence": 0.7, "diagnosis": "a consumer deadlocked",
        "summary": "restart the api deployment after approval",
        "why_human": "a restart drops in-flight jobs",
    },
}  # fmt: skip


@dataclass
class Model:
    """The fake model's script, with when each role was asked (the bench's own clock)."""

    fake: FakeOpenAI = field(default_factory=FakeOpenAI)
    asked: list[tuple[float, str]] = field(default_factory=list)
    replies: dict[str, Behaviour] = field(
        default_factory=lambda: {
            role: Behaviour.json(answer, delay_s=LATENCY_S) for role, answer in ANSWERS.items()
        }
    )

    def __post_init__(self) -> None:
        self.fake.script = self.by_role

    def by_role(self, body: dict[str, Any]) -> Behaviour | None:
        system = str(body["messages"][0]["content"])
        for role, behaviour in self.replies.items():
            if system.startswith(f"You are the {role}"):
                self.asked.append((time.monotonic(), role))
                return behaviour
        raise RuntimeError(f"the bench's fake model has no answer for: {system[:60]!r}")

    def count(self, role: str) -> int:
        return sum(1 for _, r in self.asked if r == role)


def alert(name: str) -> dict[str, Any]:
    return {
        "title": name,
        "severity": "critical",
        "labels": {"alertname": name, "deployment": "api", "namespace": "prod"},
        "annotations": {"summary": "api workers stopped taking jobs"},
        "source": "bench",
    }


def storm_webhook(count: int) -> dict[str, Any]:
    """One Alertmanager post of `count` alerts, each its own incident (distinct alertname)."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": f"DebateStorm{i}", "namespace": "prod", "deployment": "api",
                       "severity": "warning"},
            "annotations": {"summary": "api workers stopped taking jobs"},
            "startsAt": "2026-12-03T06:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://127.0.0.1:9090/graph", "fingerprint": f"storm-{i}",
        }
        for i in range(count)
    ]  # fmt: skip
    return {
        "version": "4", "groupKey": "bench", "truncatedAlerts": 0, "status": "firing",
        "receiver": "howl", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093", "alerts": alerts,
    }  # fmt: skip


@dataclass(frozen=True)
class CardSample:
    """One alert's way to its decision card, in seconds from the post."""

    total_s: float
    first_call_s: float
    last_answer_s: float
    incident_card_s: float

    @property
    def model_s(self) -> float:
        """From the first model call to the last answer: 4·L plus Howl's gaps between calls."""
        return self.last_answer_s - self.first_call_s

    @property
    def after_s(self) -> float:
        """From the last answer to the card in the chat: store, announce, deliver."""
        return self.total_s - self.last_answer_s


def decision_postings(emulator: BotApiEmulator) -> list[float]:
    return [
        p.at
        for p in emulator.postings
        if p.chat_id == CHAT and p.method == "sendMessage" and p.text.startswith(DECISION)
    ]


def posted_at(emulator: BotApiEmulator, name: str) -> float | None:
    """When the incident card naming `name` was first sent."""
    for p in emulator.postings:
        if p.method == "sendMessage" and name in p.text and not p.text.startswith(DECISION):
            return p.at
    return None


async def until(emulator: BotApiEmulator, done: Any, what: str) -> None:
    """Wake on every change in the emulated chat until `done()` holds."""
    deadline = time.monotonic() + PATIENCE_S
    version = emulator.version
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {PATIENCE_S:g} s")
        version = await emulator.wait_changed(version, 0.5)


async def card_sample(
    http: httpx.AsyncClient, emulator: BotApiEmulator, model: Model, index: int
) -> CardSample:
    name = f"DebateBench{index}"
    cards_before = len(decision_postings(emulator))
    asked_before = len(model.asked)
    started = time.monotonic()
    answer = await http.post("/alerts", json=alert(name))
    answer.raise_for_status()
    await until(emulator, lambda: len(decision_postings(emulator)) > cards_before, "decision card")
    card_at = decision_postings(emulator)[cards_before]
    asked = model.asked[asked_before:]
    if len(asked) != CALLS_PER_DEBATE:
        raise RuntimeError(f"expected {CALLS_PER_DEBATE} model calls, saw {len(asked)}")
    incident_at = posted_at(emulator, name)
    return CardSample(
        total_s=card_at - started,
        first_call_s=asked[0][0] - started,
        last_answer_s=asked[-1][0] + LATENCY_S - started,
        incident_card_s=(incident_at - started) if incident_at is not None else math.inf,
    )


@dataclass(frozen=True)
class Storm:
    elapsed_s: float
    ideal_s: float
    max_concurrent: int
    decided: int
    statuses: dict[str, int]

    @property
    def ratio(self) -> float:
        return self.ideal_s / self.elapsed_s


async def storm(http: httpx.AsyncClient, model: Model) -> Storm:
    """50 incidents in one post; seconds until all 50 decision packages exist."""
    model.fake.max_concurrent = 0
    coordinated_before = model.count("Coordinator")
    body = storm_webhook(STORM)
    started = time.monotonic()
    answer = await http.post("/alerts/alertmanager", json=body)
    answer.raise_for_status()
    incidents = list(answer.json()["incidents"])
    if len(set(incidents)) != STORM:
        raise RuntimeError(f"expected {STORM} incidents, intake made {len(set(incidents))}")
    deadline = started + PATIENCE_S
    # watch the fake model (in this process, free) until every Coordinator was asked, so
    # polling the API cannot take Howl's CPU while the debates run
    while model.count("Coordinator") - coordinated_before < STORM:
        if time.monotonic() > deadline:
            raise RuntimeError("the storm's debates did not all reach the Coordinator")
        await asyncio.sleep(0.01)
    pending, packages = set(incidents), {}
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} storm incidents have no decision package")
        for incident_id in sorted(pending):
            got = (await http.get(f"/api/incidents/{incident_id}")).json()
            if got["decision"] is not None:
                packages[incident_id] = got["decision"]
        pending -= set(packages)
    elapsed = time.monotonic() - started
    statuses: dict[str, int] = {}
    for package in packages.values():
        statuses[package["status"]] = statuses.get(package["status"], 0) + 1
    return Storm(
        elapsed_s=elapsed,
        ideal_s=STORM * CALLS_PER_DEBATE * LATENCY_S / CONCURRENCY,
        max_concurrent=model.fake.max_concurrent,
        decided=len(packages),
        statuses=statuses,
    )


@asynccontextmanager
async def emulated_telegram() -> AsyncIterator[tuple[BotApiEmulator, str]]:
    emulator = BotApiEmulator(token=TOKEN, enforce_limits=True)
    emulator.add_chat(CHAT, title="On-call")
    async with serve_asgi(create_emulator_app(emulator)) as base:
        yield emulator, base
        await emulator.close()  # wakes any long poll left open, before the server stops


async def through_howl(workdir: Path) -> tuple[list[CardSample], Storm]:
    model = Model()
    async with (
        serve_asgi(model.fake.app()) as model_url,
        emulated_telegram() as (emulator, tg),
    ):
        config = workdir / "howl.toml"
        config.write_text(ACTIONS + provider_config(f"{model_url}/v1"))
        settings = {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{tg}/bot",
            "HOWL_ALERT_CHAT_ID": str(CHAT),
            "HOWL_CONFIG": str(config),
        }
        async with (
            howl_process(workdir, **settings) as howl,
            httpx.AsyncClient(base_url=howl.url, timeout=30) as http,
        ):
            samples = []
            for index in range(CARD_SAMPLES):
                samples.append(await card_sample(http, emulator, model, index))
                s = samples[-1]
                print(
                    f"  card {index}: {s.total_s:.3f} s = first call {s.first_call_s:.3f} + "
                    f"model {s.model_s:.3f} + after {s.after_s:.3f} "
                    f"(incident card at {s.incident_card_s:.3f})",
                    file=sys.stderr,
                    flush=True,
                )
            crowd = await storm(http, model)
            print(
                f"  storm: {crowd.elapsed_s:.2f} s for {STORM} (ideal {crowd.ideal_s:.2f} s), "
                f"max concurrent {crowd.max_concurrent}, {crowd.statuses}",
                file=sys.stderr,
                flush=True,
            )
    return samples, crowd


# --- the embedded engine in-process --------------------------------------------------

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


class MemoryTurnLog:
    def __init__(self) -> None:
        self.turns: list[AgentTurn] = []

    async def append(self, turn: AgentTurn) -> None:
        self.turns.append(turn)

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
        for i in range(EMBEDDED_WARMUP + count):
            snapshot = snapshots[i % len(snapshots)]
            started = time.perf_counter()
            package = await debate.run(uuid4(), snapshot)
            took = (time.perf_counter() - started) * 1000
            if i < EMBEDDED_WARMUP:
                continue
            times.append(took)
            statuses[package.status.value] = statuses.get(package.status.value, 0) + 1
    finally:
        await router.aclose()
    if statuses.get(DebateStatus.FAILED.value) or statuses.get(DebateStatus.TIMEOUT.value):
        raise RuntimeError(f"embedded debates did not all conclude: {statuses}")
    return times, statuses


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def rows_of(samples: list[CardSample], crowd: Storm, embedded: list[float]) -> list[Row]:
    bench = "debate"
    totals = [s.total_s for s in samples]
    median, worst = statistics.median(totals), max(totals)
    ratio = median / CRITICAL_PATH_S
    first = statistics.median(s.first_call_s for s in samples)
    gaps = statistics.median(s.model_s - CRITICAL_PATH_S for s in samples)
    after = statistics.median(s.after_s for s in samples)
    p50, p99 = quantile(embedded, 50), quantile(embedded, 99)
    ms = 1000
    return [
        Row(bench, f"alert to decision card, median of {len(samples)} (L = {LATENCY_S:g} s)",
            median, "s", CRITICAL_PATH_S, "4·L", "<= 1.10 x 4·L", ratio <= 1.10),
        Row(bench, "  worst of them", worst, "s", CRITICAL_PATH_S, "4·L", "-"),
        Row(bench, "  post to the first model call (median)", first * ms, "ms", target="-"),
        Row(bench, "  gaps between model calls beyond 4·L (median)", gaps * ms, "ms",
            target="-"),
        Row(bench, "  last answer to the card in the chat (median)", after * ms, "ms",
            target="-"),
        Row(bench, f"{STORM} incidents at once, concurrency {CONCURRENCY}: all decided", 
            crowd.elapsed_s, "s", crowd.ideal_s, "ideal 50·5·L/8", "-"),
        Row(bench, "  throughput against the ideal", crowd.ratio, "x", target=">= 0.9",
            met=crowd.ratio >= 0.9),
        Row(bench, "  fake model's most calls at once (limit 8)", crowd.max_concurrent, "",
            target=f"== {CONCURRENCY}", met=crowd.max_concurrent == CONCURRENCY),
        Row(bench, f"embedded engine, full debate p50 ({len(embedded)} debates)", p50, "ms",
            target="-"),
        Row(bench, "embedded engine, full debate p99", p99, "ms", target="< 50 ms",
            met=p99 < 50),
    ]  # fmt: skip


async def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        samples, crowd = await through_howl(Path(tmp))
    if crowd.decided != STORM:
        raise RuntimeError(f"only {crowd.decided} of {STORM} storm incidents were decided")
    embedded, statuses = await embedded_debates(EMBEDDED_DEBATES)
    print(f"  embedded: {statuses}", file=sys.stderr, flush=True)
    return rows_of(samples, crowd, embedded)
