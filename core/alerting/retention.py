"""How long alert history is kept: `[incidents] keep_alerts = "30d"` in HOWL_CONFIG.

Alert history (every alert event, and the last state of alerts that ended) of
an incident resolved longer ago than that is removed by a daily job; the
incident itself, with its title, severity, counts and audit trail, stays. An
open incident's alerts are never removed.

>>> keep_alerts({"incidents": {"keep_alerts": "90d"}})
datetime.timedelta(days=90)
>>> keep_alerts({})
datetime.timedelta(days=30)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.alerting.durations import parse_duration
from core.errors import ConfigError, InvalidInputError

DEFAULT_KEEP = timedelta(days=30)
#: ten years: longer is a typo, not a policy
LONGEST_KEEP = timedelta(days=3650)


@dataclass(frozen=True)
class Pruned:
    """Rows one retention run removed."""

    alerts: int = 0
    states: int = 0


def keep_alerts(config: Mapping[str, Any]) -> timedelta:
    """The configured retention; a bad value is a ConfigError naming the key."""
    section = config.get("incidents", {})
    if not isinstance(section, Mapping):
        raise ConfigError("HOWL_CONFIG [incidents]: expected a table")
    value = section.get("keep_alerts")
    if value is None:
        return DEFAULT_KEEP
    if not isinstance(value, str):
        raise ConfigError('HOWL_CONFIG [incidents] keep_alerts: expected a duration like "30d"')
    try:
        return parse_duration(value, longest=LONGEST_KEEP)
    except InvalidInputError as exc:
        raise ConfigError(f"HOWL_CONFIG [incidents] keep_alerts: {exc}") from None
