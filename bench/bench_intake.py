"""Intake throughput and latency of POST /alerts/alertmanager under 50 concurrent senders,
next to raw inserts of the same rows into the same SQLite database.

Two phases, because one closed loop cannot measure both figures: with 50
senders that each wait for their answer, latency at saturation is simply
50 / throughput (Little's law) whatever the server does.
- saturation: 50 senders post back to back; alerts/s is the capacity (latency
  there is printed too, for the record: it is queueing, not service time);
- target load: the same 50 senders together offer 1,000 alerts/s (each posts a
  webhook of 10 alerts every 0.5 s, on a fixed schedule, so a slow answer does
  not slow the offered load); p50/p99 are measured there.

Targets: >= 1,000 alerts/s, p99 < 100 ms at 1,000 alerts/s.
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
TARGET_RATE = 1000  # alerts/s offered in the latency phase
LOAD_SECONDS = 10


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


async def _offered_load(url: str) -> tuple[float, list[float]]:
    """SENDERS senders together offering TARGET_RATE alerts/s; latencies of every post."""
    interval = SENDERS * ALERTS_PER_WEBHOOK / TARGET_RATE
    rounds = int(LOAD_SECONDS / interval)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        start = time.perf_counter()

        async def sender(s: int) -> None:
            offset = interval * s / SENDERS  # spread the senders over the interval
            for n in range(rounds):
                due = start + offset + n * interval
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                # later rounds re-send new alert states so every post does real work
                body = webhook(s + SENDERS, n)
                sent = time.perf_counter()
                answer = await client.post("/alerts/alertmanager", json=body)
                latencies.append(time.perf_counter() - sent)
                if answer.status_code != 200:
                    raise RuntimeError(f"intake answered {answer.status_code}: {answer.text}")

        await asyncio.gather(*(sender(s) for s in range(SENDERS)))
        return time.perf_counter() - start, latencies


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
            elapsed, saturated = await _send_all(url)
            load_elapsed, latencies = await _offered_load(url)
        raw_elapsed, raw_rows = await _raw_inserts(Path(tmp) / "howl.db")
    rate = total / elapsed
    raw_rate = raw_rows / raw_elapsed
    offered = len(latencies) * ALERTS_PER_WEBHOOK / load_elapsed
    sat = statistics.quantiles(saturated, n=100)
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    return [
        Row("intake", f"alerts/s, saturated ({SENDERS} senders, {total} alerts)", rate, "/s",
            raw_rate, "raw inserts /s", ">= 1000", rate >= 1000),
        Row("intake", "p50 at saturation (queueing)", sat[49] * 1000, "ms", target="-"),
        Row("intake", "p99 at saturation (queueing)", sat[98] * 1000, "ms", target="-"),
        Row("intake", f"offered load ({SENDERS} senders)", offered, "/s", target="-"),
        Row("intake", "p50 latency at 1,000 alerts/s", p50, "ms", target="-"),
        Row("intake", "p99 latency at 1,000 alerts/s", p99, "ms", target="< 100 ms", met=p99 < 100),
    ]  # fmt: skip
