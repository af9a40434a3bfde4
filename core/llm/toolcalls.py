"""Checking a proposed tool call against the registry before anyone sees it.

A model may only propose a registered tool, with every required argument,
no others, and each value a string its parameter's pattern fully matches.
Arguments arrive as dicts, JSON strings, or JSON in ``` fences; all are read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.llm.contracts import extract_json
from core.llm.errors import ContractError, ToolCallError
from core.llm.types import ToolCall, ToolSpec


def read_arguments(value: Any) -> dict[str, str]:
    """Arguments as a dict of strings, from a dict, a JSON string or a fenced JSON string.

    >>> read_arguments('```json {"name": "api"}```')
    {'name': 'api'}
    >>> read_arguments({"replicas": 3, "dry_run": True})
    {'replicas': '3', 'dry_run': 'true'}
    """
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = extract_json(value)
        except ContractError:
            raise ToolCallError("tool arguments are not a JSON object") from None
    if not isinstance(value, Mapping):
        raise ToolCallError("tool arguments are not a JSON object")
    return {str(key): _as_text(key, item) for key, item in value.items()}


def _as_text(key: Any, item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return str(item)
    raise ToolCallError(f"tool argument {key!r} is not a string")


def read_tool_call(raw: Mapping[str, Any]) -> ToolCall:
    """A ToolCall from the OpenAI shape `{"function": {"name", "arguments"}}` or `{"tool", ...}`."""
    body: Mapping[str, Any] = raw
    function = raw.get("function")
    if isinstance(function, Mapping):
        body = function
    name = body.get("name", body.get("tool"))
    if not isinstance(name, str) or not name.strip():
        raise ToolCallError("tool call has no tool name")
    arguments = body.get("arguments", body.get("args", body.get("parameters")))
    return ToolCall(tool=name.strip(), arguments=read_arguments(arguments))


def validate_tool_call(
    call_or_raw: ToolCall | Mapping[str, Any] | str, registry: Sequence[ToolSpec]
) -> ToolCall:
    """The call, cleaned, if the registry allows it; ToolCallError says why not.

    >>> from core.llm.types import ToolParam
    >>> spec = ToolSpec(name="restart", params=(ToolParam(name="name", pattern="[a-z-]+"),))
    >>> validate_tool_call({"name": "restart", "arguments": '{"name": "api"}'}, [spec])
    ToolCall(tool='restart', arguments={'name': 'api'})
    >>> validate_tool_call({"tool": "restart", "arguments": {"name": "api; rm -rf /"}}, [spec])
    Traceback (most recent call last):
    ...
    core.llm.errors.ToolCallError: restart: argument 'name' does not match [a-z-]+
    """
    call = _coerce(call_or_raw)
    spec = next((tool for tool in registry if tool.name == call.tool), None)
    if spec is None:
        raise ToolCallError(f"unknown tool {call.tool!r}")
    declared = {param.name: param for param in spec.params}
    unknown = sorted(set(call.arguments) - set(declared))
    if unknown:
        raise ToolCallError(f"{spec.name}: unknown argument(s) {', '.join(unknown)}")
    for param in spec.params:
        value = call.arguments.get(param.name)
        if value is None:
            if param.required:
                raise ToolCallError(f"{spec.name}: missing argument {param.name!r}")
            continue
        if not _matches(param.pattern, value):
            raise ToolCallError(
                f"{spec.name}: argument {param.name!r} does not match {param.pattern}"
            )
    return call


def _coerce(call_or_raw: ToolCall | Mapping[str, Any] | str) -> ToolCall:
    if isinstance(call_or_raw, ToolCall):
        return call_or_raw
    if isinstance(call_or_raw, str):
        try:
            call_or_raw = extract_json(call_or_raw)
        except ContractError:
            raise ToolCallError("tool call is not a JSON object") from None
    return read_tool_call(call_or_raw)


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        # a broken pattern in the registry allows nothing
        return False


def tool_calls_in(value: Any) -> list[tuple[str, ToolCall]]:
    """Every ToolCall field of a contract value, with its field name, for validation."""
    found: list[tuple[str, ToolCall]] = []
    fields = getattr(type(value), "model_fields", {})
    for name in fields:
        item = getattr(value, name, None)
        if isinstance(item, ToolCall):
            found.append((name, item))
    return found
