"""The executor: checked arguments, argv never via a shell, timeouts, trimmed redacted output."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core.actions import (
    ActionRegistry,
    ActionStatus,
    Executor,
    ProcessOutcome,
    SubprocessRunner,
)
from core.redact import REDACTED, Redactor

PRINT_ARGV = "import json, sys; print(json.dumps(sys.argv[1:]))"


class RecordingRunner:
    """A fake runner: records every argv it is asked to run and answers as told."""

    def __init__(self, outcome: ProcessOutcome | None = None) -> None:
        self.calls: list[list[str]] = []
        self._outcome = outcome or ProcessOutcome(0, stdout=b"ok\n")

    async def run(self, argv: Sequence[str], *, timeout_s: float) -> ProcessOutcome:
        self.calls.append(list(argv))
        return self._outcome


def registry(*tables: dict[str, Any]) -> ActionRegistry:
    return ActionRegistry.from_config({"actions": list(tables)})


RESTART = {
    "name": "restart_deployment",
    "description": "Rolling restart",
    "command": ["kubectl", "rollout", "restart", "deployment/{name}", "-n", "{namespace}"],
    "params": {"name": "^[a-z0-9-]{1,63}$", "namespace": "^[a-z0-9-]{1,63}$"},
    "timeout_s": 60,
}
ECHO_ARGV = {
    "name": "echo_argv",
    "description": "Prints its arguments as JSON",
    "command": [sys.executable, "-c", PRINT_ARGV, "--value", "{value}", "at={value}"],
    "params": {"value": r"(?s).*"},
    "timeout_s": 30,
}


def executor(runner: Any, *tables: dict[str, Any], secrets: Sequence[str] = ()) -> Executor:
    return Executor(registry(*tables), runner, redactor=Redactor(secrets))


async def test_a_good_call_builds_one_element_per_argument() -> None:
    runner = RecordingRunner()
    result = await executor(runner, RESTART).execute(
        "restart_deployment", {"name": "api", "namespace": "prod"}
    )
    assert runner.calls == [["kubectl", "rollout", "restart", "deployment/api", "-n", "prod"]]
    assert result.status is ActionStatus.SUCCEEDED
    assert result.stdout == "ok" and result.exit_code == 0


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"name": "api; rm -rf /", "namespace": "prod"},
         "argument name: 'api; rm -rf /' does not match ^[a-z0-9-]{1,63}$"),
        ({"name": "api\n", "namespace": "prod"},
         "argument name: 'api\\n' does not match ^[a-z0-9-]{1,63}$"),
        ({"name": "API", "namespace": "prod"},
         "argument name: 'API' does not match ^[a-z0-9-]{1,63}$"),
        ({"name": "api"}, "argument namespace: missing"),
        ({"name": "api", "namespace": "prod", "context": "x"},
         "argument 'context' is not a parameter of this action"),
        ({"name": ["api"], "namespace": "prod"}, "argument name: expected text, got list"),
        ({"name": True, "namespace": "prod"}, "argument name: expected text, got bool"),
    ],
)  # fmt: skip
async def test_a_bad_argument_is_refused_and_nothing_runs(
    arguments: dict[str, Any], reason: str
) -> None:
    runner = RecordingRunner()
    result = await executor(runner, RESTART).execute("restart_deployment", arguments)
    assert (result.status, result.reason, result.argv) == (ActionStatus.REFUSED, reason, ())
    assert runner.calls == []
    assert not result.ran


async def test_an_unregistered_action_is_refused() -> None:
    runner = RecordingRunner()
    result = await executor(runner, RESTART).execute("rm", {"path": "/"})
    assert (result.status, result.reason) == (
        ActionStatus.REFUSED,
        "no registered action has this name",
    )
    assert runner.calls == []


async def test_a_nul_byte_is_refused_even_when_the_pattern_allows_it() -> None:
    runner = RecordingRunner()
    result = await executor(runner, ECHO_ARGV).execute("echo_argv", {"value": "a\x00b"})
    assert (result.status, result.reason) == (
        ActionStatus.REFUSED,
        "argument value: contains a NUL byte",
    )
    assert runner.calls == []


async def test_a_refusal_reason_is_redacted() -> None:
    runner = RecordingRunner()
    result = await executor(runner, RESTART).execute(
        "restart_deployment", {"name": "Bearer abc.def", "namespace": "prod"}
    )
    assert "abc.def" not in result.reason
    assert result.reason == f"argument name: 'Bearer {REDACTED}' does not match ^[a-z0-9-]{{1,63}}$"


async def test_a_dry_run_uses_its_own_command() -> None:
    runner = RecordingRunner()
    table = {**RESTART, "dry_run_command": ["kubectl", "get", "deployment/{name}"]}
    await executor(runner, table).execute(
        "restart_deployment", {"name": "api", "namespace": "prod"}, dry_run=True
    )
    assert runner.calls == [["kubectl", "get", "deployment/api"]]


async def test_no_dry_run_command_is_refused() -> None:
    runner = RecordingRunner()
    result = await executor(runner, RESTART).execute(
        "restart_deployment", {"name": "api", "namespace": "prod"}, dry_run=True
    )
    assert (result.status, result.reason) == (
        ActionStatus.REFUSED,
        "this action has no dry_run_command",
    )
    assert runner.calls == []


@pytest.mark.parametrize(
    ("outcome", "status", "reason"),
    [
        (ProcessOutcome(3, stderr=b"boom\n"), ActionStatus.FAILED, "exited with status 3"),
        (ProcessOutcome(None, timed_out=True), ActionStatus.TIMED_OUT, "killed after 60s"),
        (ProcessOutcome(None, error="cannot start 'kubectl': No such file or directory"),
         ActionStatus.FAILED, "cannot start 'kubectl': No such file or directory"),
    ],
)  # fmt: skip
async def test_how_a_process_ended_is_a_status(
    outcome: ProcessOutcome, status: ActionStatus, reason: str
) -> None:
    result = await executor(RecordingRunner(outcome), RESTART).execute(
        "restart_deployment", {"name": "api", "namespace": "prod"}
    )
    assert (result.status, result.reason) == (status, reason)


async def test_output_is_redacted_then_trimmed_to_its_last_lines() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + "QUJD" * 16 + "\n-----END RSA PRIVATE KEY-----"
    noisy = "\n".join(f"line {n}" for n in range(100))
    stdout = f"{noisy}\npassword=hunter2 and s3cret-given\n{key}\n".encode()
    runner = RecordingRunner(ProcessOutcome(0, stdout=stdout))
    result = await executor(runner, RESTART, secrets=["s3cret-given"]).execute(
        "restart_deployment", {"name": "api", "namespace": "prod"}
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "…" and lines[-1] == REDACTED
    assert lines[-2] == f"password={REDACTED} and {REDACTED}"
    assert len(lines) == 21 and lines[1] == "line 82"
    for secret in ("hunter2", "s3cret-given", "QUJD"):
        assert secret not in result.stdout


# --- real processes -----------------------------------------------------------------------

SMUGGLED = [
    "; rm -rf /",
    "$(id)",
    "`id`",
    "a\nb",
    "x && touch /tmp/howl-pwned",
    "| cat /etc/passwd",
    "' \" \\ * ? ~ {namespace} %s",
    "--help",
    "  spaces  around  ",
    "",
]


@pytest.mark.parametrize("value", SMUGGLED)
async def test_shell_metacharacters_reach_argv_literally_as_one_element(value: str) -> None:
    result = await executor(SubprocessRunner(), ECHO_ARGV).execute("echo_argv", {"value": value})
    assert result.status is ActionStatus.SUCCEEDED, result
    assert json.loads(result.stdout) == ["--value", value, f"at={value}"]


async def test_a_refused_argument_runs_no_real_process(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    table = {
        "name": "touch_marker",
        "description": "Creates a file",
        "command": [sys.executable, "-c", "import sys; open(sys.argv[1], 'w')", "{path}"],
        "params": {"path": "^/tmp/[a-z]+$"},
        "timeout_s": 30,
    }
    run = executor(SubprocessRunner(), table)
    refused = await run.execute("touch_marker", {"path": str(marker)})
    assert refused.status is ActionStatus.REFUSED
    assert not marker.exists()
    # the same action with a value its pattern accepts does run: the refusal was the check
    allowed = tmp_path / "allowed"
    table["params"] = {"path": f"^{tmp_path}/[a-z]+$"}
    assert (await executor(SubprocessRunner(), table).execute(
        "touch_marker", {"path": str(allowed)}
    )).status is ActionStatus.SUCCEEDED  # fmt: skip
    assert allowed.exists()


async def test_a_real_failure_keeps_its_exit_code_and_stderr() -> None:
    table = {
        "name": "fail",
        "description": "Fails",
        "command": [sys.executable, "-c", "import sys; sys.exit('broken: ' + sys.argv[1])", "{x}"],
        "params": {"x": "^[a-z]+$"},
        "timeout_s": 30,
    }
    result = await executor(SubprocessRunner(), table).execute("fail", {"x": "disk"})
    assert (result.status, result.exit_code, result.stderr) == (
        ActionStatus.FAILED,
        1,
        "broken: disk",
    )


async def test_a_binary_gone_since_start_up_is_a_failure_not_an_exception() -> None:
    table = {"name": "gone", "description": "x", "command": ["/nonexistent/tool"], "timeout_s": 5}
    result = await executor(SubprocessRunner(), table).execute("gone", {})
    assert result.status is ActionStatus.FAILED
    assert result.reason == "cannot start '/nonexistent/tool': No such file or directory"


async def test_a_timeout_kills_a_real_sleep() -> None:
    table = {
        "name": "wait",
        "description": "Sleeps",
        "command": ["sleep", "{seconds}"],
        "params": {"seconds": "^[0-9]+$"},
        "timeout_s": 0.2,
    }
    result = await executor(SubprocessRunner(), table).execute("wait", {"seconds": "30"})
    assert (result.status, result.reason, result.exit_code) == (
        ActionStatus.TIMED_OUT,
        "killed after 0.2s",
        None,
    )


GROUP_SCRIPT = """
import os, subprocess, sys, time
# the child holds no pipe of ours, so only the group kill can end it before its 30 s
child = subprocess.Popen(["sleep", "30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.getpid()} {child.pid}")
print("started", flush=True)
time.sleep(30)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in {"Z", "X"}


async def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "group.py"
    script.write_text(GROUP_SCRIPT)
    table = {
        "name": "hang",
        "description": "Hangs with a child",
        "command": [sys.executable, str(script), "{pidfile}"],
        "params": {"pidfile": ".+"},
        "timeout_s": 5,  # room for a slow interpreter start on a busy machine
    }
    result = await executor(SubprocessRunner(), table).execute("hang", {"pidfile": str(pids)})
    assert result.status is ActionStatus.TIMED_OUT
    assert result.stdout == "started"  # what it said before the kill is kept
    parent, child = (int(pid) for pid in pids.read_text().split())
    try:
        with pytest.raises(ProcessLookupError):
            os.kill(parent, 0)  # reaped, not a zombie
        for _ in range(500):  # SIGKILL is delivered at once; dying takes the kernel a moment
            if not _alive(child):
                break
            await asyncio.sleep(0.01)
        assert not _alive(child)
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
