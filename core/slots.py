"""At most `size` holders at once; waiting ones go by priority (a provider's call slots,
SQLite's one writer).

Among calls waiting for a slot, the one with the highest priority is served
first, and calls of equal priority in the order they came. The debate gives a
call the priority of its stage (core/debate/agents.py): in a storm a debate
further along finishes before new ones start, so decisions come out one after
another, most severe first (runs are claimed by severity), instead of all of
them together at the end; with one priority it is a plain first-come,
first-served semaphore. SQLite's write turn (storage/db.py) is one slot whose
urgent holders, the deliveries of cards, go before the rest.

With `step_s` set, waiting also counts: a call that has waited `step_s` is
served as if it were one priority higher. The router sets it to the provider's
typical call time, so in a storm a new incident's diagnosis, once it has waited
a whole call, goes before a later stage that has just come: the last debates
start sooner, and the provider's slots stay full to the end instead of idling
while the last few debates finish one stage after another (bench/schedule.py
models both orders).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Callable


class Slots:
    def __init__(self, size: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._free = size
        #: (rank, -priority, arrival, waiter), lowest first (equal ranks: the higher
        #: priority): a slot is handed to the first one not given up
        self._waiting: list[tuple[float, int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._clock = clock
        #: seconds of waiting worth one priority step; None: priority alone decides
        self.step_s: float | None = None

    @contextlib.asynccontextmanager
    async def taken(self, priority: int = 0) -> AsyncIterator[None]:
        """Hold a slot inside; waits (cancellably) while all are taken."""
        await self._take(priority)
        try:
            yield
        finally:
            self._give_back()

    async def _take(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._rank(priority), -priority, next(self._arrivals), waiter)
        heapq.heappush(self._waiting, entry)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back()  # handed a slot just as it gave up: pass it on
            raise

    def _rank(self, priority: int) -> float:
        if not self.step_s:
            return -priority
        # when it came, less a step of waiting per priority: an earlier rank goes first
        return self._clock() - priority * self.step_s

    def _give_back(self) -> None:
        while self._waiting:
            _, _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():  # one that gave up is skipped
                waiter.set_result(None)  # the slot goes straight to it
                return
        self._free += 1

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for _, _, _, waiter in self._waiting)
