"""The evidence snapshot: redacted everywhere, bounded, and never failed by a failing source."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.debate.evidence import (
    EvidenceBuilder,
    EvidenceLimits,
    NoKnowledge,
    alert_expression,
    metric_queries,
    up_of_job,
)
from core.debate.models import KnowledgeNote, MetricQuery, PastIncident, RelatedAlert
from core.redact import REDACTED, Redactor
from tests.unit.debate.evidence_fakes import (
    HANG,
    T0,
    FakeHistory,
    FakeKnowledge,
    FakeMetrics,
    FixedClock,
    make_alert,
    make_view,
)

GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
KNOWN_SECRET = "howl-llm-key-5f1e0c"


def builder(
    history: FakeHistory,
    *,
    knowledge: Any = None,
    metrics: FakeMetrics | None = None,
    redactor: Redactor | None = None,
    **options: Any,
) -> EvidenceBuilder:
    return EvidenceBuilder(
        history,
        knowledge if knowledge is not None else FakeKnowledge(),
        metrics,
        FixedClock(),
        redactor or Redactor([KNOWN_SECRET]),
        **options,
    )


def past(n: int) -> PastIncident:
    return PastIncident(
        incident_id=n, title="CheckoutDown", status="resolved", created_at=T0 - timedelta(days=n)
    )


def related(n: int) -> RelatedAlert:
    return RelatedAlert(
        incident_id=100 + n,
        name="DbDown",
        severity="critical",
        status="firing",
        starts_at=T0 - timedelta(minutes=n),
    )


# --- the snapshot --------------------------------------------------------------------------


async def test_a_snapshot_holds_every_source() -> None:
    alert = make_alert()
    note = KnowledgeNote(kind="runbook", title="Restart checkout", body="kubectl rollout restart")
    history = FakeHistory(views={7: make_view(alert)}, related=[related(1)], similar=[past(1)])
    metrics = FakeMetrics()
    snapshot = await builder(history, knowledge=FakeKnowledge([note]), metrics=metrics).build(7)

    assert (snapshot.incident_id, snapshot.title, snapshot.severity) == (
        7,
        "CheckoutDown",
        "critical",
    )
    assert snapshot.taken_at == FixedClock().at
    [seen] = snapshot.alerts
    assert seen.labels == alert.labels and seen.annotations == {"summary": "CheckoutDown on api-1"}
    assert [r.incident_id for r in snapshot.related] == [101]
    assert [p.incident_id for p in snapshot.history] == [1]
    assert snapshot.knowledge == (note,)
    assert snapshot.metrics.status == "ok" and len(snapshot.metrics.queries) == 2
    assert snapshot.gaps == ()
    # related alerts are asked around the incident's start
    [(_, asked)] = [c for c in history.calls if c[0] == "related_alerts"]
    assert (asked["since"], asked["until"]) == (
        T0 - timedelta(minutes=30),
        T0 + timedelta(minutes=30),
    )


async def test_an_unknown_incident_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        await builder(FakeHistory()).build(404)


async def test_secrets_are_redacted_in_every_field() -> None:
    alert = make_alert(
        labels={
            "alertname": "CheckoutDown",
            "job": "checkout",
            "note": f"pushed with {GITHUB_TOKEN}",
            "api_token": "plain-looking-value-42",  # secret-named: the whole value goes
        },
        annotations={
            "summary": "Checkout failing: Authorization: Bearer eyJhbGciOi.payload.sig",
            "description": f"owner oncall@example.com; key {KNOWN_SECRET}",
        },
        generator_url="http://howl:prom-pass-99@prometheus:9090/graph?g0.expr=up+%3D%3D+0",
    )
    view = make_view(alert, title=f"CheckoutDown for oncall@example.com {KNOWN_SECRET}")
    history = FakeHistory(
        views={7: view},
        related=[related(1).model_copy(update={"labels": {"password": "hunter2-hunter2"}})],
        similar=[past(1).model_copy(update={"resolved_by": "ann@example.com"})],
        failures={
            "similar_incidents": RuntimeError(
                f"db at postgresql://u:dbpass-77@h/x ({KNOWN_SECRET})"
            )
        },
    )
    note = KnowledgeNote(
        kind="anti_pattern", title="Do not", body=f"curl -H 'token: {GITHUB_TOKEN}'"
    )
    metrics = FakeMetrics(
        answers={
            "up == 0": MetricQuery(
                name="n", expr="up == 0", status="ok", summary=f"1 series; by token={KNOWN_SECRET}"
            )
        }
    )
    snapshot = await builder(history, knowledge=FakeKnowledge([note]), metrics=metrics).build(7)

    dumped = snapshot.model_dump_json()
    for secret in (GITHUB_TOKEN, KNOWN_SECRET, "plain-looking-value-42", "eyJhbGciOi.payload.sig",
                   "oncall@example.com", "prom-pass-99", "hunter2-hunter2", "ann@example.com",
                   "dbpass-77"):  # fmt: skip
        assert secret not in dumped, secret
    [seen] = snapshot.alerts
    assert seen.labels["api_token"] == REDACTED
    assert seen.labels["note"] == f"pushed with {REDACTED}"
    assert seen.generator_url == f"http://howl:{REDACTED}@prometheus:9090/graph?g0.expr=up+%3D%3D+0"
    assert snapshot.related[0].labels == {"password": REDACTED}
    assert any("could not be read" in gap and REDACTED in gap for gap in snapshot.gaps)
    # Prometheus was still asked the real expression: redaction is of the snapshot only
    assert [c["expr"] for c in metrics.calls] == ["up == 0", 'up{job="checkout"}']


# --- failing sources -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure", [RuntimeError("database is locked"), HANG], ids=["raises", "hangs"]
)
@pytest.mark.parametrize(
    ("method", "gap"),
    [
        ("related_alerts", "related alerts could not be read"),
        ("similar_incidents", "past incidents could not be read"),
    ],
)
async def test_a_failing_history_source_is_a_gap(failure: Any, method: str, gap: str) -> None:
    history = FakeHistory(
        views={7: make_view(make_alert())},
        related=[related(1)],
        similar=[past(1)],
        failures={method: failure},
    )
    snapshot = await builder(history, source_timeout_s=0.05).build(7)
    [line] = snapshot.gaps
    assert line.startswith(gap)
    assert (
        "no answer within 0.05s" if failure is HANG else "RuntimeError: database is locked"
    ) in line
    assert (snapshot.related == ()) == (method == "related_alerts")
    assert (snapshot.history == ()) == (method == "similar_incidents")


@pytest.mark.parametrize("failure", [OSError("knowledge file gone"), HANG], ids=["raises", "hangs"])
async def test_a_failing_knowledge_source_is_a_gap(failure: Any) -> None:
    history = FakeHistory(views={7: make_view(make_alert())})
    knowledge = FakeKnowledge(failure=failure)
    snapshot = await builder(history, knowledge=knowledge, source_timeout_s=0.05).build(7)
    assert snapshot.knowledge == ()
    [line] = snapshot.gaps
    assert line.startswith("runbooks and anti-patterns could not be read")


async def test_an_unreadable_incident_is_a_snapshot_that_says_so() -> None:
    history = FakeHistory(failures={"get": ConnectionError("database unreachable")})
    snapshot = await builder(history, metrics=FakeMetrics()).build(7)
    assert (snapshot.incident_id, snapshot.title, snapshot.status) == (7, "incident #7", "unknown")
    assert snapshot.gaps == (
        "the incident could not be read: ConnectionError: database unreachable",
    )
    assert snapshot.metrics.status == "unavailable"


@pytest.mark.parametrize(
    "failure", [RuntimeError("contract broken"), HANG], ids=["raises", "hangs"]
)
async def test_metrics_failing_everywhere_is_unavailable_and_a_gap(failure: Any) -> None:
    history = FakeHistory(views={7: make_view(make_alert())})
    metrics = FakeMetrics(failure=failure)
    snapshot = await builder(history, metrics=metrics, metrics_timeout_s=0.05).build(7)
    assert snapshot.metrics.status == "unavailable"
    assert {q.status for q in snapshot.metrics.queries} == {
        "timeout" if failure is HANG else "error"
    }
    assert snapshot.metrics.detail.startswith("unavailable, no query answered")
    [line] = snapshot.gaps
    assert line.startswith("Prometheus: unavailable")


async def test_metrics_failing_for_one_query_is_partial() -> None:
    history = FakeHistory(views={7: make_view(make_alert())})
    down = MetricQuery(
        name="up", expr='up{job="checkout"}', status="timeout", error="no answer within 3s"
    )
    metrics = FakeMetrics(answers={'up{job="checkout"}': down})
    snapshot = await builder(history, metrics=metrics).build(7)
    assert snapshot.metrics.status == "partial"
    assert snapshot.metrics.detail == "1 of 2 queries failed: no answer within 3s"
    assert snapshot.gaps == ("Prometheus: 1 of 2 queries failed: no answer within 3s",)


async def test_an_empty_answer_is_an_answer() -> None:
    history = FakeHistory(views={7: make_view(make_alert(job=None))})
    empty = MetricQuery(name="e", expr="rate(http_errors_total[5m]) > 0.5", status="empty")
    metrics = FakeMetrics(answers={empty.expr: empty})
    snapshot = await builder(history, metrics=metrics).build(7)
    assert snapshot.metrics.status == "ok" and snapshot.gaps == ()


# --- metrics: which queries --------------------------------------------------------------


async def test_no_metrics_source_is_not_configured() -> None:
    snapshot = await builder(FakeHistory(views={7: make_view(make_alert())})).build(7)
    assert snapshot.metrics.status == "not_configured" and snapshot.metrics.queries == ()
    assert snapshot.gaps == ()


async def test_the_alert_expression_and_its_job_are_asked_over_the_last_hour() -> None:
    history = FakeHistory(views={7: make_view(make_alert())})
    metrics = FakeMetrics()
    snapshot = await builder(history, metrics=metrics).build(7)
    now = FixedClock().at
    assert [(c["expr"], c["start"], c["end"]) for c in metrics.calls] == [
        ("rate(http_errors_total[5m]) > 0.5", now - timedelta(hours=1), now),
        ('up{job="checkout"}', now - timedelta(hours=1), now),
    ]
    assert [q.name for q in snapshot.metrics.queries] == [
        "CheckoutDown: the alert's expression",
        "up of job checkout",
    ]
    assert all(c["step"] >= 15 for c in metrics.calls)


async def test_nothing_to_ask_says_so() -> None:
    history = FakeHistory(views={7: make_view(make_alert(job=None, expr=None))})
    metrics = FakeMetrics()
    snapshot = await builder(history, metrics=metrics).build(7)
    assert metrics.calls == [] and snapshot.metrics.queries == ()
    assert snapshot.metrics.detail.startswith("nothing to ask")


def test_generator_url_expressions() -> None:
    url = (
        "http://prom:9090/graph?g0.expr=sum+by+%28job%29+%28up%29+%3C+1&g0.tab=1&g0.range_input=1h"
    )
    assert alert_expression(url) == "sum by (job) (up) < 1"
    assert alert_expression("http://prom:9090/graph?g0.tab=1") is None
    assert alert_expression("http://prom:9090/graph?g0.expr=") is None
    assert alert_expression(None) is None
    assert alert_expression("http://[::1") is None  # not even a URL
    assert alert_expression("http://p/graph?g0.expr=" + "a" * 3000) is None
    assert up_of_job("node") == 'up{job="node"}'
    assert up_of_job('a"b\\c') == 'up{job="a\\"b\\\\c"}'


def test_each_query_is_asked_once_in_alert_order() -> None:
    alerts = [
        make_alert(pod="api-1"),
        make_alert(pod="api-2"),  # same expression, same job
        make_alert("DbDown", pod="db-1", job="postgres", expr="pg_up == 0"),
    ]
    assert metric_queries(alerts) == [
        ("CheckoutDown: the alert's expression", "rate(http_errors_total[5m]) > 0.5"),
        ("up of job checkout", 'up{job="checkout"}'),
        ("DbDown: the alert's expression", "pg_up == 0"),
        ("up of job postgres", 'up{job="postgres"}'),
    ]


async def test_queries_are_capped() -> None:
    alerts = [make_alert(pod=f"api-{n}", job=f"job-{n}", expr=f"m{n} > 1") for n in range(5)]
    metrics = FakeMetrics()
    snapshot = await builder(FakeHistory(views={7: make_view(*alerts)}), metrics=metrics).build(7)
    assert len(metrics.calls) == 4
    assert snapshot.metrics.detail == "4 queries answered; 6 more queries not asked"


# --- bounds ------------------------------------------------------------------------------


async def test_a_snapshot_is_bounded_whatever_the_sources_hold() -> None:
    huge = "x" * 50_000
    labels = {f"label_{n}": huge for n in range(100)}
    alerts = [
        make_alert(pod=f"api-{n}", labels={**labels, "alertname": "CheckoutDown"},
                   annotations={f"a{n}": huge for n in range(40)},
                   generator_url="http://p/graph?g0.expr=" + "y" * 1500)
        for n in range(40)
    ]  # fmt: skip
    view = make_view(*alerts, title="CheckoutDown", labels=labels)
    history = FakeHistory(
        views={7: view},
        related=[related(n).model_copy(update={"labels": labels}) for n in range(50)],
        similar=[past(n).model_copy(update={"title": huge}) for n in range(1, 50)],
    )
    notes = [KnowledgeNote(kind="runbook", title=huge, body=huge) for _ in range(9)]
    notes.append(
        KnowledgeNote(kind="anti_pattern", title="never restart", body=huge, tool="restart")
    )
    limits = EvidenceLimits()
    snapshot = await builder(history, knowledge=FakeKnowledge(notes), metrics=FakeMetrics()).build(
        7
    )

    assert len(snapshot.alerts) == limits.alerts
    assert len(snapshot.related) == limits.related
    assert len(snapshot.history) == limits.history
    assert len(snapshot.knowledge) == limits.knowledge
    assert snapshot.knowledge[0].kind == "anti_pattern", "a blocked tool is never the one left out"
    assert len(snapshot.metrics.queries) <= limits.queries
    assert all(len(a.labels) <= limits.labels for a in snapshot.alerts)
    assert all(len(a.annotations) <= limits.annotations for a in snapshot.alerts)
    assert len(snapshot.labels) <= limits.labels
    assert all(len(v) <= limits.text_chars for a in snapshot.alerts for v in a.labels.values())
    assert all(len(v) <= limits.long_chars for a in snapshot.alerts for v in a.annotations.values())
    assert all(len(n.body) <= limits.body_chars for n in snapshot.knowledge)
    assert all(len(p.title) <= limits.text_chars for p in snapshot.history)
    assert snapshot.knowledge[1].title.endswith("…")
    assert len(snapshot.model_dump_json()) < 70_000
    assert all(len(r.labels) <= limits.related_labels for r in snapshot.related)
    assert snapshot.gaps == (
        f"40 alerts in the incident, {limits.alerts} shown (firing first)",
        "more than 10 alerts of other incidents fired within 30m; newest shown",
        "more than 5 earlier incidents like this one; the 5 latest shown",
        "10 runbooks and anti-patterns match; 5 shown",
    )


async def test_the_incident_itself_is_never_its_own_neighbour() -> None:
    history = FakeHistory(
        views={7: make_view(make_alert())},
        related=[related(1).model_copy(update={"incident_id": 7}), related(2)],
        similar=[past(7), past(3)],
    )
    snapshot = await builder(history).build(7)
    assert [r.incident_id for r in snapshot.related] == [102]
    assert [p.incident_id for p in snapshot.history] == [3]


async def test_no_knowledge_knows_nothing() -> None:
    assert await NoKnowledge().for_symptoms({"alertname": "X"}, "X") == []


# --- many snapshots at once -------------------------------------------------------------


class SlowHistory(FakeHistory):
    """Each read takes a few turns of the event loop, as a database's does."""

    async def get(self, incident_id: int) -> Any:
        await asyncio.sleep(0)
        return await super().get(incident_id)

    async def related_alerts(self, incident: Any, **window: Any) -> list[RelatedAlert]:
        await asyncio.sleep(0)
        return await super().related_alerts(incident, **window)

    async def similar_incidents(self, incident: Any, *, limit: int) -> list[PastIncident]:
        await asyncio.sleep(0)
        found = await super().similar_incidents(incident, limit=limit)
        self.calls.append(("read", {"incident_id": incident.id}))
        return found


class HeldMetrics(FakeMetrics):
    """Prometheus answers only once `answer` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = asyncio.Event()

    async def query_range(self, name: str, expr: str, **window: Any) -> MetricQuery:
        await self.answer.wait()
        return await super().query_range(name, expr, **window)


async def test_snapshots_read_the_database_in_turn_with_prometheus_asked_beside() -> None:
    """In a storm the first debates get their evidence first, not every one at the end."""
    views = {n: make_view(make_alert(), incident_id=n) for n in (1, 2, 3)}
    history, metrics = SlowHistory(views=views), HeldMetrics()
    evidence = builder(history, metrics=metrics)
    builds = [asyncio.create_task(evidence.build(n)) for n in (1, 2, 3)]
    async with asyncio.timeout(5):  # every database read done while Prometheus is still asked
        while sum(name == "read" for name, _ in history.calls) < 3:
            await asyncio.sleep(0)
    reads = [(name, args.get("incident_id")) for name, args in history.calls]
    assert [r for r in reads if r[1] is not None] == [
        ("get", 1), ("read", 1), ("get", 2), ("read", 2), ("get", 3), ("read", 3)
    ]  # fmt: skip
    assert not any(build.done() for build in builds)
    metrics.answer.set()
    snapshots = await asyncio.gather(*builds)
    assert [s.incident_id for s in snapshots] == [1, 2, 3]
    assert {s.metrics.status for s in snapshots} == {"ok"}
