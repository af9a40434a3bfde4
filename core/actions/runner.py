"""The command runner port: what the executor needs from the operating system."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ProcessOutcome:
    """How a process ended. `exit_code` is None when it never started or was killed."""

    exit_code: int | None
    stdout: bytes = b""
    stderr: bytes = b""
    duration_s: float = 0.0
    timed_out: bool = False
    #: why it could not start (binary gone since start-up, permission denied)
    error: str | None = None


class CommandRunner(Protocol):
    """Runs one argv (never through a shell) and reports how it ended; never raises for it."""

    async def run(self, argv: Sequence[str], *, timeout_s: float) -> ProcessOutcome: ...
