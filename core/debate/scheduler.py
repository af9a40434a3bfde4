"""Every new incident gets a debate run, once, most severe first; none is lost to a crash.

`opened` is called by the incident service after a commit that opened
incidents: it queues one run per incident (trigger "opened") in one
statement and wakes the workers. Should the process die between the
incident's commit and its run's, `catch_up` (at start and on a schedule)
finds open incidents without their run and makes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import timedelta

import structlog

from core.alerting.models import Incident
from core.ports import Clock
from core.runs import Run, RunStore

log = structlog.get_logger(__name__)

OPENED = "opened"
#: how far back catch-up looks for incidents left without a run
CATCH_UP_WINDOW = timedelta(days=1)
CATCH_UP_BATCH = 200
#: a debate asked for by a person goes before the queue of a storm
ASKED_PRIORITY = 10


def priority_of(incident: Incident) -> int:
    """Critical first (3), then high, warning, info (0)."""
    return incident.severity.rank


def asked_trigger(update_id: int) -> str:
    """The trigger of a `/debate` run: one per Telegram update, so a re-delivery is no rerun."""
    return f"debate:{update_id}"


class DebateScheduler:
    def __init__(self, runs: RunStore, clock: Clock, *, wake: Callable[[int | None], None]) -> None:
        self._runs = runs
        self._clock = clock
        self._wake = wake
        self._pending: set[asyncio.Task[int]] = set()

    def opened(self, incidents: Sequence[Incident]) -> None:
        """Hook for the incident service (synchronous: intake must not wait for this)."""
        if not incidents:
            return
        task = asyncio.create_task(self.schedule(incidents), name="debate-schedule")
        self._pending.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[int]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # the incidents stay without runs until the next catch-up: logged, not lost
            log.error("debate_schedule_failed", error=f"{type(error).__name__}: {error}")

    async def schedule(self, incidents: Sequence[Incident]) -> int:
        made = await self._runs.create_many([(i.id, priority_of(i)) for i in incidents], OPENED)
        if made:
            self._wake(made)
        return made

    async def ask(self, incident_id: int, update_id: int) -> Run:
        """A fresh debate a person asked for (`/debate <id>`)."""
        run = await self._runs.create(
            incident_id, asked_trigger(update_id), priority=ASKED_PRIORITY
        )
        self._wake(1)
        return run

    async def catch_up(self) -> int:
        """Runs for open incidents a crash left without one; how many were made."""
        since = self._clock.now() - CATCH_UP_WINDOW
        missing = await self._runs.without_run(OPENED, opened_since=since, limit=CATCH_UP_BATCH)
        made = await self._runs.create_many([(i, 0) for i in missing], OPENED) if missing else 0
        if made:
            log.warning("debate_runs_caught_up", incidents=made)
            self._wake(made)
        return made

    async def drain(self) -> None:
        """Wait for scheduling already under way (at shutdown)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
