"""The executor: a proposed call becomes argv, is checked, runs, and comes back as a value.

Nothing here raises for a bad call or a failing command: the result carries a
status (the holmesgpt style), so the approval flow records and shows it as it is.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from core.actions.registry import PLACEHOLDER, ActionRegistry, ActionSpec
from core.actions.runner import CommandRunner, ProcessOutcome
from core.redact import Redactor

#: what of each output stream is kept for the card and the record
TAIL_LINES = 20
TAIL_CHARS = 3000


class ActionStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    REFUSED = "refused"  # never started: unknown action or an argument that fails its check


@dataclass(frozen=True)
class ActionResult:
    """What became of one call; `argv` is empty when nothing ran."""

    action: str
    status: ActionStatus
    reason: str = ""
    argv: tuple[str, ...] = ()
    exit_code: int | None = None
    duration_s: float = 0.0
    stdout: str = ""
    stderr: str = ""

    @property
    def ran(self) -> bool:
        return self.status is not ActionStatus.REFUSED


class Executor:
    """Runs registered actions only, each argument checked against its pattern first."""

    def __init__(
        self, registry: ActionRegistry, runner: CommandRunner, *, redactor: Redactor
    ) -> None:
        self._registry = registry
        self._runner = runner
        self._redactor = redactor

    async def execute(
        self, name: str, arguments: Mapping[str, object], *, dry_run: bool = False
    ) -> ActionResult:
        """Run `name` with `arguments` (its dry run when asked); refused before anything runs."""
        spec = self._registry.get(name)
        if spec is None:
            return self._refused(name, "no registered action has this name")
        template = spec.dry_run_command if dry_run else spec.command
        if template is None:
            return self._refused(name, "this action has no dry_run_command")
        values, problem = checked_arguments(spec, arguments)
        if problem is not None:
            return self._refused(name, problem)
        argv = build_argv(template, values)
        started = time.monotonic()
        outcome = await self._runner.run(argv, timeout_s=spec.timeout_s)
        return self._result(spec, argv, outcome, elapsed=time.monotonic() - started)

    def _refused(self, name: str, reason: str) -> ActionResult:
        redact = self._redactor.redact
        return ActionResult(redact(name), ActionStatus.REFUSED, redact(reason))

    def _result(
        self, spec: ActionSpec, argv: list[str], outcome: ProcessOutcome, *, elapsed: float
    ) -> ActionResult:
        if outcome.timed_out:
            status, reason = ActionStatus.TIMED_OUT, f"killed after {spec.timeout_s:g}s"
        elif outcome.error is not None:
            status, reason = ActionStatus.FAILED, outcome.error
        elif outcome.exit_code == 0:
            status, reason = ActionStatus.SUCCEEDED, ""
        else:
            status, reason = ActionStatus.FAILED, f"exited with status {outcome.exit_code}"
        return ActionResult(
            spec.name,
            status,
            self._redactor.redact(reason),
            argv=tuple(self._redactor.redact(element) for element in argv),
            exit_code=outcome.exit_code,
            duration_s=outcome.duration_s or elapsed,
            stdout=self._tail(outcome.stdout),
            stderr=self._tail(outcome.stderr),
        )

    def _tail(self, raw: bytes) -> str:
        # redact before trimming: a cut could leave half a secret no pattern knows
        text = self._redactor.redact(raw.decode("utf-8", errors="replace"))
        return trim(text)


def checked_arguments(
    spec: ActionSpec, arguments: Mapping[str, object]
) -> tuple[dict[str, str], str | None]:
    """Each value as text, or the first problem: missing, unknown, wrong type, no full match."""
    unknown = sorted(str(key) for key in arguments if key not in spec.params)
    if unknown:
        return {}, f"argument {unknown[0][:40]!r} is not a parameter of this action"
    values: dict[str, str] = {}
    for param in spec.params:
        if param not in arguments:
            return {}, f"argument {param}: missing"
        value = arguments[param]
        if isinstance(value, bool) or not isinstance(value, str | int):
            return {}, f"argument {param}: expected text, got {type(value).__name__}"
        text = str(value)
        if "\x00" in text:
            return {}, f"argument {param}: contains a NUL byte"
        if spec.pattern(param).fullmatch(text) is None:
            return {}, f"argument {param}: {_shown(text)} does not match {spec.params[param]}"
        values[param] = text
    return values, None


def build_argv(template: list[str], values: Mapping[str, str]) -> list[str]:
    """One argv element per template element; a value replaces only its placeholder.

    A value is never split, never re-read for placeholders and never seen by a shell:

    >>> build_argv(["kubectl", "-n", "{ns}", "deployment/{name}"], {"ns": "a b", "name": "{ns}"})
    ['kubectl', '-n', 'a b', 'deployment/{ns}']
    """
    return [PLACEHOLDER.sub(lambda match: values[match.group(1)], element) for element in template]


def trim(text: str, *, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    """The last `lines` lines of `text`, at most `chars` characters; a cut is marked.

    >>> trim("1\\n2\\n3\\n", lines=2)
    '…\\n2\\n3'
    >>> trim("abcdef", chars=3)
    '…def'
    """
    kept = text.rstrip("\n").splitlines()
    cut = len(kept) > lines
    tail = "\n".join(kept[-lines:])
    if len(tail) > chars:
        tail, cut = tail[-chars:], True
    return ("…\n" if cut and "\n" in tail else "…" if cut else "") + tail


def _shown(value: str) -> str:
    return repr(value if len(value) <= 60 else value[:57] + "...")
