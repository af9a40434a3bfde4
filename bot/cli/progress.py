"""Progress of a replay on stderr: a bar redrawn in place on a terminal, a line every few
seconds otherwise (a log, a CI job), so a slow model never leaves a silent screen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TextIO

from core.replay.runner import ReplayResult

BAR_WIDTH = 30


class Progress:
    """Counts results as they arrive and shows them; `ticking()` keeps showing while none do."""

    def __init__(
        self,
        total: int,
        stream: TextIO,
        *,
        every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._stream = stream
        self._tty = stream.isatty()
        # a bar can afford to move every second; a log gets a line every few
        self._every_s = 1.0 if self._tty else every_s
        self._clock = clock
        self._sleep = sleep
        self._started = clock()

    def __call__(self, result: ReplayResult) -> None:
        self.done += 1
        self.failed += not result.ok
        if self._tty:
            self.show()

    def status(self) -> str:
        elapsed = self._clock() - self._started
        return f"{self.done}/{self.total} done, model failed {self.failed}, {elapsed:.0f} s"

    def show(self) -> None:
        if self._tty:
            filled = BAR_WIDTH * self.done // self.total if self.total else BAR_WIDTH
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            self._stream.write(f"\r[{bar}] {self.status()}")
        else:
            self._stream.write(f"replay: {self.status()}\n")
        self._stream.flush()

    async def ticking(self) -> None:
        """Show the state every few seconds until cancelled."""
        while True:
            await self._sleep(self._every_s)
            self.show()

    def finish(self) -> None:
        self.show()
        if self._tty:
            self._stream.write("\n")
            self._stream.flush()
