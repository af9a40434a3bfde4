"""`[knowledge]` in HOWL_CONFIG: how long an anti-pattern blocks automatic repair.

>>> anti_pattern_window({}).days, anti_pattern_window({"knowledge": {"anti_pattern_days": 2}}).days
(7, 2)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from core.errors import ConfigError
from core.knowledge.models import DEFAULT_ANTI_PATTERN_WINDOW

#: a year: longer than that, an anti-pattern is a policy, and belongs in the registry
MAX_DAYS = 365


def anti_pattern_window(config: Mapping[str, Any]) -> timedelta:
    """`[knowledge] anti_pattern_days` (default 7; fractions allowed); one ConfigError line."""
    section = config.get("knowledge", {})
    if not isinstance(section, Mapping):
        raise ConfigError("HOWL_CONFIG [knowledge]: expected a table")
    # the table's other keys (`files`: the embedded engine's extra knowledge) are not ours
    days = section.get("anti_pattern_days")
    if days is None:
        return DEFAULT_ANTI_PATTERN_WINDOW
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days <= MAX_DAYS:
        raise ConfigError(
            f"HOWL_CONFIG [knowledge] anti_pattern_days: expected a number of days "
            f"above 0 and at most {MAX_DAYS}"
        )
    return timedelta(days=days)
