"""Telegram's delivery limits, and a sliding-window budget that plans within them.

The Bot API answers 429 when a bot sends more than about 30 messages a second
overall, 20 a minute into one group, or one a second into one private chat.
Edits count like sends. The delivery worker plans with these budgets so that it
never meets a 429; the playground emulator enforces the same numbers.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """At most `count` deliveries in any `seconds`-long window."""

    count: int
    seconds: float


GLOBAL = Window(30, 1.0)
GROUP = Window(20, 60.0)
PRIVATE = Window(1, 1.0)


def chat_window(chat_id: int) -> Window:
    """Groups, supergroups and channels have negative ids."""
    return GROUP if chat_id < 0 else PRIVATE


class SlidingBudget:
    """Counts deliveries in a sliding window and says when the next one may go.

    >>> budget = SlidingBudget(Window(2, 10.0))
    >>> budget.record(0.0); budget.record(1.0)
    >>> budget.wait(5.0)
    5.0
    >>> budget.wait(10.5)
    0.0
    """

    def __init__(self, window: Window) -> None:
        self.window = window
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.window.seconds:
            self._times.popleft()

    def wait(self, now: float, *, keep_free: int = 0) -> float:
        """Seconds until one more delivery fits while `keep_free` slots stay free.

        >>> budget = SlidingBudget(Window(3, 10.0))
        >>> budget.record(0.0); budget.record(4.0)
        >>> budget.wait(5.0), budget.wait(5.0, keep_free=1), budget.wait(5.0, keep_free=2)
        (0.0, 5.0, 9.0)
        """
        self._expire(now)
        allowed = self.window.count - keep_free
        if len(self._times) < allowed:
            return 0.0
        # The delivery fits once enough of the oldest ones have aged out.
        must_expire = len(self._times) - allowed
        if allowed <= 0:
            return self.window.seconds
        return max(self._times[must_expire] + self.window.seconds - now, 0.0)

    def remaining(self, now: float) -> int:
        self._expire(now)
        return self.window.count - len(self._times)

    def capacity(self, now: float, *, within: float, keep_free: int = 0) -> int:
        """How many more deliveries fit between now and `within` seconds from now,
        leaving `keep_free` slots of the window free.

        >>> budget = SlidingBudget(Window(20, 60.0))
        >>> for t in (0.0, 30.0, 50.0): budget.record(t)
        >>> budget.capacity(55.0, within=0.0), budget.capacity(55.0, within=20.0, keep_free=2)
        (17, 16)
        """
        self._expire(now)
        horizon = now + min(within, self.window.seconds) - self.window.seconds
        still_counted = sum(1 for t in self._times if t > horizon)
        return max(self.window.count - keep_free - still_counted, 0)

    def record(self, now: float) -> None:
        self._times.append(now)

    def forget(self, at: float) -> None:
        """Take back a delivery recorded at `at` that was never made (its claim was declined).

        >>> budget = SlidingBudget(Window(2, 10.0))
        >>> budget.record(1.0); budget.record(2.0); budget.forget(2.0)
        >>> budget.remaining(3.0)
        1
        """
        with contextlib.suppress(ValueError):  # already expired out of the window
            self._times.remove(at)

    def block_until(self, until: float, now: float) -> None:
        """Fill the window so nothing goes before `until` (after a 429)."""
        self._expire(now)
        self._times.clear()
        start = until - self.window.seconds
        self._times.extend([start] * self.window.count)
