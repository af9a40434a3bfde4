"""Start `howl run` for a benchmark and wait until it answers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

HOWL = Path(sys.executable).with_name("howl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def howl_running(workdir: Path, **settings: str) -> AsyncIterator[str]:
    """`howl run` with these settings; yields its base URL once /healthz answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOWL_", "TELEGRAM_"))}
    env.update(
        HOWL_HTTP_LISTEN=f"127.0.0.1:{port}",
        HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'howl.db'}",
        HOWL_LOG_FORMAT="json",
        **settings,
    )
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
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        log.close()
