"""Tool calls checked against the registry: names, required and unknown params, patterns."""

from __future__ import annotations

from typing import Any

import pytest

from core.llm.errors import ContractError, ToolCallError
from core.llm.toolcalls import read_arguments, read_tool_call, validate_tool_call
from core.llm.types import ToolCall, ToolParam, ToolSpec

REGISTRY = [
    ToolSpec(
        name="restart_deployment",
        params=(
            ToolParam(name="namespace", pattern="[a-z0-9-]{1,63}"),
            ToolParam(name="name", pattern="[a-z0-9-]{1,63}"),
            ToolParam(name="reason", pattern="[\\w ]{0,80}", required=False),
        ),
    ),
    ToolSpec(name="silence_alert", params=(ToolParam(name="minutes", pattern="[1-9][0-9]?"),)),
    ToolSpec(name="list_pods"),
]
GOOD = ToolCall(tool="restart_deployment", arguments={"namespace": "prod", "name": "api"})


@pytest.mark.parametrize(
    "raw",
    [
        GOOD,
        {"tool": "restart_deployment", "arguments": {"namespace": "prod", "name": "api"}},
        {"name": "restart_deployment", "arguments": '{"namespace": "prod", "name": "api"}'},
        {"name": "restart_deployment", "arguments": '```json {"namespace":"prod","name":"api"}```'},
        {
            "id": "call_9",
            "type": "function",
            "function": {
                "name": "restart_deployment",
                "arguments": '```json\n{"namespace": "prod", "name": "api"}\n```',
            },
        },
        '{"tool": "restart_deployment", "arguments": {"namespace": "prod", "name": "api"}}',
        '```json\n{"name": "restart_deployment", "arguments": "{\\"namespace\\": \\"prod\\",'
        ' \\"name\\": \\"api\\"}"}\n```',
    ],
    ids=[
        "toolcall",
        "dict",
        "json-args",
        "fenced-args",
        "openai-shape",
        "json-call",
        "fenced-call",
    ],
)
def test_valid_calls_in_every_shape_come_back_clean(raw: Any) -> None:
    assert validate_tool_call(raw, REGISTRY) == GOOD


def test_optional_params_may_be_given_or_left_out() -> None:
    with_reason = GOOD.model_copy(update={"arguments": {**GOOD.arguments, "reason": "stuck pod"}})
    assert validate_tool_call(with_reason, REGISTRY) == with_reason
    assert validate_tool_call(ToolCall(tool="list_pods"), REGISTRY) == ToolCall(tool="list_pods")


def test_numbers_become_strings_and_then_match_patterns() -> None:
    raw = {"name": "silence_alert", "arguments": {"minutes": 30}}
    assert validate_tool_call(raw, REGISTRY) == ToolCall(
        tool="silence_alert", arguments={"minutes": "30"}
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (ToolCall(tool="drop_database"), "unknown tool 'drop_database'"),
        (
            ToolCall(tool="restart_deployment", arguments={"namespace": "prod"}),
            "restart_deployment: missing argument 'name'",
        ),
        (
            ToolCall(
                tool="restart_deployment",
                arguments={"namespace": "prod", "name": "api", "force": "true"},
            ),
            "restart_deployment: unknown argument(s) force",
        ),
        (
            ToolCall(tool="restart_deployment", arguments={"namespace": "prod", "name": "api; ls"}),
            "restart_deployment: argument 'name' does not match [a-z0-9-]{1,63}",
        ),
        (
            # fullmatch, not search: a matching prefix is not enough
            ToolCall(tool="silence_alert", arguments={"minutes": "5000"}),
            "silence_alert: argument 'minutes' does not match [1-9][0-9]?",
        ),
        (
            ToolCall(tool="silence_alert", arguments={"minutes": "5\n"}),
            "silence_alert: argument 'minutes' does not match [1-9][0-9]?",
        ),
        (
            {"name": "silence_alert", "arguments": "minutes=5"},
            "tool arguments are not a JSON object",
        ),
        ({"name": "silence_alert", "arguments": "[5]"}, "tool arguments are not a JSON object"),
        (
            {"name": "silence_alert", "arguments": {"minutes": [5]}},
            "tool argument 'minutes' is not a string",
        ),
        ({"arguments": {}}, "tool call has no tool name"),
        ("restart api please", "tool call is not a JSON object"),
    ],
)
def test_invalid_calls_are_refused_with_a_reason(raw: Any, message: str) -> None:
    with pytest.raises(ToolCallError) as caught:
        validate_tool_call(raw, REGISTRY)
    assert str(caught.value) == message
    assert isinstance(caught.value, ContractError)


def test_an_empty_registry_allows_nothing() -> None:
    with pytest.raises(ToolCallError, match="unknown tool 'restart_deployment'"):
        validate_tool_call(GOOD, [])


def test_a_broken_pattern_allows_nothing() -> None:
    registry = [ToolSpec(name="t", params=(ToolParam(name="x", pattern="(unclosed"),))]
    with pytest.raises(ToolCallError, match="argument 'x' does not match"):
        validate_tool_call(ToolCall(tool="t", arguments={"x": "(unclosed"}), registry)


def test_read_arguments_and_read_tool_call() -> None:
    assert read_arguments(None) == {}
    assert read_arguments("") == {}
    assert read_arguments({"dry_run": True}) == {"dry_run": "true"}
    assert read_tool_call({"function": {"name": " list_pods ", "arguments": "{}"}}) == ToolCall(
        tool="list_pods"
    )
