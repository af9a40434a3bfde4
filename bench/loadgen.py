"""An open-loop HTTP load generator, lean enough to offer 2,000 posts/s from one core.

Open loop: posts are due on a fixed schedule whatever the server answers, and
a post's latency runs from when it was due, so a server that falls behind is
charged for the queue it builds (no coordinated omission). httpx costs more CPU
per request than the server under test, so this speaks HTTP/1.1 itself over
keep-alive connections: pre-encoded requests, answers read by Content-Length.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


def encode_post(url: str, path: str, body: Any) -> bytes:
    """The bytes of one POST with a JSON body."""
    payload = json.dumps(body, separators=(",", ":")).encode()
    host = urlsplit(url).netloc
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


#: uvicorn closes a keep-alive connection idle for 5 s; one idle this long is reopened first
IDLE_S = 4.0


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used = time.monotonic()

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.used > IDLE_S or self.writer.is_closing()

    async def post(self, request: bytes) -> int:
        """Send one request; returns the HTTP status once the whole answer is read."""
        self.used = time.monotonic()
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status


class Client:
    """A pool of keep-alive connections to one server; a post waits for a free one."""

    def __init__(self, url: str, connections: int) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._size = connections
        self._idle: asyncio.Queue[_Connection] = asyncio.Queue()
        self._all: list[_Connection] = []

    @property
    def connections(self) -> int:
        return self._size

    async def __aenter__(self) -> Client:
        for _ in range(self._size):
            reader, writer = await asyncio.open_connection(self._host, self._port)
            connection = _Connection(reader, writer)
            self._all.append(connection)
            self._idle.put_nowait(connection)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for connection in self._all:
            connection.writer.close()

    async def post(self, request: bytes) -> int:
        connection = await self._idle.get()
        try:
            if connection.stale:
                connection = await self._reopen(connection)
            return await connection.post(request)
        finally:
            self._idle.put_nowait(connection)

    async def _reopen(self, old: _Connection) -> _Connection:
        old.writer.close()
        reader, writer = await asyncio.open_connection(self._host, self._port)
        fresh = _Connection(reader, writer)
        self._all[self._all.index(old)] = fresh
        return fresh


@dataclass(frozen=True)
class Measured:
    posts: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rate(self) -> float:
        return self.posts / self.seconds

    def quantile(self, q: int) -> float:
        """The q-th percentile latency in ms."""
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


async def offer(
    client: Client, requests: Callable[[int], bytes], *, rate: float, seconds: float
) -> Measured:
    """Post `requests(n)` at `rate` per second for `seconds`, on schedule (open loop)."""
    total = int(rate * seconds)
    latencies: list[float] = []
    failures = 0
    start = time.perf_counter()

    async def one(n: int, due: float) -> None:
        nonlocal failures
        if await client.post(requests(n)) != 200:
            failures += 1
        latencies.append(time.perf_counter() - due)

    tasks = []
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, due)))
    await asyncio.gather(*tasks)
    return Measured(total, time.perf_counter() - start, latencies, failures)


async def saturate(client: Client, requests: Callable[[int], bytes], *, posts: int) -> Measured:
    """Post as fast as the server answers, one request in flight per connection."""
    latencies: list[float] = []
    failures = 0
    next_n = 0
    start = time.perf_counter()

    async def sender() -> None:
        nonlocal failures, next_n
        while next_n < posts:
            n, next_n = next_n, next_n + 1
            sent = time.perf_counter()
            if await client.post(requests(n)) != 200:
                failures += 1
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(sender() for _ in range(client.connections)))
    return Measured(posts, time.perf_counter() - start, latencies, failures)
