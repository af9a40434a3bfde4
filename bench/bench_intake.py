"""Intake throughput and latency of POST /alerts/alertmanager under 50 concurrent senders,
next to raw inserts of the same rows into the same SQLite database.

Targets: >= 1,000 alerts/s, p99 < 100 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import MetaData, Table, insert, select

from bench.howl_proc import howl_running
from bench.table import Row
from storage.db import create_engine

SENDERS = 50
WEBHOOKS_PER_SENDER = 20
ALERTS_PER_WEBHOOK = 10


def webhook(sender: int, n: int) -> dict[str, Any]:
    alerts = []
    for i in range(ALERTS_PER_WEBHOOK):
        labels = {
            "alertname": f"BenchAlert{sender % 25}",
            "namespace": "bench",
            "service": f"svc-{sender}",
            "instance": f"host-{n}-{i}",
            "severity": "warning",
        }
        alerts.append(
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": "bench"},
                "startsAt": "2026-11-23T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph",
                "fingerprint": f"{sender:04x}{n:04x}{i:08x}",
            }
        )
    return {
        "version": "4",
        "groupKey": f"bench-{sender}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "howl",
        "groupLabels": {"alertname": f"BenchAlert{sender % 25}"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": alerts,
    }


async def _send_all(url: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def sender(s: int) -> None:
            for n in range(WEBHOOKS_PER_SENDER):
                started = time.perf_counter()
                answer = await client.post("/alerts/alertmanager", json=webhook(s, n))
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise RuntimeError(f"intake answered {answer.status_code}: {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(sender(s) for s in range(SENDERS)))
        return time.perf_counter() - started, latencies


async def _raw_inserts(db: Path) -> tuple[float, int]:
    """The same alert rows, inserted again into a copy of the table, one commit per webhook."""
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    try:
        metadata = MetaData()
        async with engine.connect() as conn:
            await conn.run_sync(lambda sync: metadata.reflect(sync, only=["alerts"]))
        source = metadata.tables["alerts"]
        copy = Table("bench_alerts_raw", MetaData(), *(c.copy() for c in source.columns))
        async with engine.begin() as conn:
            await conn.run_sync(copy.create)
            rows = [dict(r._mapping) for r in (await conn.execute(select(source))).all()]
        batches = [
            rows[i : i + ALERTS_PER_WEBHOOK] for i in range(0, len(rows), ALERTS_PER_WEBHOOK)
        ]
        started = time.perf_counter()

        async def writer(chunk: list[list[dict[str, Any]]]) -> None:
            for batch in chunk:
                async with engine.begin() as conn:
                    await conn.execute(insert(copy), batch)

        per_writer = [batches[i::SENDERS] for i in range(SENDERS)]
        await asyncio.gather(*(writer(chunk) for chunk in per_writer))
        return time.perf_counter() - started, len(rows)
    finally:
        await engine.dispose()


async def run() -> list[Row]:
    total = SENDERS * WEBHOOKS_PER_SENDER * ALERTS_PER_WEBHOOK
    with tempfile.TemporaryDirectory() as tmp:
        async with howl_running(Path(tmp)) as url:
            elapsed, latencies = await _send_all(url)
        raw_elapsed, raw_rows = await _raw_inserts(Path(tmp) / "howl.db")
    rate = total / elapsed
    raw_rate = raw_rows / raw_elapsed
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    return [
        Row("intake", f"alerts/s ({SENDERS} senders, {total} alerts)", rate, "/s",
            raw_rate, "raw inserts /s", ">= 1000", rate >= 1000),
        Row("intake", "p50 latency", p50, "ms", target="-"),
        Row("intake", "p99 latency", p99, "ms", target="< 100 ms", met=p99 < 100),
    ]  # fmt: skip
