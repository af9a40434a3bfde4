"""The action registry: `[[actions]]` tables in HOWL_CONFIG, checked once at start-up.

Every mistake an operator can make in a table is one line naming the action and
the field, and a binary that is not there stops `howl run` then rather than at
3 a.m. when an approver presses the button.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import ConfigError
from core.llm.types import ToolParam, ToolSpec

#: `{name}` in a command element; nothing else in braces is a placeholder (`{.items[*]}` stays)
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders(template: Sequence[str]) -> list[str]:
    """The parameter names a command template uses, in order.

    >>> placeholders(["kubectl", "rollout", "restart", "deployment/{name}", "-n", "{namespace}"])
    ['name', 'namespace']
    >>> placeholders(["kubectl", "get", "pods", "-o", "jsonpath={.items[*].metadata.name}"])
    []
    """
    return [match.group(1) for element in template for match in PLACEHOLDER.finditer(element)]


def _argv_template(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of strings (argv), never one shell string")
    if not all(isinstance(element, str) for element in value):
        raise ValueError("expected a non-empty list of strings (argv), never one shell string")
    if not value[0] or PLACEHOLDER.search(value[0]):
        raise ValueError("the first element must name the binary, with no placeholder")
    return value


class ActionSpec(BaseModel):
    """One `[[actions]]` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    description: str = Field(min_length=1, max_length=1000)
    command: list[str]
    params: dict[str, str] = Field(default_factory=dict)
    destructive: bool = Field(default=False, strict=True)
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    dry_run_command: list[str] | None = None

    @field_validator("command", "dry_run_command", mode="before")
    @classmethod
    def _argv(cls, value: Any) -> Any:
        return None if value is None else _argv_template(value)

    @field_validator("params")
    @classmethod
    def _patterns_compile(cls, params: dict[str, str]) -> dict[str, str]:
        for param, pattern in params.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", param):
                raise ValueError(f"{param!r}: a parameter name is letters, digits and _")
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{param}: bad regex {pattern!r}: {exc}") from None
        return params

    @model_validator(mode="after")
    def _every_placeholder_has_a_pattern(self) -> ActionSpec:
        used = placeholders(self.command)
        for param in used + placeholders(self.dry_run_command or []):
            if param not in self.params:
                raise ValueError(f"params: placeholder {{{param}}} has no pattern")
        for param in self.params:
            if param not in used:
                raise ValueError(f"params: pattern for {param!r} is never used in command")
        return self

    def pattern(self, param: str) -> re.Pattern[str]:
        return re.compile(self.params[param])

    def tool(self) -> ToolSpec:
        """The action as a model sees it: a tool whose arguments must match their patterns."""
        return ToolSpec(
            name=self.name,
            description=self.description,
            params=tuple(ToolParam(name=p, pattern=rx) for p, rx in self.params.items()),
            destructive=self.destructive,
        )


class ActionRegistry:
    """The registered actions by name; nothing outside it can ever run."""

    def __init__(self, specs: Sequence[ActionSpec] = ()) -> None:
        self._specs = {spec.name: spec for spec in specs}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ActionRegistry:
        """Every `[[actions]]` table, validated; a mistake is one ConfigError line."""
        tables = config.get("actions", [])
        if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
            raise ConfigError("HOWL_CONFIG actions: expected [[actions]] tables")
        specs: list[ActionSpec] = []
        for index, table in enumerate(tables, start=1):
            spec = _parse(table, index)
            if any(known.name == spec.name for known in specs):
                raise ConfigError(f"HOWL_CONFIG [[actions]] {spec.name}: name defined twice")
            specs.append(spec)
        return cls(specs)

    def get(self, name: str) -> ActionSpec | None:
        return self._specs.get(name)

    def __iter__(self) -> Iterator[ActionSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def tools(self) -> list[ToolSpec]:
        """Every registered action as a tool the debate may propose (and nothing else)."""
        return [spec.tool() for spec in self]

    def check_binaries(self) -> None:
        """Each action's binary (and its dry run's) exists and is executable, else one line."""
        for spec in self:
            for template in (spec.command, spec.dry_run_command):
                if template is not None and (problem := missing_binary(template[0])):
                    raise ConfigError(f"HOWL_CONFIG [[actions]] {spec.name}: {problem}")


def missing_binary(binary: str) -> str | None:
    """Why `binary` cannot be run, or None when it can.

    >>> missing_binary("sh") is None
    True
    >>> missing_binary("no-such-tool-xyz")
    "binary 'no-such-tool-xyz' not found on PATH"
    >>> missing_binary("/nonexistent/kubectl")
    "binary '/nonexistent/kubectl' is not an executable file"
    """
    if os.path.dirname(binary):
        if os.path.isfile(binary) and os.access(binary, os.X_OK):
            return None
        return f"binary {binary!r} is not an executable file"
    return None if shutil.which(binary) else f"binary {binary!r} not found on PATH"


def _parse(table: Mapping[str, Any], index: int) -> ActionSpec:
    try:
        return ActionSpec.model_validate(dict(table))
    except ValidationError as exc:
        name = table.get("name")
        label = name if isinstance(name, str) and name else f"#{index}"
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        where = f"{field}: " if field and not message.startswith("params:") else ""
        raise ConfigError(f"HOWL_CONFIG [[actions]] {label}: {where}{message}") from None
