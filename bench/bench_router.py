"""Router overhead per call: `Router.complete` against a raw httpx POST of the same payload.

Both go to the same fake OpenAI-compatible server on 127.0.0.1 answering a valid
review. The difference of the medians is what routing, limits, contract
parsing and accounting cost per call. Target: under 1 ms.
"""

from __future__ import annotations

import statistics
import sys
import time

import httpx

from bench.table import Row
from core.llm.openai_compat import OpenAICompatProvider, build_payload
from core.llm.router import ProviderLimits, Router
from core.llm.types import ChatMessage, ChatRequest, Task
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import serve_asgi

CALLS = 400
WARMUP = 30
ROUNDS = 4
REQUEST = ChatRequest(
    task=Task.REVIEW,
    messages=[
        ChatMessage(role="system", content="You review proposed actions. Answer in JSON."),
        ChatMessage(role="user", content="Proposal: restart deployment api in prod."),
    ],
    json_mode=True,
)
ANSWER = {"verdict": "approve", "concerns": ["none"], "risk_level": "low"}


async def _raw_calls(client: httpx.AsyncClient, url: str, count: int) -> list[float]:
    payload = build_payload(REQUEST, model="bench-model")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.post(url, json=payload, timeout=10)
        response.raise_for_status()
        response.json()["choices"][0]["message"]["content"]
        times.append(time.perf_counter() - started)
    return times


async def _router_calls(router: Router, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        done = await router.complete(REQUEST)
        times.append(time.perf_counter() - started)
        if done.fallback_used:
            raise RuntimeError(f"bench call fell back: {done.error}")
    return times


async def run() -> list[Row]:
    fake = FakeOpenAI(default=Behaviour.json(ANSWER))
    raw: list[float] = []
    routed: list[float] = []
    async with serve_asgi(fake.app()) as url:
        provider = OpenAICompatProvider(name="fake", base_url=f"{url}/v1", model="bench-model")
        # no rate window: the bench measures overhead, not the 60 rpm default
        router = Router([provider], limits={"fake": ProviderLimits(rpm=None)})
        try:
            async with httpx.AsyncClient() as client:
                await _raw_calls(client, provider.url, WARMUP)
                await _router_calls(router, WARMUP)
                # interleaved rounds so drift on the machine hits both alike
                for _ in range(ROUNDS):
                    raw += await _raw_calls(client, provider.url, CALLS // ROUNDS)
                    routed += await _router_calls(router, CALLS // ROUNDS)
        finally:
            await router.aclose()
    raw_ms = statistics.median(raw) * 1000
    routed_ms = statistics.median(routed) * 1000
    overhead_ms = routed_ms - raw_ms
    print(
        f"router: raw httpx {raw_ms:.3f} ms, Router.complete {routed_ms:.3f} ms, "
        f"overhead {overhead_ms:.3f} ms per call (median of {CALLS})",
        file=sys.stderr,
    )
    return [
        Row("router", "Router.complete per call (median)", routed_ms, "ms", raw_ms, "raw httpx"),
        Row(
            "router",
            "routing overhead per call",
            overhead_ms,
            "ms",
            target="< 1 ms",
            met=overhead_ms < 1.0,
        ),
    ]
