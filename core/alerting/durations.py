"""Durations as people type them: `30m`, `2h`, `1d`, `1h30m`.

>>> parse_duration("1h30m")
datetime.timedelta(seconds=5400)
>>> parse_duration("2 hours")
Traceback (most recent call last):
core.errors.InvalidInputError: Give a duration like 30m, 2h or 1d (up to 30d).
"""

from __future__ import annotations

import re
from datetime import timedelta

from core.errors import InvalidInputError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LONGEST = timedelta(days=30)
_PART = re.compile(r"(\d{1,6})([smhdw])")
_WHOLE = re.compile(r"(?:\d{1,6}[smhdw])+")
_HINT = "Give a duration like 30m, 2h or 1d (up to 30d)."


def parse_duration(text: str) -> timedelta:
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise InvalidInputError(_HINT)
    seconds = sum(int(n) * UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds <= 0 or seconds > LONGEST.total_seconds():
        raise InvalidInputError(_HINT)
    return timedelta(seconds=seconds)


def describe(delta: timedelta) -> str:
    """The shortest way to say it back.

    >>> describe(timedelta(minutes=90))
    '1h30m'
    """
    seconds = int(delta.total_seconds())
    parts = []
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts) or "0s"
