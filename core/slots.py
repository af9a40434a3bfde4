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
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class Slots:
    def __init__(self, size: int) -> None:
        self._free = size
        #: (-priority, arrival, waiter): a slot is handed to the first one not given up
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

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
        heapq.heappush(self._waiting, (-priority, next(self._arrivals), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._give_back()  # handed a slot just as it gave up: pass it on
            raise

    def _give_back(self) -> None:
        while self._waiting:
            _, _, waiter = heapq.heappop(self._waiting)
            if not waiter.done():  # one that gave up is skipped
                waiter.set_result(None)  # the slot goes straight to it
                return
        self._free += 1

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for _, _, waiter in self._waiting)
