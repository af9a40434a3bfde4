"""Start-up time to healthy and idle RSS of `howl run` (playground), against a bare interpreter.

Targets: healthy in under 2 s after install; idle RSS under 120 MB.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.table import Row

RUNS = 3
HOWL = Path(sys.executable).with_name("howl")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def _baseline() -> tuple[float, float]:
    """A bare Python interpreter: its start-up time and RSS on this machine, now."""
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; sys.stdout.write('x'); sys.stdout.flush(); sys.stdin.read()",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None
    await proc.stdout.read(1)
    elapsed = time.perf_counter() - started
    rss = _rss_mb(proc.pid)
    proc.stdin.close()
    await proc.wait()
    return elapsed, rss


async def _howl_once(workdir: Path) -> tuple[float, float]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOWL_", "TELEGRAM_"))}
    env.update(
        HOWL_HTTP_LISTEN=f"127.0.0.1:{port}",
        HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / f'howl-{port}.db'}",
        HOWL_LOG_FORMAT="json",
    )
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        str(HOWL),
        "run",
        env=env,
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > 30:
                    raise RuntimeError("howl did not become ready in 30 s")
                await asyncio.sleep(0.02)
        healthy = time.perf_counter() - started
        await asyncio.sleep(3)  # idle: the poller long-polls, the worker sleeps
        rss = _rss_mb(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
    return healthy, rss


async def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        runs = [await _howl_once(Path(tmp)) for _ in range(RUNS)]
    bases = [await _baseline() for _ in range(RUNS)]
    start = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    base_start = statistics.median(b[0] for b in bases)
    base_rss = statistics.median(b[1] for b in bases)
    return [
        Row(
            "startup",
            "time to ready (median of 3)",
            start,
            "s",
            base_start,
            "bare python",
            "< 2 s",
            start < 2.0,
        ),
        Row("startup", "idle RSS", rss, "MB", base_rss, "bare python", "< 120 MB", rss < 120),
    ]
