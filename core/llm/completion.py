"""What the model layer hands its callers: a typed answer, never an exception.

Every caller (agents, chat, runbooks, drift, replay) asks `Completer.complete`
for a task's contract and gets a `Completion` back. When every provider failed,
was excluded by privacy, or answered garbage twice, `value` is the task's safe
fallback and `fallback_used` is true, with `error` saying why.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from core.llm.types import ChatRequest, Usage


class Completion(BaseModel):
    """One task answered: the validated value and how it was obtained."""

    #: an instance of the task's contract model (core.llm.schemas.TASK_SCHEMAS)
    value: BaseModel
    #: the provider's raw text of the accepted answer ("" for a fallback)
    raw: str = ""
    provider: str = ""
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    latency_s: float = 0.0
    #: a repair request was needed after a first invalid answer
    retry_used: bool = False
    #: the safe fallback was returned instead of a model's answer
    fallback_used: bool = False
    #: providers tried, in order, with the outcome of each
    attempts: list[str] = Field(default_factory=list)
    error: str | None = None

    @property
    def trace_complete(self) -> bool:
        """Every step of the call is accounted for (a provider answered or a reason is given)."""
        return bool(self.attempts) and (bool(self.provider) or self.error is not None)


class Completer(Protocol):
    """The one door to the models."""

    async def complete(self, request: ChatRequest) -> Completion: ...
