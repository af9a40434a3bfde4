"""Reading a model's answer into the task's contract, asking once for a repair, falling back.

Small models wrap JSON in fences or prose, invent keys, and grade themselves.
These functions accept the first two, refuse the last, and give every task a
typed value that is safe to act on when nothing valid came back.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from itertools import chain
from typing import Any

from pydantic import BaseModel, ValidationError

from core.llm.errors import ContractError
from core.llm.schemas import (
    SELF_GRADING_FIELDS,
    TASK_SCHEMAS,
    ChatAnswer,
    Critique,
    DecisionDraft,
    Diagnosis,
    DriftReading,
    Hypothesis,
    Proposal,
    Review,
    RiskLevel,
    RunbookDraft,
    ToolChoice,
)
from core.llm.types import ChatMessage, ChatRequest, Task

#: the most of a bad answer sent back in a repair request
REPAIR_EXCERPT_CHARS = 800


def extract_json(text: str) -> dict[str, Any]:
    """The JSON object in `text`: bare, in a ``` fence, or embedded in prose.

    >>> extract_json('{"a": 1}')
    {'a': 1}
    >>> extract_json('Sure!\\n```json\\n{"a": "x}"}\\n```')
    {'a': 'x}'}
    >>> extract_json('I think {"a": {"b": 2}} is right')
    {'a': {'b': 2}}
    """
    stripped = text.strip()
    if not stripped:
        raise ContractError("empty answer: expected one JSON object")
    # cheapest first; the brace scan runs only if nothing simpler parsed
    candidates = chain([stripped], _fenced_blocks(stripped), _balanced_objects(stripped))
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ContractError("no JSON object found in the answer")


def _fenced_blocks(text: str) -> list[str]:
    """Bodies of ``` fences, with an optional language tag dropped."""
    parts = text.split("```")
    blocks = []
    # odd-numbered parts sit between an opening and a closing fence
    for body in parts[1::2]:
        first, _, rest = body.partition("\n")
        tag = first.strip().lower()
        if tag in {"", "json", "json5", "javascript", "js"}:
            blocks.append(rest if rest else first)
        else:
            blocks.append(body)
        # "```json {...}```" on one line: the tag is glued to the object
        if tag.startswith("json") and first.strip()[4:].lstrip().startswith("{"):
            blocks.append(first.strip()[4:])
    return [block.strip() for block in blocks]


def _balanced_objects(text: str, *, max_starts: int = 200) -> Iterator[str]:
    """`{...}` spans from each opening brace to its match, skipping braces inside strings.

    Every `{` is tried as a start, so a stray brace in prose does not hide a later object.
    """
    starts = 0
    for start, char in enumerate(text):
        if char != "{":
            continue
        starts += 1
        if starts > max_starts:  # bound the work on pathological text
            return
        end = _matching_brace(text, start)
        if end is not None:
            yield text[start : end + 1]


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def find_self_grading(obj: Any, *, allowed: Collection[str] = (), _path: str = "") -> list[str]:
    """Dotted paths of keys a model may not set about itself, at any depth.

    `allowed` names paths the contract itself declares (a runbook's `verification` steps).

    >>> find_self_grading({"summary": "x", "hypotheses": [{"cause": "c", "score": 0.9}]})
    ['hypotheses.0.score']
    """
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{_path}.{key}" if _path else str(key)
            if str(key).lower() in SELF_GRADING_FIELDS and path not in allowed:
                found.append(path)
            found.extend(find_self_grading(value, allowed=allowed, _path=path))
    elif isinstance(obj, list):
        for index, item in enumerate(obj):
            path = f"{_path}.{index}" if _path else str(index)
            found.extend(find_self_grading(item, allowed=allowed, _path=path))
    return found


def _declared_grading_fields(schema: type[BaseModel]) -> frozenset[str]:
    # a contract field that happens to share a name with a grading key is the contract's
    return frozenset(schema.model_fields) & SELF_GRADING_FIELDS


def parse_answer(task: Task, text: str) -> BaseModel:
    """The task's contract read from a model's text; ContractError says what is wrong."""
    schema = TASK_SCHEMAS[task]
    obj = extract_json(text)
    graded = find_self_grading(obj, allowed=_declared_grading_fields(schema))
    if graded:
        raise ContractError(f"self-grading fields are not allowed: {', '.join(graded[:5])}")
    try:
        return schema.model_validate(obj)
    except ValidationError as exc:
        raise ContractError(f"{schema.__name__}: {_first_problems(exc)}") from None


def _first_problems(exc: ValidationError, limit: int = 3) -> str:
    problems = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "answer"
        problems.append(f"{where}: {error['msg']}")
    more = exc.error_count() - limit
    return "; ".join(problems) + (f" (+{more} more)" if more > 0 else "")


def contract_hint(task: Task) -> str:
    """The keys the task's contract expects, marked required or optional, for prompts."""
    schema = TASK_SCHEMAS[task]
    keys = [
        f"{name}{'' if field.is_required() else '?'}" for name, field in schema.model_fields.items()
    ]
    return f"{schema.__name__} {{{', '.join(keys)}}}"


def repair_messages(request: ChatRequest, bad_text: str, error: str) -> list[ChatMessage]:
    """The original conversation plus one message naming the error and quoting the bad answer."""
    excerpt = bad_text.strip()
    if len(excerpt) > REPAIR_EXCERPT_CHARS:
        excerpt = excerpt[: REPAIR_EXCERPT_CHARS - 3] + "..."
    repair = (
        f"Your previous answer was invalid: {error}\n"
        f"It began:\n{excerpt}\n"
        f"Answer again with exactly one JSON object of the form {contract_hint(request.task)}, "
        "no prose and no fences. Do not include grading fields such as score or verified."
    )
    return [*request.messages, ChatMessage(role="user", content=repair)]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def safe_fallback(task: Task, reason: str) -> BaseModel:
    """The task's most conservative valid answer: high risk, a human decides, nothing done."""
    why = _clip(f"no valid model answer: {reason}" if reason else "no valid model answer", 500)
    high = RiskLevel.HIGH
    fallbacks: dict[Task, BaseModel] = {
        Task.DIAGNOSE: Diagnosis(
            summary=why,
            hypotheses=[Hypothesis(cause="unknown: no model diagnosis", confidence=0.0)],
            missing_evidence=[why],
        ),
        Task.SOLVE: Proposal(action=None, rationale=why, risk_level=high),
        Task.REVIEW: Review(verdict="reject", concerns=[why], risk_level=high),
        Task.CRITIQUE: Critique(objections=[why], worst_case="unknown", risk_level=high),
        Task.COORDINATE: DecisionDraft(
            recommended_action=None,
            risk_level=high,
            requires_human_approval=True,
            confidence=0.0,
            diagnosis="unknown: no model answer",
            summary=why,
            why_human=why,
            blocked_reason=reason or why,
        ),
        Task.CHAT: ChatAnswer(answer=f"I could not get a valid answer from the model ({why})."),
        Task.TOOL_CALL: ToolChoice(call=None, reason=why),
        Task.RUNBOOK: RunbookDraft(
            title="No runbook drafted",
            symptoms=[why],
            steps=["Write this runbook by hand: the model gave no valid draft."],
        ),
        Task.DRIFT_INTERPRET: DriftReading(
            intent="unknown", level=high, explanation=why, recommendation="investigate"
        ),
    }
    return fallbacks[task]
