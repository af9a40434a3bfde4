"""The incident card's progress line ("diagnosing… 12 s"), kept fresh within the chat's budget.

A debate moves through its stages in milliseconds with the embedded engine and
in minutes with a slow model. Nothing is shown for the first `first_after_s`
(2 s): a debate that ends sooner costs the card one edit ("decision posted"),
not two, and a storm of fast debates no edits of progress at all. After that
the card is edited at most once per `every_s` (10 s): a stage reached sooner is
shown at the next tick, and a tick with no new stage still refreshes the
elapsed time. The final stage is always written at once, so the card never
stays on "deciding…" after the decision is posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Protocol
from uuid import UUID

import structlog

from core.runs import Run

log = structlog.get_logger(__name__)

#: at most one edit of the incident card per this many seconds while a debate runs
EVERY_S = 10.0
#: a debate that ends within this shows no progress line, only its end
FIRST_AFTER_S = 2.0


class StageBoard(Protocol):
    """Where a run's stage is recorded (the runs table; the card reads it from there)."""

    async def set_stage(self, run: Run, stage: str) -> bool: ...


class CardProgress:
    """A `ProgressSink` for one run: records its stage, throttled, and pokes the card."""

    def __init__(
        self,
        board: StageBoard,
        run: Run,
        *,
        on_change: Callable[[Iterable[int]], None],
        every_s: float = EVERY_S,
        first_after_s: float = FIRST_AFTER_S,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._board = board
        self._run = run
        self._on_change = on_change
        self._every_s = every_s
        self._first_after_s = first_after_s
        self._mono = monotonic
        self._sleep = sleep
        self._stage: str | None = None
        self._written: str | None = None
        self._written_at: float | None = None
        self.writes = 0

    async def progress(self, run_id: UUID, incident_id: int, stage: str) -> None:
        # before the first tick nothing is written: the tick shows what was reached by then
        self._stage = stage
        if self._written_at is not None and self._mono() - self._written_at >= self._every_s:
            await self._write(stage)

    async def finish(self, stage: str) -> None:
        """The last stage (decided, timed out, failed): written now, whatever the throttle."""
        self._stage = stage
        await self._write(stage)

    @contextlib.asynccontextmanager
    async def ticking(self) -> AsyncIterator[CardProgress]:
        """While inside, the elapsed time on the card is refreshed every `every_s`."""
        ticker = asyncio.create_task(self._tick(), name=f"progress-{self._run.id}")
        try:
            yield self
        finally:
            ticker.cancel()
            # wait, not `await ticker`: a cancellation of our own must not be taken for the
            # ticker's and swallowed (the worker would go on after being told to stop)
            await asyncio.wait({ticker})

    async def _tick(self) -> None:
        pause = self._first_after_s
        while True:
            await self._sleep(pause)
            pause = self._every_s
            if self._stage is not None:
                try:
                    await self._write(self._stage)
                except Exception:  # a missed refresh is cosmetic; the next tick tries again
                    log.warning("progress_refresh_failed", exc_info=True)

    async def _write(self, stage: str) -> None:
        self._written_at = self._mono()
        if await self._board.set_stage(self._run, stage):
            self._written = stage
            self.writes += 1
            self._on_change([self._run.incident_id])
