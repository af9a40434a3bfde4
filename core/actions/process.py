"""The real command runner: asyncio subprocesses in their own process group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Sequence

from core.actions.runner import ProcessOutcome

#: raw output kept per stream (the tail); the executor trims further after redacting
KEEP_BYTES = 64 * 1024
#: after a kill, how long to wait for the pipes to close (a child that left the group
#: may hold them open; its output is not worth hanging for)
DRAIN_S = 2.0


class SubprocessRunner:
    """Runs argv with `create_subprocess_exec`; on timeout kills the whole process group."""

    def __init__(self, *, keep_bytes: int = KEEP_BYTES) -> None:
        self._keep = keep_bytes

    async def run(self, argv: Sequence[str], *, timeout_s: float) -> ProcessOutcome:
        started = time.monotonic()
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # its own process group, so a kill reaches its children
            )
        except OSError as exc:
            return ProcessOutcome(None, error=f"cannot start {argv[0]!r}: {exc.strerror or exc}")
        assert process.stdout is not None and process.stderr is not None
        readers = [
            asyncio.create_task(_tail(process.stdout, self._keep)),
            asyncio.create_task(_tail(process.stderr, self._keep)),
        ]
        timed_out = False
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
        finally:
            _kill_group(process.pid)  # also reaps anything it left running in the background
            await process.wait()
        done, pending = await asyncio.wait(readers, timeout=DRAIN_S)
        for task in pending:
            task.cancel()
        stdout, stderr = (task.result() if task in done else b"" for task in readers)
        return ProcessOutcome(
            None if timed_out else process.returncode,
            stdout=stdout,
            stderr=stderr,
            duration_s=time.monotonic() - started,
            timed_out=timed_out,
        )


async def _tail(stream: asyncio.StreamReader, keep: int) -> bytes:
    """All of a stream, keeping only its last `keep` bytes."""
    kept = bytearray()
    while chunk := await stream.read(65536):
        kept += chunk
        if len(kept) > keep:
            del kept[: len(kept) - keep]
    return bytes(kept)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
