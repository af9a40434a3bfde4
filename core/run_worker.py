"""The run worker and the reaper: every claimed run ends completed, failed or back in the queue.

What cannot happen: two workers working one run (a claim is exclusive, see
`RunStore.claim`; a worker that loses its lease stops its work and its final
write is refused as stale), or a run left leased forever by a worker that died
(its lease is not renewed, so the reaper returns it to pending, or times it out
after `max_attempts`).

The work function is given to the worker (the debate is one); it gets the run
and returns the event that ends its part: `COMPLETE`, or `AWAIT_APPROVAL` when
a person must approve what it proposes. Raising is `failed` with the error as
the reason.

A worker's lease names its holder as `host:pid:index`; at start-up
`recover_orphans` returns the runs of holders on this host that no longer live
(a `kill -9`) at once, instead of waiting for their leases to run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

import structlog

from core.ports import Clock
from core.runs import Reaping, Run, RunEvent, RunStore, StaleRun, decide_reaping
from core.tracecontext import bound_to_run

log = structlog.get_logger(__name__)

Work = Callable[[Run], Coroutine[Any, Any, RunEvent]]
Sleep = Callable[[float], Awaitable[None]]

LEASE_FOR = timedelta(seconds=60)
#: a third of the lease: two heartbeats can be late before the lease runs out
HEARTBEAT_EVERY = timedelta(seconds=20)
MAX_ATTEMPTS = 3
REAP_BATCH = 100
#: what a work function may end its part with; anything else is a bug and fails the run
ENDINGS = frozenset({RunEvent.COMPLETE, RunEvent.AWAIT_APPROVAL})


def worker_owner(index: int | str) -> str:
    """The lease holder name of this process's worker number `index`: host:pid:index."""
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


def holder_is_gone(owner: str | None) -> bool:
    """Whether a lease holder ran in a process on this host that no longer exists.

    Another host's holder, or a name not of `worker_owner`'s shape, is never
    known to be gone: only its lease running out says so.
    """
    if owner is None:
        return False
    host, _, rest = owner.partition(":")
    pid_text, _, _index = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


class LeaseLost(Exception):
    """The worker's lease on a run ended (reaped, or reclaimed after expiry)."""


class RunWorker:
    """Claims pending runs one at a time and works each under a heartbeated lease."""

    def __init__(
        self,
        store: RunStore,
        work: Work,
        *,
        owner: str,
        lease_for: timedelta = LEASE_FOR,
        heartbeat_every: timedelta = HEARTBEAT_EVERY,
        sleep: Sleep = asyncio.sleep,
        on_settled: Callable[[Run], Awaitable[None]] | None = None,
    ) -> None:
        self._store = store
        #: told each run as the work left it (e.g. waiting_approval: the approval flow acts)
        self._on_settled = on_settled
        self._work = work
        self.owner = owner
        self._lease_for = lease_for
        self._heartbeat_every = heartbeat_every
        self._sleep = sleep
        self._wake = asyncio.Event()
        #: asleep with nothing to work, and not poked since (see `poke_for`)
        self.idle = False

    def poke(self) -> None:
        """A run was created: look for it now instead of at the next idle tick."""
        self.idle = False
        self._wake.set()

    async def run_forever(self, *, idle: timedelta = timedelta(seconds=5)) -> None:
        """Claim and work runs until cancelled; sleeps `idle` (or until poked) when none wait."""
        while True:
            # cleared before looking, so a poke during the look is not lost
            self._wake.clear()
            if await self.run_once() is not None:
                continue
            self.idle = True
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), idle.total_seconds())
            finally:
                self.idle = False

    async def run_once(self) -> Run | None:
        """Claim one pending run and work it to its end; None when none was free.

        Returns the run as this worker left it (completed or failed), or as it
        was when the lease was lost.
        """
        run = await self._store.claim(self.owner, lease_for=self._lease_for, start=True)
        if run is None:
            return None
        with bound_to_run(run.id, run.traceparent):
            log.info("run_claimed", attempt=run.attempts, incident_id=run.incident_id)
            try:
                event, reason = await self._work_with_heartbeat(run)
                run = await self._store.advance(run, event, reason=reason)
            except (StaleRun, LeaseLost):
                log.warning("run_lease_lost", attempt=run.attempts)
                return run
            log.info("run_finished", state=run.state.value, reason=run.reason)
            if self._on_settled is not None:
                try:
                    await self._on_settled(run)
                except Exception:  # the run's own state is recorded; its follow-up is logged
                    log.exception("run_settled_hook_failed")
            return run

    async def _work_with_heartbeat(self, run: Run) -> tuple[RunEvent, str | None]:
        work = asyncio.create_task(self._work(run), name=f"run-{run.id}")
        beat = asyncio.create_task(self._heartbeat(run, work), name=f"heartbeat-{run.id}")
        try:
            await asyncio.wait({work})
        finally:
            # work still running here means we were cancelled ourselves: the lease will lapse
            for task in (work, beat):
                if not task.done():
                    task.cancel()
            # wait, not `await beat`: a CancelledError of ours must not be taken for beat's
            await asyncio.wait({beat})
        if work.cancelled():
            raise LeaseLost
        failure = work.exception()
        if failure is None:
            event = work.result()
            if event in ENDINGS:
                return event, None
            return RunEvent.FAIL, f"the work ended with {event!r}, not complete or await_approval"
        log.error("run_work_failed", exc_info=failure)
        return RunEvent.FAIL, f"{type(failure).__name__}: {failure}"[:500]

    async def _heartbeat(self, run: Run, work: asyncio.Task[RunEvent]) -> None:
        while True:
            await self._sleep(self._heartbeat_every.total_seconds())
            if not await self._store.heartbeat(run, lease_for=self._lease_for):
                # someone else may have it now: stop, so the work is not done twice
                work.cancel()
                return


def poke_for(workers: Sequence[RunWorker], runs: int | None = None) -> None:
    """Wake the workers for `runs` new runs (None: as many as there may be).

    Every worker not idle is poked (one that is claiming looks again; a busy one
    looks anyway when its run ends), but only as many idle ones as there are
    runs: waking all eight for one run makes seven claim nothing, and on SQLite
    each empty claim is a write the winner's next write queues behind.
    """
    spare = len(workers) if runs is None else runs
    for worker in workers:
        if not worker.idle:
            worker.poke()
        elif spare > 0:
            worker.poke()
            spare -= 1


async def reap_expired(
    store: RunStore, clock: Clock, *, max_attempts: int = MAX_ATTEMPTS
) -> list[Reaping]:
    """Return runs whose lease ran out to pending, or time them out; the decisions applied."""
    runs = await store.expired(limit=REAP_BATCH)
    applied: list[Reaping] = []
    for decision in decide_reaping(runs, now=clock.now(), max_attempts=max_attempts):
        if await store.reap(decision):
            with bound_to_run(decision.run.id, decision.run.traceparent):
                log.warning("run_reaped", move=decision.event.value, reason=decision.reason)
            applied.append(decision)
    return applied


async def recover_orphans(
    store: RunStore, clock: Clock, *, max_attempts: int = MAX_ATTEMPTS
) -> list[Reaping]:
    """At start-up: runs held by dead processes on this host go back to pending (or time
    out) now, without waiting for their leases to run out."""
    runs = await store.leased(limit=REAP_BATCH)
    applied: list[Reaping] = []
    decisions = decide_reaping(
        runs, now=clock.now(), max_attempts=max_attempts, holder_gone=holder_is_gone
    )
    for decision in decisions:
        if await store.reap(decision, lease_must_have_expired=False):
            with bound_to_run(decision.run.id, decision.run.traceparent):
                log.warning(
                    "run_orphan_recovered", move=decision.event.value, reason=decision.reason
                )
            applied.append(decision)
    return applied
