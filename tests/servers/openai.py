"""A scriptable OpenAI-compatible server on 127.0.0.1 for provider and router tests.

fake = FakeOpenAI()
fake.enqueue(Behaviour.fenced({"a": 1}), Behaviour.error(500))
async with serve_asgi(fake.app()) as url:
    base_url = f"{url}/v1"
    ...
assert fake.requests[0]["model"] == "m"; assert fake.max_concurrent == 2

Each POST /v1/chat/completions takes the next queued behaviour (or `default`
when the queue is empty), records the JSON body and headers, and tracks how
many requests were in flight at once.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class Behaviour:
    """One scripted reply."""

    status: int = 200
    content: str | None = ""
    tool_calls: list[dict[str, Any]] | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    #: sent as the body instead of a completion (e.g. not JSON at all)
    raw_body: str | None = None
    prompt_tokens: int = 10
    completion_tokens: int = 5

    @classmethod
    def answer(cls, content: str, **extra: Any) -> Behaviour:
        return cls(content=content, **extra)

    @classmethod
    def json(cls, obj: Any, **extra: Any) -> Behaviour:
        return cls(content=json.dumps(obj), **extra)

    @classmethod
    def fenced(cls, obj: Any) -> Behaviour:
        return cls(content=f"Here you go:\n```json\n{json.dumps(obj, indent=2)}\n```\n")

    @classmethod
    def prose(cls, obj: Any) -> Behaviour:
        return cls(content=f"After looking at it, my answer is {json.dumps(obj)} — hope it helps.")

    @classmethod
    def garbage(cls) -> Behaviour:
        return cls(content="I am not sure, maybe restart something? {not json")

    @classmethod
    def error(cls, status: int = 500) -> Behaviour:
        return cls(status=status, raw_body="upstream exploded")

    @classmethod
    def rate_limited(cls, retry_after: str | None = None) -> Behaviour:
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        return cls(status=429, raw_body='{"error": "slow down"}', headers=headers)

    @classmethod
    def not_json_body(cls) -> Behaviour:
        return cls(raw_body="<html>gateway</html>")

    @classmethod
    def slow(cls, delay_s: float, content: str = "{}") -> Behaviour:
        return cls(content=content, delay_s=delay_s)

    @classmethod
    def tool_call(cls, name: str, arguments: Any, *, content: str | None = None) -> Behaviour:
        """A native tool call; `arguments` is sent as given (a JSON string, fenced text, a dict)."""
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        return cls(content=content, tool_calls=[call])


@dataclass
class FakeOpenAI:
    """The server's script and its record of what it received."""

    model: str = "fake-model"
    #: the API root (ending in /v1) once served; set by whoever serves it
    base_url: str = ""
    default: Behaviour = field(default_factory=lambda: Behaviour.json({}))
    queue: deque[Behaviour] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    #: the client's (host, port) per request: one port means one pooled connection
    peers: list[tuple[str, int]] = field(default_factory=list)
    in_flight: int = 0
    max_concurrent: int = 0
    #: picks the reply from the request's JSON body, before the queue (None: use the queue)
    script: Callable[[dict[str, Any]], Behaviour | None] | None = None

    def enqueue(self, *behaviours: Behaviour) -> None:
        self.queue.extend(behaviours)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])

    def last_user_message(self) -> str:
        messages = self.requests[-1]["messages"]
        return str(messages[-1]["content"])

    async def _complete(self, request: Request) -> Response:
        self.in_flight += 1
        self.max_concurrent = max(self.max_concurrent, self.in_flight)
        try:
            self.requests.append(await request.json())
            self.headers.append(dict(request.headers))
            if request.client is not None:
                self.peers.append((request.client.host, request.client.port))
            body = self.requests[-1]
            scripted = self.script(body) if self.script is not None else None
            behaviour = scripted or (self.queue.popleft() if self.queue else self.default)
            if behaviour.delay_s:
                await asyncio.sleep(behaviour.delay_s)
            return self._reply(behaviour)
        finally:
            self.in_flight -= 1

    def _reply(self, behaviour: Behaviour) -> Response:
        if behaviour.raw_body is not None:
            return PlainTextResponse(
                behaviour.raw_body, status_code=behaviour.status, headers=behaviour.headers
            )
        message: dict[str, Any] = {"role": "assistant", "content": behaviour.content}
        if behaviour.tool_calls is not None:
            message["tool_calls"] = behaviour.tool_calls
        body = {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": behaviour.prompt_tokens,
                "completion_tokens": behaviour.completion_tokens,
                "total_tokens": behaviour.prompt_tokens + behaviour.completion_tokens,
            },
        }
        return JSONResponse(body, status_code=behaviour.status, headers=behaviour.headers)
