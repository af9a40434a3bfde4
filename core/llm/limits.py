"""Per-provider limits the router enforces (time, rate, daily spend) and reading them."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from core.errors import ConfigError
from core.llm.types import Task

#: tasks whose prompts carry incident evidence: only `local` providers may see them
LOCAL_ONLY_BY_DEFAULT = frozenset({Task.DIAGNOSE})
#: the in-process engine, always the last link of every chain
EMBEDDED = "embedded"
_ROUTE_KEYS = frozenset({"providers", "local_only", "timeout_s"})


class RouterClock(Protocol):
    """Monotonic seconds for windows and breakers, the UTC day for budgets, and sleeping."""

    def now(self) -> float: ...

    def today(self) -> date: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemRouterClock:
    def now(self) -> float:
        return time.monotonic()

    def today(self) -> date:
        return datetime.now(UTC).date()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RateWindow:
    """At most `rpm` calls in any sliding 60 s window.

    >>> w = RateWindow(rpm=2)
    >>> w.record(0.0); w.record(1.0); w.wait_s(30.0)
    30.0
    >>> w.wait_s(60.0)
    0.0
    """

    WINDOW_S = 60.0

    def __init__(self, *, rpm: int | None) -> None:
        self.rpm = rpm
        self._sent: deque[float] = deque()

    def wait_s(self, now: float) -> float:
        """Seconds until a call may go out (0 when it may go now)."""
        if self.rpm is None:
            return 0.0
        while self._sent and now - self._sent[0] >= self.WINDOW_S:
            self._sent.popleft()
        if len(self._sent) < self.rpm:
            return 0.0
        return self._sent[0] + self.WINDOW_S - now

    def record(self, now: float) -> None:
        if self.rpm is not None:
            self._sent.append(now)


class DailyBudget:
    """USD spent per UTC day; once the limit is reached the provider sits out until tomorrow.

    >>> b = DailyBudget(limit_usd=1.0)
    >>> b.spend(1.5, today=date(2024, 1, 1)); b.exhausted(date(2024, 1, 1))
    True
    >>> b.exhausted(date(2024, 1, 2))
    False
    """

    def __init__(self, *, limit_usd: float | None) -> None:
        self.limit_usd = limit_usd
        self.day: date | None = None
        self.spent_usd = 0.0

    def _roll(self, today: date) -> None:
        if self.day != today:
            self.day = today
            self.spent_usd = 0.0

    def spend(self, usd: float, *, today: date) -> None:
        self._roll(today)
        self.spent_usd += usd

    def exhausted(self, today: date) -> bool:
        self._roll(today)
        return self.limit_usd is not None and self.spent_usd >= self.limit_usd


@dataclass(frozen=True)
class ProviderLimits:
    """How hard the router may lean on one provider."""

    concurrency: int = 4
    #: requests per sliding minute; None for no limit
    rpm: int | None = 60
    timeout_s: float = 60.0
    daily_budget_usd: float | None = None
    breaker_failures: int = 5
    breaker_cooldown_s: float = 30.0


@dataclass(frozen=True)
class Route:
    """A task's ordered fallback chain."""

    providers: tuple[str, ...]
    local_only: bool = False
    #: overrides each provider's own timeout for this task
    timeout_s: float | None = None


# --- reading HOWL_CONFIG values: every problem is one ConfigError naming the key -------


def config_error(where: str, reason: str) -> ConfigError:
    return ConfigError(f"bad HOWL_CONFIG {where}: {reason}")


def read_table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise config_error(where, "expected a table")
    return value


def check_keys(table: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
    """Refuse unknown keys: a typo would otherwise silently keep a default."""
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise config_error(where, f"unknown key(s) {', '.join(unknown)}")


def read_str(table: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise config_error(f"{where}.{key}", "expected a non-empty string")
    return value.strip()


def read_bool(table: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise config_error(f"{where}.{key}", f"expected true or false (got {value!r})")
    return value


def read_int(table: Mapping[str, Any], key: str, where: str, *, default: int, minimum: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise config_error(f"{where}.{key}", f"expected an integer >= {minimum} (got {value!r})")
    return value


def read_number(
    table: Mapping[str, Any], key: str, where: str, *, default: float | None, positive: bool = False
) -> float | None:
    value = table.get(key, default)
    if value is None:
        return None
    bad = isinstance(value, bool) or not isinstance(value, int | float) or value < 0
    if bad or (positive and value == 0):
        expected = "a number > 0" if positive else "a number >= 0"
        raise config_error(f"{where}.{key}", f"expected {expected} (got {value!r})")
    return float(value)


def read_limits(table: Mapping[str, Any], where: str) -> ProviderLimits:
    """A provider's limits from its `[llm.providers.NAME]` table, with the documented defaults."""
    timeout_s = read_number(table, "timeout_s", where, default=60.0, positive=True)
    cooldown_s = read_number(table, "breaker_cooldown_s", where, default=30.0)
    assert timeout_s is not None and cooldown_s is not None  # defaults are numbers
    return ProviderLimits(
        concurrency=read_int(table, "concurrency", where, default=4, minimum=1),
        rpm=read_int(table, "rpm", where, default=60, minimum=1),
        timeout_s=timeout_s,
        daily_budget_usd=read_number(table, "daily_budget_usd", where, default=None),
        breaker_failures=read_int(table, "breaker_failures", where, default=5, minimum=1),
        breaker_cooldown_s=cooldown_s,
    )


def read_routes(
    tables: Mapping[str, Any], names: set[str], default_chain: tuple[str, ...]
) -> dict[Task, Route]:
    """Each `[llm.routes.TASK]` table; listed chains always end with the embedded engine."""
    routes: dict[Task, Route] = {}
    for task_name, raw in tables.items():
        where = f"llm.routes.{task_name}"
        try:
            task = Task(task_name)
        except ValueError:
            known = ", ".join(t.value for t in Task)
            raise config_error(where, f"unknown task (expected one of {known})") from None
        table = read_table(raw, where)
        check_keys(table, _ROUTE_KEYS, where)
        chain = default_chain
        if "providers" in table:
            listed = table["providers"]
            if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
                raise config_error(f"{where}.providers", "expected a list of provider names")
            unknown = [n for n in listed if n not in names]
            if unknown:
                raise config_error(
                    f"{where}.providers", f"unknown provider(s) {', '.join(unknown)}"
                )
            chain = (*dict.fromkeys(n for n in listed if n != EMBEDDED), EMBEDDED)
        routes[task] = Route(
            providers=chain,
            local_only=read_bool(table, "local_only", where, default=task in LOCAL_ONLY_BY_DEFAULT),
            timeout_s=read_number(table, "timeout_s", where, default=None, positive=True),
        )
    return routes
