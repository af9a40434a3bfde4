"""Start the real `howl run` as a subprocess, as a user would, and stop it with a signal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.servers.telegram import free_port

#: the installed console script, exactly what a user types
_SCRIPT = Path(sys.executable).with_name("howl")
HOWL = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot"]


@dataclass
class HowlProcess:
    proc: asyncio.subprocess.Process
    http: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def stop(self, sig: int = signal.SIGTERM, *, timeout: float = 10.0) -> tuple[int, float]:
        """Send `sig`; return (exit code, seconds until exit)."""
        started = time.monotonic()
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), timeout=timeout)
        return code, time.monotonic() - started


def howl_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A clean environment: only what the test sets, nothing from the developer's shell."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HOWL_", "TELEGRAM_"))
    }
    env.update(
        HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'howl.db'}",
        HOWL_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
        HOWL_LOG_FORMAT="json",
    )
    env.update(settings)
    return env


@contextlib.asynccontextmanager
async def running_howl(
    tmp_path: Path, *, ready_timeout: float = 30.0, **settings: str
) -> AsyncIterator[HowlProcess]:
    """`howl run` with these settings, ready (readyz 200) before the body runs."""
    env = howl_env(tmp_path, **settings)
    log_path = tmp_path / f"howl-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *HOWL, "run", env=env, cwd=tmp_path, stdout=log, stderr=asyncio.subprocess.STDOUT
        )
    howl = HowlProcess(proc, f"http://{env['HOWL_HTTP_LISTEN']}", log_path, env)
    try:
        await _until_ready(howl, ready_timeout)
        yield howl
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _until_ready(howl: HowlProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if howl.proc.returncode is not None:
                raise AssertionError(f"howl exited with {howl.proc.returncode}:\n{howl.logs()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{howl.http}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise AssertionError(f"howl not ready after {timeout}s:\n{howl.logs()}")


async def run_howl_command(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run a one-shot `howl ...` command; returns (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *HOWL,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()
