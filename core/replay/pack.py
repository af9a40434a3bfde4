"""Request packs: sanitized incidents, one JSON line each, replayed against a model offline.

A pack is refused whole when any line is wrong, so a run never mixes checked
and unchecked requests. Above all a pack must not leak the answer: no
self-grading field (expected action, labels, scores) may appear anywhere the
model would read it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidInputError
from core.llm.schemas import SELF_GRADING_FIELDS
from core.llm.types import ChatMessage, ChatRequest, Task, ToolParam, ToolSpec

SCHEMA_VERSION = "howl.replay.request.v1"
KNOWN_VARIANTS = frozenset({"baseline", "terse", "evidence_first"})
REQUIRED_FIELDS = (
    "schema_version",
    "run_id",
    "incident_id",
    "candidate_id",
    "system_prompt",
    "user_prompt",
    "incident_context",
    "source_metadata",
    "response_contract",
    "metadata",
)
#: flags a pack must set to show it is request-only and not evidence of a replacement model
REQUIRED_FLAGS = ("request_only", "not_replacement_evidence")

# a self-grading key inside JSON embedded in prompt prose: "score": ...
_GRADING_KEY_IN_TEXT = re.compile(
    r"[\"'](" + "|".join(sorted(map(re.escape, SELF_GRADING_FIELDS))) + r")[\"']\s*:",
    re.IGNORECASE,
)


class ReplayPackError(InvalidInputError):
    """A pack with bad lines; `problems` holds one "line N: reason" per problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.problems = problems
        header = f"{path}: refusing the whole pack, {len(problems)} bad line(s)"
        super().__init__("\n".join([header, *problems]))


class ReplayRequest(BaseModel):
    """One request of a pack, checked."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    incident_id: str
    candidate_id: str
    system_prompt: str
    user_prompt: str
    incident_context: dict[str, Any]
    source_metadata: dict[str, Any] = Field(default_factory=dict)
    response_contract: Task
    candidate_variant_id: str | None = None
    line: int = 0

    def tools(self) -> list[ToolSpec]:
        """The registry the incident was seen with: `incident_context["tools"]`."""
        specs = []
        for tool in self.incident_context.get("tools") or []:
            params = tuple(
                ToolParam(name=str(name), pattern=str(pattern))
                for name, pattern in (tool.get("params") or {}).items()
            )
            specs.append(
                ToolSpec(
                    name=str(tool["name"]),
                    description=str(tool.get("description", "")),
                    params=params,
                    destructive=tool.get("destructive") is True,
                )
            )
        return specs

    def to_chat_request(self) -> ChatRequest:
        """What the model is asked: the prompts, the registry as tools, the context for rules."""
        context = {k: v for k, v in self.incident_context.items() if k != "tools"}
        return ChatRequest(
            task=self.response_contract,
            messages=[
                ChatMessage(role="system", content=self.system_prompt),
                ChatMessage(role="user", content=self.user_prompt),
            ],
            json_mode=True,
            tools=self.tools(),
            context=context,
        )


def grading_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of self-grading keys at any depth.

    >>> grading_paths({"a": [{"score": 1}], "label": "x", "labels": {}})
    ['a[0].score', 'label']
    """
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in SELF_GRADING_FIELDS:
                found.append(here)
            found.extend(grading_paths(item, here))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(grading_paths(item, f"{path}[{index}]"))
    return found


def _grading_in_prompt(text: str) -> list[str]:
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    found = grading_paths(parsed) if isinstance(parsed, dict | list) else []
    found.extend(m.group(1) for m in _GRADING_KEY_IN_TEXT.finditer(text))
    return sorted(set(found))


def _problems(raw: dict[str, Any]) -> list[str]:
    """Every reason this line cannot be replayed (empty when it can)."""
    missing = [name for name in REQUIRED_FIELDS if name not in raw]
    if missing:
        return [f"missing field(s) {', '.join(missing)}"]
    problems: list[str] = []
    if raw["schema_version"] != SCHEMA_VERSION:
        problems.append(f"schema_version {raw['schema_version']!r}, expected {SCHEMA_VERSION!r}")
    for name in ("run_id", "incident_id", "candidate_id", "system_prompt", "user_prompt"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            problems.append(f"{name} must be a non-empty string")
    for name in ("incident_context", "source_metadata", "metadata"):
        if not isinstance(raw[name], dict):
            problems.append(f"{name} must be an object")
    if problems:
        return problems
    if raw["response_contract"] not in {task.value for task in Task}:
        problems.append(f"unknown response_contract {raw['response_contract']!r}")
    metadata = raw["metadata"]
    for flag in REQUIRED_FLAGS:
        if metadata.get(flag) is not True:
            problems.append(f"metadata.{flag} must be true")
    variant = metadata.get("candidate_variant_id")
    if variant is not None and variant not in KNOWN_VARIANTS:
        problems.append(f"unknown candidate_variant_id {variant!r}")
    for name in ("incident_context", "source_metadata"):
        for where in grading_paths(raw[name]):
            problems.append(f"self-grading field {name}.{where}")
    for name in ("system_prompt", "user_prompt"):
        for key in _grading_in_prompt(raw[name]):
            problems.append(f"self-grading field {key!r} in {name}")
    problems.extend(_tool_problems(raw["incident_context"].get("tools")))
    return problems


def _tool_problems(tools: Any) -> list[str]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        return ["incident_context.tools must be a list"]
    for index, tool in enumerate(tools):
        ok = (
            isinstance(tool, dict)
            and isinstance(tool.get("name"), str)
            and isinstance(tool.get("params", {}), dict)
        )
        if not ok:
            return [f"incident_context.tools[{index}] must be {{name, params: {{p: pattern}}}}"]
        for name, pattern in tool.get("params", {}).items():
            try:
                re.compile(str(pattern))
            except re.error:
                return [f"incident_context.tools[{index}].params.{name}: bad regex"]
    return []


def parse_line(text: str, number: int) -> tuple[ReplayRequest | None, list[str]]:
    """One pack line read and checked; problems are prefixed with its line number."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"line {number}: invalid JSON ({exc.msg})"]
    if not isinstance(raw, dict):
        return None, [f"line {number}: not a JSON object"]
    problems = _problems(raw)
    if problems:
        return None, [f"line {number}: {problem}" for problem in problems]
    request = ReplayRequest(
        run_id=raw["run_id"],
        incident_id=raw["incident_id"],
        candidate_id=raw["candidate_id"],
        system_prompt=raw["system_prompt"],
        user_prompt=raw["user_prompt"],
        incident_context=raw["incident_context"],
        source_metadata=raw["source_metadata"],
        response_contract=Task(raw["response_contract"]),
        candidate_variant_id=raw["metadata"].get("candidate_variant_id"),
        line=number,
    )
    return request, []


def load_pack(path: str | Path) -> list[ReplayRequest]:
    """Every request of the pack, or ReplayPackError naming each bad line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read request pack: {exc.strerror}") from None
    requests: list[ReplayRequest] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        request, bad = parse_line(line, number)
        problems.extend(bad)
        if request is not None:
            requests.append(request)
    if problems:
        raise ReplayPackError(str(path), problems)
    if not requests:
        raise ReplayPackError(str(path), ["line 1: the pack holds no request"])
    return requests
