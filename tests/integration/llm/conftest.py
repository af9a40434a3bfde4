"""Fake OpenAI-compatible servers on loopback, a controllable clock, a stand-in embedded engine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta

import pytest

from core.llm.types import ChatRequest, ChatResponse
from tests.servers.openai import FakeOpenAI
from tests.servers.telegram import serve_asgi

StartServer = Callable[[], Awaitable[FakeOpenAI]]


@pytest.fixture
async def llm_servers() -> AsyncIterator[StartServer]:
    """Start as many fake servers as a test needs; all stop at the end."""
    async with contextlib.AsyncExitStack() as stack:

        async def start() -> FakeOpenAI:
            fake = FakeOpenAI()
            url = await stack.enter_async_context(serve_asgi(fake.app()))
            fake.base_url = f"{url}/v1"
            return fake

        yield start


@pytest.fixture
async def fake_llm(llm_servers: StartServer) -> FakeOpenAI:
    return await llm_servers()


class FakeClock:
    """Time moves only when a test (or the router's rate-limit sleep) moves it."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.day = date(2024, 5, 1)
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def today(self) -> date:
        return self.day

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def next_day(self) -> None:
        self.day += timedelta(days=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class StandInEmbedded:
    """Used only if a test must not depend on the real embedded engine: answers `content`."""

    name = "embedded"
    local = True

    def __init__(self, content: str = "{}") -> None:
        self.content = content
        self.requests: list[ChatRequest] = []
        self.closed = False

    async def chat(self, request: ChatRequest, *, timeout_s: float) -> ChatResponse:
        self.requests.append(request)
        return ChatResponse(content=self.content, model="stand-in", provider=self.name)

    async def aclose(self) -> None:
        self.closed = True
