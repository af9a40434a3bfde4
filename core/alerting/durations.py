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


def parse_duration(text: str, *, longest: timedelta = LONGEST) -> timedelta:
    """A positive duration no longer than `longest` (the hint names that bound).

    >>> parse_duration("90d", longest=timedelta(days=3650))
    datetime.timedelta(days=90)
    """
    hint = _HINT if longest == LONGEST else _HINT.replace("30d", describe(longest))
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise InvalidInputError(hint)
    seconds = sum(int(n) * UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds <= 0 or seconds > longest.total_seconds():
        raise InvalidInputError(hint)
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
