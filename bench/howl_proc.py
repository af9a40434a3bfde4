"""Start `howl run` for a benchmark and wait until it answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

HOWL = Path(sys.executable).with_name("howl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class HowlProcess:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far (from /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def howl_running(workdir: Path, **settings: str) -> AsyncIterator[str]:
    """`howl run` with these settings; yields its base URL once /healthz answers."""
    async with howl_process(workdir, **settings) as howl:
        yield howl.url


@contextlib.asynccontextmanager
async def howl_process(workdir: Path, **settings: str) -> AsyncIterator[HowlProcess]:
    """`howl run` with these settings (SQLite in `workdir` unless HOWL_DATABASE_URL is one)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOWL_", "TELEGRAM_"))}
    env.update(
        HOWL_HTTP_LISTEN=f"127.0.0.1:{port}",
        HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'howl.db'}",
        HOWL_LOG_FORMAT="json",
    )
    env.update(settings)
    log = (workdir / "howl.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        str(HOWL), "run", env=env, cwd=workdir, stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                if proc.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"howl did not start; see {workdir / 'howl.log'}")
                await asyncio.sleep(0.05)
        yield HowlProcess(url=url, pid=proc.pid)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        log.close()
