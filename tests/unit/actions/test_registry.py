"""The registry: every mistake in an `[[actions]]` table is one line naming action and field."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from core.actions import ActionRegistry
from core.errors import ConfigError

GOOD: dict[str, Any] = {
    "name": "restart_deployment",
    "description": "Rolling restart of a deployment",
    "command": ["kubectl", "rollout", "restart", "deployment/{name}", "-n", "{namespace}"],
    "params": {"name": "^[a-z0-9-]{1,63}$", "namespace": "^[a-z0-9-]{1,63}$"},
    "destructive": True,
    "timeout_s": 60,
}


def table(**changes: Any) -> dict[str, Any]:
    merged = {**GOOD, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def test_the_contract_example_parses() -> None:
    registry = ActionRegistry.from_config({"actions": [GOOD]})
    spec = registry.get("restart_deployment")
    assert spec is not None
    assert spec.command[3] == "deployment/{name}"
    assert spec.destructive is True and spec.timeout_s == 60
    assert len(registry) == 1 and registry.get("nothing") is None


def test_no_actions_is_an_empty_registry() -> None:
    assert len(ActionRegistry.from_config({})) == 0


P = "HOWL_CONFIG [[actions]] restart_deployment"


@pytest.mark.parametrize(
    ("tables", "expected"),
    [
        ([table(params={"name": "^[a-z", "namespace": "x"})],
         f"{P}: params: name: bad regex '^[a-z': unterminated character set at position 1"),
        ([table(params={"name": "x"})], f"{P}: params: placeholder {{namespace}} has no pattern"),
        ([table(params={**GOOD["params"], "replicas": "^[0-9]+$"})],
         f"{P}: params: pattern for 'replicas' is never used in command"),
        ([GOOD, GOOD], f"{P}: name defined twice"),
        ([table(command="kubectl rollout restart deployment/{name} -n {namespace}")],
         f"{P}: command: expected a non-empty list of strings (argv), never one shell string"),
        ([table(command=[])],
         f"{P}: command: expected a non-empty list of strings (argv), never one shell string"),
        ([table(command=["kubectl", 3])],
         f"{P}: command: expected a non-empty list of strings (argv), never one shell string"),
        ([table(command=["{name}", "{namespace}"])],
         f"{P}: command: the first element must name the binary, with no placeholder"),
        ([table(dry_run_command=["kubectl", "{replicas}"])],
         f"{P}: params: placeholder {{replicas}} has no pattern"),
        ([table(destructive="yes")], f"{P}: destructive: Input should be a valid boolean"),
        ([table(timeout_s=0)], f"{P}: timeout_s: Input should be greater than 0"),
        ([table(destrutive=True)], f"{P}: destrutive: Extra inputs are not permitted"),
        ([table(description=None)], f"{P}: description: Field required"),
        ([table(name="rm -rf")],
         "HOWL_CONFIG [[actions]] rm -rf: name: String should match pattern "
         "'^[A-Za-z][A-Za-z0-9_-]{0,63}$'"),
        ([table(name=None)], "HOWL_CONFIG [[actions]] #1: name: Field required"),
        ([GOOD, table(name=None)], "HOWL_CONFIG [[actions]] #2: name: Field required"),
    ],
)  # fmt: skip
def test_a_bad_table_is_one_line_naming_action_and_field(
    tables: list[dict[str, Any]], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        ActionRegistry.from_config({"actions": tables})
    assert str(caught.value) == expected


@pytest.mark.parametrize("actions", [{"name": "x"}, "restart", [1]])
def test_actions_must_be_tables(actions: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        ActionRegistry.from_config({"actions": actions})
    assert str(caught.value) == "HOWL_CONFIG actions: expected [[actions]] tables"


def test_a_missing_binary_is_named(tmp_path: Path) -> None:
    registry = ActionRegistry.from_config(
        {"actions": [table(command=["no-such-kubectl-x"], params={})]}
    )
    with pytest.raises(ConfigError) as caught:
        registry.check_binaries()
    assert str(caught.value) == f"{P}: binary 'no-such-kubectl-x' not found on PATH"


def test_an_absolute_path_must_be_an_executable_file(tmp_path: Path) -> None:
    script = tmp_path / "tool"
    script.write_text("#!/bin/sh\n")
    registry = ActionRegistry.from_config({"actions": [table(command=[str(script)], params={})]})
    with pytest.raises(ConfigError) as caught:
        registry.check_binaries()
    assert str(caught.value) == f"{P}: binary '{script}' is not an executable file"
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    registry.check_binaries()


def test_a_missing_dry_run_binary_is_named() -> None:
    spec = table(command=["sh"], params={}, dry_run_command=["/nonexistent/dry"])
    with pytest.raises(ConfigError) as caught:
        ActionRegistry.from_config({"actions": [spec]}).check_binaries()
    assert str(caught.value) == f"{P}: binary '/nonexistent/dry' is not an executable file"
