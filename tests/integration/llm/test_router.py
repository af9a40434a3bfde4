"""The router over real HTTP: contracts, repair, chains, privacy, limits, breaker, budget."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.llm.contracts import safe_fallback
from core.llm.openai_compat import OpenAICompatProvider
from core.llm.router import ProviderLimits, Route, Router
from core.llm.schemas import Diagnosis, Hypothesis, Review, RiskLevel, ToolChoice
from core.llm.types import ChatMessage, ChatRequest, Task, ToolCall, ToolParam, ToolSpec
from tests.integration.llm.conftest import FakeClock, StartServer
from tests.servers.openai import Behaviour, FakeOpenAI

APPROVE = {"verdict": "approve", "concerns": [], "risk_level": "low"}
REVIEW_OK = Review(verdict="approve", concerns=[], risk_level=RiskLevel.LOW)
RESTART = ToolSpec(
    name="restart_deployment",
    params=(
        ToolParam(name="namespace", pattern="[a-z0-9-]{1,63}"),
        ToolParam(name="name", pattern="[a-z0-9-]{1,63}"),
    ),
)
GOOD_ARGS = {"namespace": "prod", "name": "api"}

MakeRouter = Callable[..., Router]


def review() -> ChatRequest:
    return ChatRequest(
        task=Task.REVIEW,
        messages=[ChatMessage(role="user", content="Review: restart api in prod.")],
        json_mode=True,
    )


def pick_tool() -> ChatRequest:
    return ChatRequest(
        task=Task.TOOL_CALL,
        messages=[ChatMessage(role="user", content="api is stuck; pick one action")],
        tools=[RESTART],
        tool_choice="auto",
    )


@pytest.fixture
async def make_router(clock: FakeClock) -> AsyncIterator[MakeRouter]:
    """Build a router over fakes: `make_router(a=(fake, {"local": True}), ...)`."""
    made: list[Router] = []

    def build(
        *,
        limits: dict[str, ProviderLimits] | None = None,
        routes: dict[Task, Route] | None = None,
        fallback: bool = True,
        **fakes: tuple[FakeOpenAI, dict[str, Any]] | FakeOpenAI,
    ) -> Router:
        providers = []
        for name, spec in fakes.items():
            fake, options = spec if isinstance(spec, tuple) else (spec, {})
            providers.append(
                OpenAICompatProvider(
                    name=name, base_url=fake.base_url, model=f"{name}-m", **options
                )
            )
        router = Router(providers, limits=limits, routes=routes, clock=clock, fallback=fallback)
        made.append(router)
        return router

    yield build
    for router in made:
        await router.aclose()


async def test_success_returns_the_contract_with_usage_and_cost(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.enqueue(Behaviour.json(APPROVE, prompt_tokens=1000, completion_tokens=500))
    prices = {"price_prompt_per_1k": 0.5, "price_completion_per_1k": 2.0}
    router = make_router(a=(fake_llm, prices))

    done = await router.complete(review())

    assert done.value == REVIEW_OK
    assert done.provider == "a" and done.model == "fake-model"
    assert (done.retry_used, done.fallback_used, done.error) == (False, False, None)
    assert done.attempts == ["a: ok"]
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (1000, 500)
    assert done.cost_usd == pytest.approx(1.5)
    assert done.trace_complete
    stats = router.stats()["a"]
    assert (stats.calls, stats.ok, stats.failures) == (1, 1, 0)
    assert (stats.prompt_tokens, stats.completion_tokens) == (1000, 500)
    assert stats.cost_usd == pytest.approx(1.5)
    assert stats.spent_today_usd == pytest.approx(1.5)


@pytest.mark.parametrize("shape", [Behaviour.fenced, Behaviour.prose], ids=["fenced", "prose"])
async def test_wrapped_json_is_accepted_first_time(
    fake_llm: FakeOpenAI, make_router: MakeRouter, shape: Callable[[Any], Behaviour]
) -> None:
    fake_llm.enqueue(shape(APPROVE))
    done = await make_router(a=fake_llm).complete(review())
    assert done.value == REVIEW_OK
    assert (done.retry_used, done.fallback_used) == (False, False)
    assert len(fake_llm.requests) == 1


async def test_garbage_then_repaired(fake_llm: FakeOpenAI, make_router: MakeRouter) -> None:
    fake_llm.enqueue(Behaviour.garbage(), Behaviour.json(APPROVE))

    done = await make_router(a=fake_llm).complete(review())

    assert done.value == REVIEW_OK
    assert (done.retry_used, done.fallback_used) == (True, False)
    assert done.attempts == [
        "a: invalid answer: no JSON object found in the answer",
        "a (repair): ok",
    ]
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (20, 10)
    repair = fake_llm.requests[1]["messages"]
    assert len(repair) == 2
    assert repair[0] == {"role": "user", "content": "Review: restart api in prod."}
    assert "no JSON object found in the answer" in repair[1]["content"]
    assert "maybe restart something? {not json" in repair[1]["content"]
    assert "Review {verdict, concerns?, risk_level}" in repair[1]["content"]


async def test_garbage_twice_gives_the_safe_fallback(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.enqueue(Behaviour.garbage(), Behaviour.answer('{"verdict": "maybe"}'))

    done = await make_router(a=fake_llm).complete(review())

    assert (done.retry_used, done.fallback_used) == (True, True)
    assert done.value == safe_fallback(Task.REVIEW, done.error or "")
    assert isinstance(done.value, Review)
    assert (done.value.verdict, done.value.risk_level) == ("reject", RiskLevel.HIGH)
    assert done.provider == "" and done.raw == ""
    assert done.attempts[1].startswith("a (repair): invalid answer: Review: verdict: Input should")
    assert done.error is not None and done.error.startswith("all providers failed: a: invalid")
    assert len(fake_llm.requests) == 2
    assert done.trace_complete


async def test_self_grading_makes_an_answer_invalid(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.enqueue(Behaviour.json({**APPROVE, "score": 10}), Behaviour.json(APPROVE))
    done = await make_router(a=fake_llm).complete(review())
    assert done.attempts == [
        "a: invalid answer: self-grading fields are not allowed: score",
        "a (repair): ok",
    ]
    assert done.value == REVIEW_OK


async def test_a_500_walks_the_chain_in_order(
    llm_servers: StartServer, make_router: MakeRouter
) -> None:
    a, b, c = await llm_servers(), await llm_servers(), await llm_servers()
    a.enqueue(Behaviour.error(500))
    b.enqueue(Behaviour.not_json_body())
    c.enqueue(Behaviour.json(APPROVE))
    router = make_router(a=a, b=b, c=c, routes={Task.REVIEW: Route(providers=("a", "b", "c"))})

    done = await router.complete(review())

    assert done.provider == "c" and done.value == REVIEW_OK
    assert done.attempts == [
        "a: ProviderUnavailable: HTTP 500: upstream exploded",
        "b: BadResponse: body is not JSON: <html>gateway</html>",
        "c: ok",
    ]
    assert [len(s.requests) for s in (a, b, c)] == [1, 1, 1]
    assert (done.retry_used, done.fallback_used) == (False, False)
    assert router.stats()["a"].failures == 1


async def test_route_order_is_the_routes_not_the_registration_order(
    llm_servers: StartServer, make_router: MakeRouter
) -> None:
    a, b = await llm_servers(), await llm_servers()
    b.enqueue(Behaviour.json(APPROVE))
    router = make_router(a=a, b=b, routes={Task.REVIEW: Route(providers=("b", "a"))})
    done = await router.complete(review())
    assert done.provider == "b" and len(a.requests) == 0


async def test_429_pauses_the_provider_for_retry_after(
    llm_servers: StartServer, make_router: MakeRouter, clock: FakeClock
) -> None:
    a, b = await llm_servers(), await llm_servers()
    a.enqueue(Behaviour.rate_limited("30"))
    b.default = Behaviour.json(APPROVE)
    router = make_router(a=a, b=b)

    first = await router.complete(review())
    second = await router.complete(review())
    clock.advance(31)
    a.enqueue(Behaviour.json(APPROVE))
    third = await router.complete(review())

    assert first.attempts == ['a: RateLimited: HTTP 429: {"error": "slow down"}', "b: ok"]
    assert second.attempts == ["a: skipped: rate limited for 30.0 s more", "b: ok"]
    assert third.attempts == ["a: ok"]
    assert len(a.requests) == 2
    assert router.stats()["a"].breaker == "closed"


async def test_timeout_moves_on(llm_servers: StartServer, make_router: MakeRouter) -> None:
    a, b = await llm_servers(), await llm_servers()
    a.enqueue(Behaviour.slow(1.0, content='{"verdict": "approve", "risk_level": "low"}'))
    b.enqueue(Behaviour.json(APPROVE))
    # only a is held to 0.2 s: a route timeout would hold b to it too, and a loaded machine
    # can take that long to answer b's first request
    router = make_router(a=a, b=b, limits={"a": ProviderLimits(timeout_s=0.2)})

    done = await router.complete(review())

    assert done.attempts == ["a: ProviderTimeout: no answer within 0.2 s", "b: ok"]
    assert done.provider == "b"


async def test_concurrency_limit_holds_under_slow_answers(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.default = Behaviour.slow(0.15, content='{"verdict": "approve", "risk_level": "low"}')
    router = make_router(a=fake_llm, limits={"a": ProviderLimits(concurrency=2)})

    done = await asyncio.gather(*(router.complete(review()) for _ in range(6)))

    assert [d.provider for d in done] == ["a"] * 6
    assert all(d.value == REVIEW_OK for d in done)
    assert fake_llm.max_concurrent == 2
    assert len(fake_llm.requests) == 6
    # its slots count a wait of one typical call as a stage ahead (core/slots.py)
    step = router._lanes["a"].slots.step_s
    assert step is not None and 0.15 <= step < 0.5


async def test_valid_native_tool_call(fake_llm: FakeOpenAI, make_router: MakeRouter) -> None:
    fake_llm.enqueue(
        Behaviour.tool_call("restart_deployment", '```json {"namespace":"prod","name":"api"}```')
    )
    done = await make_router(a=fake_llm).complete(pick_tool())
    assert done.value == ToolChoice(call=ToolCall(tool="restart_deployment", arguments=GOOD_ARGS))
    assert (done.retry_used, done.fallback_used) == (False, False)
    assert fake_llm.requests[0]["tool_choice"] == "auto"


async def test_valid_tool_call_in_json_content(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    call = {"tool": "restart_deployment", "arguments": GOOD_ARGS}
    fake_llm.enqueue(Behaviour.json({"call": call, "reason": "stuck rollout"}))
    done = await make_router(a=fake_llm).complete(pick_tool())
    assert done.value == ToolChoice(
        call=ToolCall(tool="restart_deployment", arguments=GOOD_ARGS), reason="stuck rollout"
    )


async def test_invalid_tool_call_is_repaired_once(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.enqueue(
        Behaviour.tool_call("restart_deployment", {"namespace": "prod", "name": "api; rm -rf /"}),
        Behaviour.tool_call("restart_deployment", GOOD_ARGS),
    )
    done = await make_router(a=fake_llm).complete(pick_tool())
    assert done.attempts == [
        "a: invalid answer: restart_deployment: argument 'name' does not match [a-z0-9-]{1,63}",
        "a (repair): ok",
    ]
    assert done.value == ToolChoice(call=ToolCall(tool="restart_deployment", arguments=GOOD_ARGS))
    assert done.retry_used


async def test_invalid_tool_calls_twice_fall_back_to_no_call(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.enqueue(
        Behaviour.tool_call("delete_namespace", {"namespace": "prod"}),
        Behaviour.tool_call("restart_deployment", {"namespace": "prod"}),
    )
    done = await make_router(a=fake_llm).complete(pick_tool())
    assert done.fallback_used and done.retry_used
    assert isinstance(done.value, ToolChoice) and done.value.call is None
    assert done.attempts == [
        "a: invalid answer: unknown tool 'delete_namespace'",
        "a (repair): invalid answer: restart_deployment: missing argument 'name'",
    ]


async def test_an_action_outside_the_registry_is_a_contract_error(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    bad = {"action": {"tool": "rm", "arguments": {}}, "rationale": "r", "risk_level": "low"}
    good = {"action": None, "rationale": "watch it", "risk_level": "low"}
    fake_llm.enqueue(Behaviour.json(bad), Behaviour.json(good))
    request = ChatRequest(task=Task.SOLVE, messages=[ChatMessage(role="user", content="fix")])
    done = await make_router(a=fake_llm).complete(request)
    assert done.attempts == ["a: invalid answer: unknown tool 'rm'", "a (repair): ok"]


def diagnose() -> ChatRequest:
    return ChatRequest(
        task=Task.DIAGNOSE,
        messages=[ChatMessage(role="user", content="evidence: secret-laden logs")],
    )


DIAGNOSIS = {"summary": "oom", "hypotheses": [{"cause": "memory leak", "confidence": 0.7}]}


async def test_local_only_never_reaches_a_cloud_provider(
    llm_servers: StartServer, make_router: MakeRouter
) -> None:
    cloud, local = await llm_servers(), await llm_servers()
    cloud.default = Behaviour.json(DIAGNOSIS)
    local.enqueue(Behaviour.json(DIAGNOSIS))
    router = make_router(cloud=cloud, ollama=(local, {"local": True}))

    done = await router.complete(diagnose())

    assert done.provider == "ollama"
    assert done.value == Diagnosis(
        summary="oom", hypotheses=[Hypothesis(cause="memory leak", confidence=0.7)]
    )
    assert done.attempts == ["cloud: skipped: not local (diagnose is local_only)", "ollama: ok"]
    assert cloud.requests == []


async def test_local_only_with_no_local_provider_falls_back_naming_why(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.default = Behaviour.json(DIAGNOSIS)
    done = await make_router(cloud=fake_llm).complete(diagnose())
    assert done.fallback_used
    assert (
        done.error == "no provider allowed: diagnose is local_only and no local provider is routed"
    )
    assert fake_llm.requests == []
    assert isinstance(done.value, Diagnosis)
    assert done.value.hypotheses[0].confidence == 0.0


async def test_breaker_opens_then_half_opens_and_closes(
    llm_servers: StartServer, make_router: MakeRouter, clock: FakeClock
) -> None:
    a, b = await llm_servers(), await llm_servers()
    a.default = Behaviour.error(500)
    b.default = Behaviour.json(APPROVE)
    limits = {"a": ProviderLimits(breaker_failures=2, breaker_cooldown_s=30)}
    router = make_router(a=a, b=b, limits=limits)

    for _ in range(2):
        assert (await router.complete(review())).provider == "b"
    assert router.stats()["a"].breaker == "open"
    skipped = await router.complete(review())
    assert skipped.attempts == ["a: skipped: breaker open", "b: ok"]
    assert len(a.requests) == 2

    clock.advance(30)  # half-open: one trial, which fails and re-opens at once
    trial = await router.complete(review())
    assert trial.attempts[0].startswith("a: ProviderUnavailable")
    assert router.stats()["a"].breaker == "open"
    assert (await router.complete(review())).attempts[0] == "a: skipped: breaker open"

    clock.advance(30)  # the next trial succeeds and closes it
    a.default = Behaviour.json(APPROVE)
    assert (await router.complete(review())).attempts == ["a: ok"]
    assert router.stats()["a"].breaker == "closed"
    assert len(a.requests) == 4


async def test_budget_takes_a_provider_out_until_the_next_utc_day(
    llm_servers: StartServer, make_router: MakeRouter, clock: FakeClock
) -> None:
    a, b = await llm_servers(), await llm_servers()
    a.default = Behaviour.json(APPROVE, prompt_tokens=1000, completion_tokens=0)
    b.default = Behaviour.json(APPROVE)
    prices = {"price_prompt_per_1k": 0.01}
    router = make_router(a=(a, prices), b=b, limits={"a": ProviderLimits(daily_budget_usd=0.015)})

    first = await router.complete(review())  # 0.01 spent
    second = await router.complete(review())  # 0.02 spent: over
    third = await router.complete(review())
    clock.next_day()
    fourth = await router.complete(review())

    assert [d.provider for d in (first, second, third, fourth)] == ["a", "a", "b", "a"]
    assert third.attempts == ["a: skipped: daily budget spent", "b: ok"]
    stats = router.stats()["a"]
    assert stats.cost_usd == pytest.approx(0.03)
    assert stats.spent_today_usd == pytest.approx(0.01)
    assert stats.skipped == 1


async def test_rpm_waits_when_a_slot_frees_in_time_else_skips(
    llm_servers: StartServer, make_router: MakeRouter, clock: FakeClock
) -> None:
    a, b = await llm_servers(), await llm_servers()
    a.default = Behaviour.json(APPROVE)
    b.default = Behaviour.json(APPROVE)
    limits = {"a": ProviderLimits(rpm=1)}
    short = {Task.REVIEW: Route(("a", "b"), timeout_s=5)}
    router = make_router(a=a, b=b, limits=limits, routes=short)

    assert (await router.complete(review())).provider == "a"
    clock.advance(10)
    skipped = await router.complete(review())
    assert skipped.attempts == ["a: skipped: rpm limit 1: next slot in 50.0 s", "b: ok"]
    assert clock.slept == []

    patient = make_router(a=a, limits=limits, routes={Task.REVIEW: Route(("a",), timeout_s=90)})
    assert (await patient.complete(review())).provider == "a"
    waited = await patient.complete(review())
    assert waited.attempts == ["a: ok"]
    assert clock.slept == [60.0]


async def test_every_task_falls_back_to_a_valid_value_when_nothing_is_routed() -> None:
    router = Router([])
    for task in Task:
        request = ChatRequest(task=task, messages=[ChatMessage(role="user", content="x")])
        done = await router.complete(request)
        assert done.fallback_used
        assert done.error == f"no provider configured for {task}"
        assert done.attempts == [f"router: no provider configured for {task}"]
        assert done.trace_complete


async def test_native_call_beside_a_json_choice_keeps_its_reason(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    choice = {"call": {"tool": "restart_deployment", "arguments": GOOD_ARGS}, "reason": "stuck"}
    fake_llm.enqueue(
        Behaviour.tool_call("restart_deployment", GOOD_ARGS, content=json.dumps(choice))
    )
    done = await make_router(a=fake_llm).complete(pick_tool())
    assert done.value == ToolChoice(
        call=ToolCall(tool="restart_deployment", arguments=GOOD_ARGS), reason="stuck"
    )


async def test_prose_beside_a_native_call_is_the_reason(
    fake_llm: FakeOpenAI, make_router: MakeRouter
) -> None:
    fake_llm.enqueue(
        Behaviour.tool_call("restart_deployment", GOOD_ARGS, content="The rollout is stuck.")
    )
    done = await make_router(a=fake_llm).complete(pick_tool())
    assert isinstance(done.value, ToolChoice)
    assert done.value.reason == "The rollout is stuck."


async def test_two_native_calls_are_refused(fake_llm: FakeOpenAI, make_router: MakeRouter) -> None:
    two = Behaviour.tool_call("restart_deployment", GOOD_ARGS)
    assert two.tool_calls is not None
    two.tool_calls = two.tool_calls * 2
    fake_llm.enqueue(two, Behaviour.tool_call("restart_deployment", GOOD_ARGS))
    done = await make_router(a=fake_llm).complete(pick_tool())
    assert done.attempts == ["a: invalid answer: expected one tool call, got 2", "a (repair): ok"]


async def test_without_fallback_only_the_first_provider_answers(
    llm_servers: StartServer, make_router: MakeRouter
) -> None:
    a, b = await llm_servers(), await llm_servers()
    a.default = Behaviour.garbage()
    b.default = Behaviour.json(APPROVE)
    router = make_router(a=a, b=b, fallback=False)

    done = await router.complete(review())

    assert (done.fallback_used, done.provider) == (True, "")
    assert [attempt.split(":")[0] for attempt in done.attempts] == ["a", "a (repair)"]
    assert done.error is not None and done.error.startswith("all providers failed: a: invalid")
    assert done.value.model_dump()["verdict"] == "reject"
    assert len(a.requests) == 2 and b.requests == []
