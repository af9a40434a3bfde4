"""`[drift]` in HOWL_CONFIG: where Git's manifests are, how to read the cluster, how often.

```toml
[drift]
desired = "/srv/gitops/prod"      # a folder (or file) inside a git working tree
live_command = ["kubectl", "get", "deploy,svc,cm", "-A", "-o", "json"]   # argv, no shell
# live = "/srv/exports/prod"      # or a folder of exported objects, instead of live_command
schedule = "15m"                  # an interval, or cron: "*/15 * * * *"
ignore = ["spec.replicas", "metadata.annotations.example.com/*"]  # extra field paths
kubectl = "kubectl"               # what Roll back runs (`kubectl apply -f FILE`)
timeout_s = 60
```

Two kinds of mistakes, both one line: the table's shape (`drift_config`, a
ConfigError at start-up) and the world it names (`source_problems`: a path that
is not there, a folder outside git, a binary not found). The second are checked
at start-up and again by every scan, since a folder can vanish while Howl runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.actions.registry import missing_binary
from core.alerting.durations import parse_duration
from core.errors import ConfigError, InvalidInputError

DEFAULT_SCHEDULE = "15m"
#: a cron field: numbers, ranges, steps, lists, `*`, and month/day names
_CRON_FIELD = re.compile(
    r"^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/\d+)?)*$"
)
SHORTEST = timedelta(minutes=1)


class Schedule(BaseModel):
    """Either an interval or a five-field cron expression (UTC)."""

    model_config = ConfigDict(frozen=True)

    every: timedelta | None = None
    cron: str | None = None

    def describe(self) -> str:
        return f"every {self.every}" if self.every is not None else f"cron {self.cron!r}"


def parse_schedule(text: str) -> Schedule:
    """`15m` / `1h` or `*/15 * * * *`; ValueError with a hint otherwise.

    >>> parse_schedule("15m").every
    datetime.timedelta(seconds=900)
    >>> parse_schedule("*/15 * * * *").cron
    '*/15 * * * *'
    """
    fields = text.split()
    if len(fields) == 5:
        if not all(_CRON_FIELD.fullmatch(field) for field in fields):
            raise ValueError(f"{text!r} is not a cron expression (five fields, e.g. */15 * * * *)")
        return Schedule(cron=" ".join(fields))
    try:
        every = parse_duration(text, longest=timedelta(days=7))
    except InvalidInputError:
        raise ValueError(
            f"{text!r}: expected an interval like 15m or 1h, or cron like */15 * * * *"
        ) from None
    if every < SHORTEST:
        raise ValueError(f"{text!r}: scan at most once a minute")
    return Schedule(every=every)


class DriftConfig(BaseModel):
    """The `[drift]` table, its shape checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    desired: Path
    live_command: tuple[str, ...] | None = None
    live: Path | None = None
    schedule: Schedule = Field(default_factory=lambda: parse_schedule(DEFAULT_SCHEDULE))
    ignore: tuple[str, ...] = ()
    kubectl: str = "kubectl"
    timeout_s: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("live_command", mode="before")
    @classmethod
    def _argv(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a non-empty list of strings (argv), never one shell string")
        if not value[0]:
            raise ValueError("the first element must name the binary")
        return tuple(value)

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_schedule(value)
        if isinstance(value, Schedule):
            return value
        raise ValueError("expected a string: an interval like 15m, or cron like */15 * * * *")

    @field_validator("ignore", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError("expected a list of field paths such as spec.replicas")
        return tuple(value)

    @model_validator(mode="after")
    def _one_live_source(self) -> DriftConfig:
        if (self.live_command is None) == (self.live is None):
            raise ValueError("set exactly one of live_command (argv) or live (a folder)")
        return self


def drift_config(config: Mapping[str, Any]) -> DriftConfig | None:
    """`[drift]` of HOWL_CONFIG, or None when there is none; a mistake is one ConfigError line."""
    table = config.get("drift")
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ConfigError("HOWL_CONFIG drift: expected a [drift] table")
    try:
        return DriftConfig.model_validate(dict(table))
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"HOWL_CONFIG [drift] {field + ': ' if field else ''}{message}") from None


def repository_root(path: Path) -> Path | None:
    """The git working tree holding `path` (a `.git` folder, or file for a worktree), or None."""
    start = path.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def source_problems(config: DriftConfig) -> list[str]:
    """What in the world `[drift]` names is not as it must be, one line each (empty: fine)."""
    problems: list[str] = []
    if not config.desired.exists():
        problems.append(f"[drift] desired: no such file or folder {config.desired}")
    elif repository_root(config.desired) is None:
        problems.append(f"[drift] desired: {config.desired} is not inside a git working tree")
    if config.live_command is not None and (why := missing_binary(config.live_command[0])):
        problems.append(f"[drift] live_command: {why}")
    if config.live is not None and not config.live.is_dir():
        problems.append(f"[drift] live: no such folder {config.live}")
    return problems


def check_drift(config: Mapping[str, Any]) -> DriftConfig | None:
    """At start-up: `[drift]` parsed and its sources there, else its first problem (ConfigError)."""
    drift = drift_config(config)
    if drift is not None and (problems := source_problems(drift)):
        raise ConfigError(f"HOWL_CONFIG {problems[0]}")
    return drift
