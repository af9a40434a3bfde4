"""The embedded engine: a Provider that answers every task from on-call knowledge, offline.

It is the default when no LLM is configured and the last link of every
fallback chain, so it must always answer, always validly, and the same way
for the same request.
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel

from core.llm.embedded import answers
from core.llm.embedded.answers import Case
from core.llm.embedded.chat import chat, chat_tool_call
from core.llm.embedded.drift import interpret
from core.llm.embedded.incident import read_incident
from core.llm.embedded.knowledge import Knowledge
from core.llm.embedded.loader import builtin_knowledge
from core.llm.embedded.matching import match_family
from core.llm.schemas import SELF_GRADING_FIELDS
from core.llm.types import ChatRequest, ChatResponse, Task, ToolCall, Usage

MODEL_NAME = "howl-rules-v1"
#: keys under which tool arguments live; their names come from the registry, not the model
_ARGUMENT_KEYS = frozenset({"arguments"})


def _without_grading(value: Any) -> Any:
    """Drop self-grading keys at any depth (a runbook's `verification` included)."""
    if isinstance(value, dict):
        return {
            k: (v if k in _ARGUMENT_KEYS else _without_grading(v))
            for k, v in value.items()
            if k not in SELF_GRADING_FIELDS
        }
    if isinstance(value, list):
        return [_without_grading(v) for v in value]
    return value


def _estimate_tokens(text: str) -> int:
    # the usual four characters per token: enough for replay reports and budgets
    return max(1, len(text) // 4)


class EmbeddedEngine:
    """Deterministic rule-based Provider; no network, no state between calls."""

    name = "embedded"
    local = True

    def __init__(self, *, name: str = "embedded", knowledge: Knowledge | None = None) -> None:
        self.name = name
        self.knowledge = knowledge or builtin_knowledge()

    async def chat(self, request: ChatRequest, *, timeout_s: float) -> ChatResponse:
        started = time.perf_counter()
        answer = self.answer(request)
        content = json.dumps(_without_grading(answer.model_dump(mode="json")), sort_keys=True)
        tool_calls: list[ToolCall] = []
        if request.task is Task.TOOL_CALL:
            call = getattr(answer, "call", None)
            tool_calls = [call] if isinstance(call, ToolCall) else []
        prompt = sum(_estimate_tokens(m.content) for m in request.messages)
        prompt += _estimate_tokens(json.dumps(request.context, default=str, sort_keys=True))
        return ChatResponse(
            content=content,
            tool_calls=tool_calls,
            usage=Usage(prompt_tokens=prompt, completion_tokens=_estimate_tokens(content)),
            model=MODEL_NAME,
            provider=self.name,
            latency_s=time.perf_counter() - started,
        )

    async def aclose(self) -> None:
        return None

    def answer(self, request: ChatRequest) -> BaseModel:
        """The task's contract value for this request (pure; used by tests and replay)."""
        incident = read_incident(request)
        family = match_family(incident, self.knowledge)
        return _dispatch(request, Case(family, incident, request.tools, self.knowledge))


def _dispatch(request: ChatRequest, case: Case) -> BaseModel:
    task = request.task
    if task is Task.DIAGNOSE:
        return answers.diagnose(case.family, case.incident)
    if task is Task.SOLVE:
        return answers.solve(case)
    if task is Task.REVIEW:
        return answers.review(case)
    if task is Task.CRITIQUE:
        return answers.critique(case)
    if task is Task.COORDINATE:
        return answers.coordinate(case)
    if task is Task.CHAT:
        return chat(case)
    if task is Task.TOOL_CALL:
        # a person's request names its action in words; an incident's plan reads its labels
        if case.incident.extra.get("question"):
            return chat_tool_call(case, request.tool_choice)
        return answers.tool_call(case, request.tool_choice)
    if task is Task.RUNBOOK:
        return answers.runbook(case)
    drift = case.incident.extra.get("drift")
    return interpret(drift if isinstance(drift, dict) else dict(case.incident.extra))
