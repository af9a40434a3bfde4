"""A provider for any OpenAI-compatible `/v1/chat/completions`: NIM, Ollama, vLLM, OpenAI.

One pooled httpx client per provider; every httpx failure is mapped here, at
the boundary, to a `core.llm.errors` class the router understands.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from core.llm.errors import (
    BadResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)
from core.llm.toolcalls import read_tool_call
from core.llm.types import ChatRequest, ChatResponse, ToolCall, ToolSpec, Usage
from core.tracecontext import outgoing_traceparent

_FIXED_CHOICES = frozenset({"auto", "none", "required"})


class OpenAICompatProvider:
    """Chat completions over HTTP; `base_url` is the API root ending in /v1."""

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        model: str,
        api_key: str = "",
        local: bool = False,
        price_prompt_per_1k: float = 0.0,
        price_completion_per_1k: float = 0.0,
        max_connections: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.local = local
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.price_prompt_per_1k = price_prompt_per_1k
        self.price_completion_per_1k = price_completion_per_1k
        self._api_key = api_key
        self._max_connections = max_connections
        self._transport = transport
        # created on first use, so building a router never opens sockets or needs a loop
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        # never the key
        return f"OpenAICompatProvider(name={self.name!r}, model={self.model!r}, local={self.local})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def cost_usd(self, usage: Usage) -> float:
        """What a call with this usage costs at the configured prices."""
        return (
            usage.prompt_tokens * self.price_prompt_per_1k
            + usage.completion_tokens * self.price_completion_per_1k
        ) / 1000

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {"Accept": "application/json"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            limits = httpx.Limits(
                max_connections=self._max_connections,
                max_keepalive_connections=self._max_connections,
            )
            self._client = httpx.AsyncClient(
                headers=headers, limits=limits, transport=self._transport
            )
        return self._client

    async def chat(self, request: ChatRequest, *, timeout_s: float) -> ChatResponse:
        """One completion; raises a ProviderError subclass on any failure."""
        payload = build_payload(request, model=self.model)
        started = time.perf_counter()
        try:
            # httpx timeouts are per phase; the task's timeout is for the whole call
            async with asyncio.timeout(timeout_s):
                response = await self._http().post(
                    self.url,
                    json=payload,
                    timeout=httpx.Timeout(timeout_s),
                    headers=_trace_headers(),
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise ProviderTimeout(f"{self.name}: no answer within {timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        _raise_for_status(self.name, response)
        try:
            body = response.json()
        except ValueError as exc:
            raise BadResponse(f"{self.name}: body is not JSON: {_excerpt(response.text)}") from exc
        result = parse_completion(self.name, body)
        return result.model_copy(
            update={
                "model": result.model or self.model,
                "provider": self.name,
                "latency_s": time.perf_counter() - started,
            }
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def build_payload(request: ChatRequest, *, model: str) -> dict[str, Any]:
    """The JSON body of a chat completion request."""
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "temperature": request.temperature,
        "stream": False,
    }
    if request.max_tokens is not None:
        payload["max_tokens"] = request.max_tokens
    if request.json_mode:
        payload["response_format"] = {"type": "json_object"}
    if request.tools:
        payload["tools"] = [tool_schema(tool) for tool in request.tools]
        if request.tool_choice:
            payload["tool_choice"] = tool_choice(request.tool_choice)
    return payload


def tool_schema(tool: ToolSpec) -> dict[str, Any]:
    """A registry tool as an OpenAI function spec; each parameter is a patterned string."""
    properties = {
        param.name: {
            "type": "string",
            "pattern": param.pattern,
            **({"description": param.description} if param.description else {}),
        }
        for param in tool.params
    }
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": [param.name for param in tool.params if param.required],
                "additionalProperties": False,
            },
        },
    }


def tool_choice(choice: str) -> str | dict[str, Any]:
    """Fixed choices ("auto", "none", "required") as they are; any other value is a tool name."""
    if choice in _FIXED_CHOICES:
        return choice
    return {"type": "function", "function": {"name": choice}}


def parse_completion(name: str, body: Any) -> ChatResponse:
    """Content, tool calls, usage and model from a chat completion body."""
    try:
        message = body["choices"][0]["message"]
        if not isinstance(message, dict):
            raise TypeError("message is not an object")
    except (KeyError, IndexError, TypeError) as exc:
        raise BadResponse(f"{name}: no choices[0].message in the body") from exc
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise BadResponse(f"{name}: message content is not a string")
    calls: list[ToolCall] = []
    unreadable: list[dict[str, Any]] = []
    for raw in message.get("tool_calls") or []:
        try:
            if not isinstance(raw, dict):
                raise ProviderError("tool call is not an object")
            calls.append(read_tool_call(raw))
        except (ValueError, ProviderError):
            unreadable.append(raw if isinstance(raw, dict) else {"value": raw})
    return ChatResponse(
        content=content,
        tool_calls=calls,
        raw_tool_calls=unreadable,
        usage=_usage(body.get("usage")),
        model=str(body.get("model") or ""),
    )


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    prompt = raw.get("prompt_tokens")
    completion = raw.get("completion_tokens")
    return Usage(
        prompt_tokens=prompt if isinstance(prompt, int) else 0,
        completion_tokens=completion if isinstance(completion, int) else 0,
    )


def _trace_headers() -> dict[str, str]:
    """The run's W3C trace context, so a provider's own tracing joins the run's trace."""
    header = outgoing_traceparent()
    return {"traceparent": header} if header is not None else {}


def _raise_for_status(name: str, response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = f"{name}: HTTP {status}: {_excerpt(response.text)}"
    if status == 429:
        retry_after = retry_after_s(response.headers.get("retry-after"))
        raise RateLimited(detail, retry_after_s=retry_after)
    if status == 408:
        raise ProviderTimeout(detail)
    # auth and not-found are as unusable as an outage: the next provider should answer
    if status >= 500 or status in (401, 403, 404):
        raise ProviderUnavailable(detail)
    raise BadResponse(detail)


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number or an HTTP date.

    >>> retry_after_s("2.5"), retry_after_s(None), retry_after_s("soon")
    (2.5, None, None)
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
