"""Prometheus evidence against the real `prometheus` binary on loopback, up, down and slow."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from core.debate.evidence import EvidenceBuilder, NoKnowledge
from core.debate.prometheus import PrometheusMetrics
from core.ports import SystemClock
from core.redact import Redactor
from tests.e2e.prometheus import JOB, Prometheus, running_prometheus, serving_exporter
from tests.servers.telegram import wait_for
from tests.unit.debate.evidence_fakes import FakeHistory, make_alert, make_view

pytestmark = pytest.mark.e2e

GAUGE = "howl_test_gauge"
UP = f'up{{job="{JOB}"}}'


@pytest.fixture
async def prometheus() -> AsyncIterator[Prometheus]:
    with serving_exporter({"a": 0.93, "b": 0.12}) as exporter:
        async with running_prometheus(exporter.address) as prometheus:
            await prometheus.wait_for_samples(GAUGE)
            await prometheus.wait_for_samples(UP)
            yield prometheus


def stopped(pid: int) -> bool:
    """Every thread of the process is stopped (state T in /proc)."""
    threads = Path(f"/proc/{pid}/task").iterdir()
    return all((t / "stat").read_text().rsplit(")", 1)[1].split()[0] == "T" for t in threads)


def evidence(metrics: PrometheusMetrics, prometheus_url: str) -> EvidenceBuilder:
    """A builder over one alert whose generator URL is that Prometheus's graph of the gauge."""
    url = f"{prometheus_url}/graph?g0.expr={quote_plus(f'{GAUGE} > 0.1')}&g0.tab=1"
    view = make_view(make_alert(job=JOB, expr=None, generator_url=url))
    return EvidenceBuilder(
        FakeHistory(views={7: view}), NoKnowledge(), metrics, SystemClock(), Redactor()
    )


async def test_prometheus_answers_a_range_query_with_a_summary(prometheus: Prometheus) -> None:
    metrics = PrometheusMetrics(prometheus.url)
    try:
        now = datetime.now(UTC)
        query = await metrics.query_range(
            "gauge", GAUGE, start=now - timedelta(hours=1), end=now, step_s=1
        )
        assert query.status == "ok", query
        assert query.summary == (
            "2 series; latest 0.12 to 0.93 (min 0.12, max 0.93) over 1h; by kind: a 0.93, b 0.12"
        )
        missing = await metrics.query_range(
            "none", "no_such_metric", start=now - timedelta(hours=1), end=now, step_s=1
        )
        assert missing.status == "empty"
        bad = await metrics.query_range(
            "bad", "sum(", start=now - timedelta(hours=1), end=now, step_s=1
        )
        assert bad.status == "error" and bad.error is not None and "bad_data" in bad.error
    finally:
        await metrics.aclose()


async def test_the_snapshot_holds_the_alert_expression_and_up_of_its_job(
    prometheus: Prometheus,
) -> None:
    metrics = PrometheusMetrics(prometheus.url)
    try:
        snapshot = await evidence(metrics, prometheus.url).build(7)
    finally:
        await metrics.aclose()
    assert snapshot.metrics.status == "ok", snapshot.metrics
    expression, up = snapshot.metrics.queries
    assert (expression.expr, expression.status) == (f"{GAUGE} > 0.1", "ok")
    assert expression.summary.startswith("2 series; latest 0.12 to 0.93")
    assert (up.expr, up.status) == (UP, "ok")
    assert up.summary == "1 series; latest 1 (min 1, max 1) over 1h"
    assert snapshot.gaps == ()


async def test_a_stopped_prometheus_is_unavailable_within_the_timeout(
    prometheus: Prometheus,
) -> None:
    await prometheus.stop()
    metrics = PrometheusMetrics(prometheus.url, timeout_s=2.0)
    try:
        started = time.monotonic()
        snapshot = await evidence(metrics, prometheus.url).build(7)
        elapsed = time.monotonic() - started
    finally:
        await metrics.aclose()
    assert elapsed < 2.5
    assert snapshot.metrics.status == "unavailable"
    assert {q.status for q in snapshot.metrics.queries} <= {"error", "timeout"}
    assert any(gap.startswith("Prometheus: unavailable") for gap in snapshot.gaps)
    assert snapshot.alerts, "the rest of the snapshot is there: the debate goes on"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections and never answers: a Prometheus too slow."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_a_slow_prometheus_is_a_timeout_within_the_timeout(silent_server: str) -> None:
    metrics = PrometheusMetrics(silent_server, timeout_s=0.5)
    try:
        started = time.monotonic()
        snapshot = await evidence(metrics, silent_server).build(7)
        elapsed = time.monotonic() - started
    finally:
        await metrics.aclose()
    assert elapsed < 1.5, "the queries run at once, each bounded by the timeout"
    assert snapshot.metrics.status == "unavailable"
    assert {q.status for q in snapshot.metrics.queries} == {"timeout"}
    assert snapshot.metrics.detail == (
        f"unavailable, no query answered: Prometheus at {silent_server} did not answer within 0.5s"
    )


async def test_prometheus_becoming_slow_mid_debate_does_not_hold_it(prometheus: Prometheus) -> None:
    """Stopped with SIGSTOP: connections are accepted by the kernel and never answered."""
    metrics = PrometheusMetrics(prometheus.url, timeout_s=0.5)
    prometheus.process.send_signal(signal.SIGSTOP)
    # the stop is asynchronous: on a busy machine a thread may still answer one request
    await wait_for(lambda: stopped(prometheus.process.pid), timeout=5, what="Prometheus stopped")
    try:
        snapshot = await asyncio.wait_for(evidence(metrics, prometheus.url).build(7), 5)
    finally:
        prometheus.process.send_signal(signal.SIGCONT)  # so it can be stopped cleanly
        await metrics.aclose()
    assert snapshot.metrics.status == "unavailable"
    assert {q.status for q in snapshot.metrics.queries} == {"timeout"}
