"""Which incident an alert belongs to: a key from chosen labels, like Alertmanager's `group_by`.

>>> from datetime import UTC, datetime
>>> from core.alerting.models import Alert, AlertStatus, Severity
>>> alert = Alert(fingerprint="f", status=AlertStatus.FIRING, severity=Severity.HIGH,
...     name="KubePodCrashLooping", labels={"alertname": "KubePodCrashLooping",
...     "namespace": "prod", "pod": "api-1"}, starts_at=datetime(2026, 1, 1, tzinfo=UTC),
...     source="alertmanager")
>>> Grouping().key(alert)
'alertname=KubePodCrashLooping|namespace=prod'
>>> Grouping(("alertname", "pod")).labels(alert)
{'alertname': 'KubePodCrashLooping', 'pod': 'api-1'}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from core.alerting.models import Alert
from core.errors import ConfigError

DEFAULT_GROUP_BY = ("alertname", "namespace", "service")
#: keys are stored and indexed; a longer one keeps a readable head and a hash of the rest
MAX_KEY = 240


class Grouping:
    """Builds group keys from the configured labels; `alertname` falls back to the alert's name."""

    def __init__(self, group_by: Sequence[str] = DEFAULT_GROUP_BY) -> None:
        self.group_by = tuple(group_by)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Grouping:
        """`[incidents] group_by = ["alertname", "cluster"]` in HOWL_CONFIG."""
        section = config.get("incidents", {})
        if not isinstance(section, Mapping):
            raise ConfigError("HOWL_CONFIG [incidents]: expected a table")
        group_by = section.get("group_by", DEFAULT_GROUP_BY)
        if (
            not isinstance(group_by, list | tuple)
            or not group_by
            or not all(isinstance(item, str) and item for item in group_by)
        ):
            raise ConfigError(
                "HOWL_CONFIG [incidents] group_by: expected a non-empty list of label names"
            )
        return cls(group_by)

    def labels(self, alert: Alert) -> dict[str, str]:
        """The grouping labels the alert has (missing ones are left out)."""
        found: dict[str, str] = {}
        for name in self.group_by:
            value = alert.labels.get(name) or (alert.name if name == "alertname" else None)
            if value:
                found[name] = value
        return found

    def key(self, alert: Alert) -> str:
        key = "|".join(f"{name}={value}" for name, value in self.labels(alert).items())
        if len(key) <= MAX_KEY:
            return key
        return f"{key[:200]}#{hashlib.sha256(key.encode()).hexdigest()[:32]}"
