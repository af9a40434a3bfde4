"""Replay throughput at concurrency 1, 4 and 16 against a fake model with fixed latency.

The ideal is concurrency / latency requests per second, with the latency the
fake actually showed in this run; target: at least 0.9 of it at each level.
"""

from __future__ import annotations

import asyncio
import time

from bench.table import Row
from core.llm.completion import Completion
from core.llm.schemas import DecisionDraft, RiskLevel
from core.llm.types import ChatRequest, Task
from core.replay.pack import ReplayRequest
from core.replay.runner import run_replay

LATENCY_S = 0.02
REQUESTS = 96
LEVELS = (1, 4, 16)
TARGET = 0.9


class FixedLatencyCompleter:
    """Answers every request after LATENCY_S and records how long each call really took."""

    def __init__(self) -> None:
        self.durations: list[float] = []

    async def complete(self, request: ChatRequest) -> Completion:
        started = time.perf_counter()
        await asyncio.sleep(LATENCY_S)
        self.durations.append(time.perf_counter() - started)
        return Completion(
            value=DecisionDraft(
                risk_level=RiskLevel.LOW,
                requires_human_approval=True,
                confidence=0.5,
                diagnosis="bench",
                summary="bench",
            ),
            provider="fake",
            model="fake",
            attempts=["fake: ok"],
        )


def _requests(n: int) -> list[ReplayRequest]:
    return [
        ReplayRequest(
            run_id="bench",
            incident_id=f"inc-{i}",
            candidate_id=f"inc-{i}-baseline",
            system_prompt="s",
            user_prompt="u",
            incident_context={"alert_name": "KubePodCrashLooping"},
            response_contract=Task.COORDINATE,
        )
        for i in range(n)
    ]


async def run() -> list[Row]:
    rows = []
    requests = _requests(REQUESTS)
    for concurrency in LEVELS:
        completer = FixedLatencyCompleter()
        started = time.perf_counter()
        await run_replay(
            requests, completer, concurrency=concurrency, model="fake", evaluated="fake"
        )
        elapsed = time.perf_counter() - started
        latency = sum(completer.durations) / len(completer.durations)
        throughput = REQUESTS / elapsed
        ideal = concurrency / latency
        rows.append(
            Row(
                "replay",
                f"throughput at concurrency {concurrency} ({REQUESTS} x {LATENCY_S * 1000:g} ms)",
                throughput,
                "req/s",
                ideal,
                "ideal: concurrency / measured latency",
                f">= {TARGET} of ideal",
                throughput / ideal >= TARGET,
            )
        )
    return rows


if __name__ == "__main__":
    from bench.table import render

    print(render(asyncio.run(run())))
