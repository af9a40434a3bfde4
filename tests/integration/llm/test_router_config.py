"""build_router: providers and routes from HOWL_CONFIG and HOWL_LLM_*, and their errors."""

from __future__ import annotations

from typing import Any

import pytest

from core.config import Settings
from core.errors import ConfigError
from core.llm.openai_compat import OpenAICompatProvider
from core.llm.router import ProviderLimits, Route, Router, build_router
from core.llm.types import ChatMessage, ChatRequest, Task
from tests.integration.llm.conftest import StandInEmbedded
from tests.servers.openai import Behaviour, FakeOpenAI


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def nim(**extra: Any) -> dict[str, Any]:
    return {
        "base_url": "https://integrate.api.nvidia.com/v1",
        "api_key_env": "NIM_KEY",
        "model": "meta/llama-3.1-8b-instruct",
        **extra,
    }


ENV = {"NIM_KEY": "nvapi-test"}


def build(config: dict[str, Any], **setting_values: Any) -> Router:
    return build_router(settings(**setting_values), config, environ=ENV, embedded=StandInEmbedded())


def test_no_config_routes_every_task_to_the_embedded_engine_alone() -> None:
    router = build({})
    assert list(router.providers) == ["embedded"]
    for task in Task:
        assert router.route_for(task).providers == ("embedded",)
    assert router.route_for(Task.DIAGNOSE).local_only
    assert not router.route_for(Task.CHAT).local_only


def test_howl_llm_settings_make_the_default_provider() -> None:
    router = build(
        {},
        HOWL_LLM_BASE_URL="http://127.0.0.1:11434/v1",
        HOWL_LLM_MODEL="qwen2.5:3b",
        HOWL_LLM_LOCAL=False,
        HOWL_LLM_API_KEY="sk-x",
    )
    default = router.providers["default"]
    assert isinstance(default, OpenAICompatProvider)
    assert (default.url, default.model, default.local) == (
        "http://127.0.0.1:11434/v1/chat/completions",
        "qwen2.5:3b",
        False,
    )
    assert router.route_for(Task.SOLVE) == Route(providers=("default", "embedded"))
    assert router.route_for(Task.DIAGNOSE).local_only


def test_providers_and_routes_from_the_config() -> None:
    config = {
        "llm": {
            "providers": {
                "nim": nim(
                    concurrency=2,
                    rpm=30,
                    timeout_s=20,
                    price_prompt_per_1k=0.1,
                    price_completion_per_1k=0.2,
                    daily_budget_usd=5,
                    breaker_failures=3,
                    breaker_cooldown_s=10,
                ),
                "ollama": {"base_url": "http://127.0.0.1:11434/v1", "model": "q", "local": True},
            },
            "routes": {
                "solve": {"providers": ["nim", "ollama"], "timeout_s": 45},
                "diagnose": {"providers": ["nim", "ollama", "embedded"]},
                "chat": {"local_only": True},
            },
        }
    }
    router = build(config)

    assert list(router.providers) == ["nim", "ollama", "embedded"]
    nim_provider = router.providers["nim"]
    assert isinstance(nim_provider, OpenAICompatProvider)
    assert (nim_provider.price_prompt_per_1k, nim_provider.price_completion_per_1k) == (0.1, 0.2)
    assert nim_provider.local is False
    assert router.providers["ollama"].local is True
    assert router.route_for(Task.SOLVE) == Route(("nim", "ollama", "embedded"), timeout_s=45)
    assert router.route_for(Task.DIAGNOSE) == Route(("nim", "ollama", "embedded"), local_only=True)
    assert router.route_for(Task.CHAT) == Route(("embedded",), local_only=True)
    assert router.route_for(Task.REVIEW) == Route(("embedded",))
    assert router._lanes["nim"].limits == ProviderLimits(
        concurrency=2,
        rpm=30,
        timeout_s=20,
        daily_budget_usd=5,
        breaker_failures=3,
        breaker_cooldown_s=10,
    )
    assert router._lanes["ollama"].limits == ProviderLimits()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"llm": {"routes": {"solve": {"providers": ["gpt"]}}}},
            "bad HOWL_CONFIG llm.routes.solve.providers: unknown provider(s) gpt",
        ),
        (
            {"llm": {"routes": {"dance": {}}}},
            "bad HOWL_CONFIG llm.routes.dance: unknown task",
        ),
        (
            {"llm": {"providers": {"nim": nim(rpm=0)}}},
            "bad HOWL_CONFIG llm.providers.nim.rpm: expected an integer >= 1 (got 0)",
        ),
        (
            {"llm": {"providers": {"nim": nim(local="yes")}}},
            "bad HOWL_CONFIG llm.providers.nim.local: expected true or false (got 'yes')",
        ),
        (
            {"llm": {"providers": {"nim": nim(timeout_s=0)}}},
            "bad HOWL_CONFIG llm.providers.nim.timeout_s: expected a number > 0 (got 0)",
        ),
        (
            {"llm": {"providers": {"nim": nim(daily_budget_usd=-1)}}},
            "bad HOWL_CONFIG llm.providers.nim.daily_budget_usd: expected a number >= 0",
        ),
        (
            {"llm": {"providers": {"nim": nim(rmp=30)}}},
            "bad HOWL_CONFIG llm.providers.nim: unknown key(s) rmp",
        ),
        (
            {"llm": {"providers": {"nim": nim(base_url="ftp://x")}}},
            "bad HOWL_CONFIG llm.providers.nim.base_url: expected an http:// or https:// URL",
        ),
        (
            {"llm": {"providers": {"nim": nim(api_key_env="MISSING_KEY")}}},
            "bad HOWL_CONFIG llm.providers.nim.api_key_env: the variable MISSING_KEY is not set",
        ),
        (
            {"llm": {"providers": {"nim": {"base_url": "http://x/v1"}}}},
            "bad HOWL_CONFIG llm.providers.nim.model: expected a non-empty string",
        ),
        (
            {"llm": {"providers": {"embedded": nim()}}},
            "bad HOWL_CONFIG llm.providers.embedded: the name 'embedded' is reserved",
        ),
        (
            {"llm": {"providers": "nim"}},
            "bad HOWL_CONFIG llm.providers: expected a table",
        ),
        (
            {"llm": {"routes": {"chat": {"local_only": 1}}}},
            "bad HOWL_CONFIG llm.routes.chat.local_only: expected true or false (got 1)",
        ),
    ],
)
def test_bad_config_is_one_config_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(config)
    assert str(caught.value).startswith(message)


async def test_a_configured_provider_sends_its_key_and_model(fake_llm: FakeOpenAI) -> None:
    fake_llm.enqueue(Behaviour.json({"answer": "all good"}))
    embedded = StandInEmbedded()
    config = {
        "llm": {
            "providers": {"nim": nim(base_url=fake_llm.base_url)},
            "routes": {"chat": {"providers": ["nim"]}},
        }
    }
    router = build_router(settings(), config, environ=ENV, embedded=embedded)
    try:
        done = await router.complete(
            ChatRequest(task=Task.CHAT, messages=[ChatMessage(role="user", content="hi")])
        )
    finally:
        await router.aclose()
    assert done.provider == "nim" and not done.fallback_used
    assert fake_llm.headers[0]["authorization"] == "Bearer nvapi-test"
    assert fake_llm.requests[0]["model"] == "meta/llama-3.1-8b-instruct"
    assert embedded.closed


async def test_the_embedded_engine_answers_when_the_chain_fails(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Behaviour.error(502)
    embedded = StandInEmbedded(content='{"answer": "from the embedded engine"}')
    router = build_router(
        settings(HOWL_LLM_BASE_URL=fake_llm.base_url), {}, environ={}, embedded=embedded
    )
    try:
        done = await router.complete(
            ChatRequest(task=Task.CHAT, messages=[ChatMessage(role="user", content="hi")])
        )
    finally:
        await router.aclose()
    assert done.provider == "embedded"
    assert done.attempts == [
        "default: ProviderUnavailable: HTTP 502: upstream exploded",
        "embedded: ok",
    ]
    assert len(embedded.requests) == 1


async def test_the_real_embedded_engine_is_imported_and_answers_every_task() -> None:
    router = build_router(settings(), {}, environ={})
    try:
        assert router.providers["embedded"].local is True
        for task in Task:
            request = ChatRequest(
                task=task,
                messages=[ChatMessage(role="user", content="KubePodCrashLooping on api in prod")],
                context={"labels": {"alertname": "KubePodCrashLooping", "namespace": "prod"}},
            )
            done = await router.complete(request)
            assert (done.provider, done.fallback_used, done.retry_used) == (
                "embedded",
                False,
                False,
            ), done.attempts
    finally:
        await router.aclose()
