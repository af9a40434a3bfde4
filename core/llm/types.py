"""Values every provider speaks: messages, tools, requests, responses, usage."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class Task(StrEnum):
    """What a model is asked to do; routes and contracts are chosen per task."""

    DIAGNOSE = "diagnose"
    SOLVE = "solve"
    REVIEW = "review"
    CRITIQUE = "critique"
    COORDINATE = "coordinate"
    CHAT = "chat"
    TOOL_CALL = "tool_call"
    RUNBOOK = "runbook"
    DRIFT_INTERPRET = "drift_interpret"


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant", "tool"]
    content: str


class ToolParam(BaseModel):
    """One argument of a registered tool: a regex its value must match."""

    model_config = ConfigDict(frozen=True)

    name: str
    pattern: str
    required: bool = True
    description: str = ""


class ToolSpec(BaseModel):
    """A tool the model may propose (an action of the registry)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    params: tuple[ToolParam, ...] = ()
    #: the registry's `destructive` flag; names like restart/delete are destructive anyway
    destructive: bool = False


class ToolCall(BaseModel):
    """A proposed call: tool name and string arguments."""

    model_config = ConfigDict(frozen=True)

    tool: str
    arguments: dict[str, str] = Field(default_factory=dict)


class ChatRequest(BaseModel):
    """One call to a model."""

    task: Task
    messages: list[ChatMessage]
    json_mode: bool = False
    tools: list[ToolSpec] = Field(default_factory=list)
    #: "auto", "none", "required", or a tool name to force
    tool_choice: str | None = None
    temperature: float = 0.0
    max_tokens: int | None = None
    #: free-form context the embedded engine reads instead of prose (alert labels etc.)
    context: dict[str, Any] = Field(default_factory=dict)
    #: when the provider's slots are all taken, waiting calls go highest first (equal
    #: ones in arrival order; see core/llm/slots.py)
    priority: int = 0


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatResponse(BaseModel):
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    #: raw tool calls whose arguments could not be read, for diagnostics
    raw_tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    provider: str = ""
    latency_s: float = 0.0


class Provider(Protocol):
    """An LLM endpoint. Raises `core.llm.errors.ProviderError` subclasses on failure."""

    name: str
    #: may see local_only tasks (incident evidence)
    local: bool

    async def chat(self, request: ChatRequest, *, timeout_s: float) -> ChatResponse: ...

    async def aclose(self) -> None: ...
