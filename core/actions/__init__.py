"""Registered actions: the only commands Howl can ever run, and the executor that runs them.

`registry` reads `[[actions]]` from HOWL_CONFIG and checks it at start-up;
`executor` turns a proposed call into argv, checks it and runs it through a
`CommandRunner`; `process` is the real runner (a subprocess, never a shell).
"""

from core.actions.executor import ActionResult, ActionStatus, Executor
from core.actions.process import SubprocessRunner
from core.actions.registry import ActionRegistry, ActionSpec
from core.actions.runner import CommandRunner, ProcessOutcome

__all__ = [
    "ActionRegistry",
    "ActionResult",
    "ActionSpec",
    "ActionStatus",
    "CommandRunner",
    "Executor",
    "ProcessOutcome",
    "SubprocessRunner",
]
