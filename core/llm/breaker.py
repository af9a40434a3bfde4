"""A circuit breaker per provider: stop calling one that keeps failing, probe it later.

closed --N consecutive failures--> open --cooldown_s--> half-open
half-open: one trial call; success closes, failure opens again.
"""

from __future__ import annotations

from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Breaker:
    """Counts consecutive failures; time comes from the caller so tests control it.

    >>> b = Breaker(failures=2, cooldown_s=10)
    >>> b.failure(0); b.failure(1); b.allow(5)
    False
    >>> b.allow(11), b.allow(11)
    (True, False)
    >>> b.success(); b.state
    <BreakerState.CLOSED: 'closed'>
    """

    def __init__(self, *, failures: int = 5, cooldown_s: float = 30.0) -> None:
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    def allow(self, now: float) -> bool:
        """May a call go out now? In half-open, only the one trial may."""
        if self.state is BreakerState.OPEN:
            if now - self._opened_at < self.cooldown_s:
                return False
            self.state = BreakerState.HALF_OPEN
            self._trial_in_flight = False
        if self.state is BreakerState.HALF_OPEN:
            if self._trial_in_flight:
                return False
            self._trial_in_flight = True
        return True

    def success(self) -> None:
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self._trial_in_flight = False

    def failure(self, now: float) -> None:
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN or self.consecutive_failures >= self.threshold:
            self.state = BreakerState.OPEN
            self._opened_at = now
        self._trial_in_flight = False

    def abandon(self) -> None:
        """A permitted call never reached the provider (cancelled): free the trial slot."""
        self._trial_in_flight = False
