"""The OpenAI-compatible provider over real HTTP against the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.llm.errors import BadResponse, ProviderTimeout, ProviderUnavailable, RateLimited
from core.llm.openai_compat import OpenAICompatProvider
from core.llm.types import ChatMessage, ChatRequest, Task, ToolCall, ToolParam, ToolSpec
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import free_port

RESTART = ToolSpec(
    name="restart_deployment",
    description="Roll a deployment's pods",
    params=(
        ToolParam(name="namespace", pattern="[a-z0-9-]{1,63}"),
        ToolParam(name="name", pattern="[a-z0-9-]{1,63}", description="deployment"),
        ToolParam(name="reason", pattern=".{0,200}", required=False),
    ),
)


def ask(*, json_mode: bool = True, **extra: object) -> ChatRequest:
    return ChatRequest(
        task=Task.CHAT,
        messages=[
            ChatMessage(role="system", content="Answer in JSON."),
            ChatMessage(role="user", content="Is api healthy?"),
        ],
        json_mode=json_mode,
        **extra,
    )


@pytest.fixture
async def provider(fake_llm: FakeOpenAI) -> AsyncIterator[OpenAICompatProvider]:
    p = OpenAICompatProvider(
        name="nim", base_url=fake_llm.base_url + "/", model="meta/llama", api_key="sk-test"
    )
    yield p
    await p.aclose()


async def test_success_sends_the_openai_shape_and_reads_back_content_usage_model(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    fake_llm.enqueue(Behaviour.answer('{"answer": "yes"}', prompt_tokens=42, completion_tokens=7))

    response = await provider.chat(ask(max_tokens=300), timeout_s=5)

    assert response.content == '{"answer": "yes"}'
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (42, 7)
    assert response.model == "fake-model"
    assert response.provider == "nim"
    assert response.latency_s > 0
    body = fake_llm.requests[0]
    assert body["model"] == "meta/llama"
    assert body["messages"] == [
        {"role": "system", "content": "Answer in JSON."},
        {"role": "user", "content": "Is api healthy?"},
    ]
    assert body["response_format"] == {"type": "json_object"}
    assert body["max_tokens"] == 300
    assert body["temperature"] == 0.0
    assert "tools" not in body and "tool_choice" not in body
    assert fake_llm.headers[0]["authorization"] == "Bearer sk-test"


async def test_no_key_no_json_mode_sends_neither(fake_llm: FakeOpenAI) -> None:
    p = OpenAICompatProvider(name="ollama", base_url=fake_llm.base_url, model="qwen", local=True)
    try:
        await p.chat(ask(json_mode=False), timeout_s=5)
    finally:
        await p.aclose()
    assert "authorization" not in fake_llm.headers[0]
    assert "response_format" not in fake_llm.requests[0]
    assert "max_tokens" not in fake_llm.requests[0]


async def test_one_pooled_connection_serves_sequential_calls(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    for _ in range(3):
        await provider.chat(ask(), timeout_s=5)
    assert len(fake_llm.peers) == 3
    assert len(set(fake_llm.peers)) == 1


async def test_tools_become_function_specs_with_patterns_and_required(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    await provider.chat(ask(tools=[RESTART], tool_choice="required"), timeout_s=5)
    await provider.chat(ask(tools=[RESTART], tool_choice="restart_deployment"), timeout_s=5)

    first, second = fake_llm.requests
    assert first["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "restart_deployment",
                "description": "Roll a deployment's pods",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "namespace": {"type": "string", "pattern": "[a-z0-9-]{1,63}"},
                        "name": {
                            "type": "string",
                            "pattern": "[a-z0-9-]{1,63}",
                            "description": "deployment",
                        },
                        "reason": {"type": "string", "pattern": ".{0,200}"},
                    },
                    "required": ["namespace", "name"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    assert first["tool_choice"] == "required"
    assert second["tool_choice"] == {
        "type": "function",
        "function": {"name": "restart_deployment"},
    }


@pytest.mark.parametrize(
    "arguments",
    [
        '{"namespace": "prod", "name": "api"}',
        '```json\n{"namespace": "prod", "name": "api"}\n```',
        '```json {"namespace": "prod", "name": "api"}```',
        {"namespace": "prod", "name": "api"},
    ],
    ids=["json-string", "fenced", "fenced-one-line", "dict"],
)
async def test_tool_call_arguments_are_read_in_every_shape(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider, arguments: object
) -> None:
    fake_llm.enqueue(Behaviour.tool_call("restart_deployment", arguments))

    response = await provider.chat(ask(tools=[RESTART]), timeout_s=5)

    assert response.content == ""
    assert response.tool_calls == [
        ToolCall(tool="restart_deployment", arguments={"namespace": "prod", "name": "api"})
    ]
    assert response.raw_tool_calls == []


async def test_non_string_argument_values_become_strings(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    fake_llm.enqueue(Behaviour.tool_call("scale", {"replicas": 3, "dry_run": False}))
    response = await provider.chat(ask(), timeout_s=5)
    assert response.tool_calls == [
        ToolCall(tool="scale", arguments={"replicas": "3", "dry_run": "false"})
    ]


async def test_unreadable_tool_calls_are_kept_raw(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    fake_llm.enqueue(Behaviour.tool_call("restart_deployment", "namespace=prod name=api"))
    response = await provider.chat(ask(tools=[RESTART]), timeout_s=5)
    assert response.tool_calls == []
    assert response.raw_tool_calls == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "restart_deployment", "arguments": "namespace=prod name=api"},
        }
    ]


async def test_500_is_unavailable(fake_llm: FakeOpenAI, provider: OpenAICompatProvider) -> None:
    fake_llm.enqueue(Behaviour.error(503))
    with pytest.raises(ProviderUnavailable, match=r"nim: HTTP 503: upstream exploded"):
        await provider.chat(ask(), timeout_s=5)


async def test_429_carries_retry_after(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    fake_llm.enqueue(Behaviour.rate_limited("7"), Behaviour.rate_limited())
    with pytest.raises(RateLimited) as first:
        await provider.chat(ask(), timeout_s=5)
    with pytest.raises(RateLimited) as second:
        await provider.chat(ask(), timeout_s=5)
    assert first.value.retry_after_s == 7.0
    assert second.value.retry_after_s is None


async def test_slow_answer_is_a_timeout(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    fake_llm.enqueue(Behaviour.slow(1.0))
    with pytest.raises(ProviderTimeout, match=r"nim: no answer within 0.2 s"):
        await provider.chat(ask(), timeout_s=0.2)


async def test_body_that_is_not_json_is_a_bad_response(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    fake_llm.enqueue(Behaviour.not_json_body())
    with pytest.raises(BadResponse, match=r"body is not JSON: <html>gateway</html>"):
        await provider.chat(ask(), timeout_s=5)


async def test_json_without_choices_is_a_bad_response(
    fake_llm: FakeOpenAI, provider: OpenAICompatProvider
) -> None:
    fake_llm.enqueue(Behaviour(raw_body='{"object": "error"}'))
    with pytest.raises(BadResponse, match=r"no choices\[0\]\.message"):
        await provider.chat(ask(), timeout_s=5)


async def test_refused_connection_is_unavailable() -> None:
    p = OpenAICompatProvider(name="gone", base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    try:
        with pytest.raises(ProviderUnavailable, match=r"^gone: ConnectError"):
            await p.chat(ask(), timeout_s=5)
    finally:
        await p.aclose()


def test_repr_never_shows_the_key() -> None:
    p = OpenAICompatProvider(name="nim", base_url="http://x/v1", model="m", api_key="sk-secret")
    assert "sk-secret" not in repr(p)
