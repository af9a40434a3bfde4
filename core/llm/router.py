"""The one door to the models: routes each task along a fallback chain of providers.

For each provider in the task's chain, in order: skip it if privacy, its daily
budget, its breaker, a 429 pause or its rate window rules it out; else call it
under its concurrency limit and the task's timeout. An answer must satisfy the
task's contract (no self-grading, tool calls the registry allows); a bad one
gets one repair request to the same provider, then the chain moves on (unless
the router was built without fallback: then the first provider is the only one).
When nothing valid comes back the caller gets the task's safe fallback, never
an exception.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from core.config import Settings
from core.llm.breaker import Breaker
from core.llm.completion import Completion
from core.llm.contracts import parse_answer, repair_messages, safe_fallback
from core.llm.errors import (
    ContractError,
    ProviderError,
    ProviderTimeout,
    RateLimited,
    Rejected,
    ToolCallError,
)
from core.llm.limits import (
    EMBEDDED,
    LOCAL_ONLY_BY_DEFAULT,
    DailyBudget,
    ProviderLimits,
    RateWindow,
    Route,
    RouterClock,
    SystemRouterClock,
    check_keys,
    config_error,
    read_bool,
    read_limits,
    read_number,
    read_routes,
    read_str,
    read_table,
)
from core.llm.openai_compat import OpenAICompatProvider
from core.llm.schemas import ToolChoice
from core.llm.toolcalls import tool_calls_in, validate_tool_call
from core.llm.types import ChatRequest, ChatResponse, Provider, Task, Usage
from core.slots import Slots

__all__ = [
    "LOCAL_ONLY_BY_DEFAULT",
    "ProviderLimits",
    "ProviderStats",
    "Route",
    "Router",
    "accept",
    "build_router",
]


class ProviderStats(BaseModel):
    """Running totals for one provider since start."""

    name: str
    local: bool
    calls: int = 0
    ok: int = 0
    failures: int = 0
    skipped: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    spent_today_usd: float = 0.0
    breaker: str = "closed"


#: weight of the newest call in a lane's running average of call time
CALL_TIME_WEIGHT = 0.2


class _Lane:
    """One provider with its limits and live state."""

    def __init__(self, provider: Provider, limits: ProviderLimits) -> None:
        self.provider = provider
        self.limits = limits
        self.slots = Slots(limits.concurrency)
        self.window = RateWindow(rpm=limits.rpm)
        self.breaker = Breaker(
            failures=limits.breaker_failures, cooldown_s=limits.breaker_cooldown_s
        )
        self.budget = DailyBudget(limit_usd=limits.daily_budget_usd)
        #: a 429's Retry-After: no calls before this clock time
        self.paused_until = 0.0
        self.stats = ProviderStats(name=provider.name, local=provider.local)

    def answered_in(self, seconds: float) -> None:
        """A call's time: its slots count a wait this long (averaged) as one stage ahead."""
        step = self.slots.step_s
        self.slots.step_s = seconds if step is None else step + CALL_TIME_WEIGHT * (seconds - step)

    def cost_usd(self, usage: Usage) -> float:
        prompt = float(getattr(self.provider, "price_prompt_per_1k", 0.0) or 0.0)
        completion = float(getattr(self.provider, "price_completion_per_1k", 0.0) or 0.0)
        return (usage.prompt_tokens * prompt + usage.completion_tokens * completion) / 1000


@dataclass
class _Trace:
    """What one `complete` call did, for the Completion."""

    attempts: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retry_used: bool = False
    called_any: bool = False

    def note(self, who: str, outcome: str) -> None:
        self.attempts.append(f"{who}: {outcome}")

    def usage(self) -> Usage:
        return Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)


class Router:
    """Implements `Completer`: a typed answer for every request, a safe one when all fail."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        limits: Mapping[str, ProviderLimits] | None = None,
        routes: Mapping[Task, Route] | None = None,
        default_route: Route | None = None,
        clock: RouterClock | None = None,
        fallback: bool = True,
    ) -> None:
        limits = limits or {}
        #: False: a task is answered by the first provider of its chain or by the safe
        #: fallback, never by the next provider (replay evaluating one model)
        self._fallback = fallback
        self._lanes: dict[str, _Lane] = {}
        for provider in providers:
            if provider.name in self._lanes:
                raise ValueError(f"two providers named {provider.name!r}")
            self._lanes[provider.name] = _Lane(
                provider, limits.get(provider.name, ProviderLimits())
            )
        everyone = tuple(self._lanes)
        self._default = default_route or Route(providers=everyone)
        self._routes = dict(routes or {})
        for route in [self._default, *self._routes.values()]:
            unknown = [name for name in route.providers if name not in self._lanes]
            if unknown:
                raise ValueError(f"route names unknown provider(s): {', '.join(unknown)}")
        self._clock: RouterClock = clock or SystemRouterClock()

    @property
    def providers(self) -> dict[str, Provider]:
        return {name: lane.provider for name, lane in self._lanes.items()}

    def route_for(self, task: Task) -> Route:
        """The task's own route, else the default chain with the task's default privacy."""
        if task in self._routes:
            return self._routes[task]
        return Route(
            providers=self._default.providers,
            local_only=self._default.local_only or task in LOCAL_ONLY_BY_DEFAULT,
            timeout_s=self._default.timeout_s,
        )

    def stats(self) -> dict[str, ProviderStats]:
        """Per-provider totals (copies), with today's spend and breaker state."""
        today = self._clock.today()
        out = {}
        for name, lane in self._lanes.items():
            lane.budget.exhausted(today)  # rolls the day over
            out[name] = lane.stats.model_copy(
                update={"spent_today_usd": lane.budget.spent_usd, "breaker": lane.breaker.state}
            )
        return out

    async def aclose(self) -> None:
        for lane in self._lanes.values():
            await lane.provider.aclose()

    # --- the walk ---------------------------------------------------------------------

    async def complete(self, request: ChatRequest) -> Completion:
        """The task's contract from the first provider that gives a valid answer."""
        started = time.perf_counter()
        route = self.route_for(request.task)
        chain = route.providers if self._fallback else route.providers[:1]
        trace = _Trace()
        excluded_for_privacy = 0
        for name in chain:
            lane = self._lanes[name]
            if route.local_only and not lane.provider.local:
                excluded_for_privacy += 1
                trace.note(name, f"skipped: not local ({request.task} is local_only)")
                continue
            accepted = await self._try(lane, request, route, trace)
            if accepted is not None:
                value, raw, response = accepted
                return Completion(
                    value=value,
                    raw=raw,
                    provider=name,
                    model=response.model,
                    usage=trace.usage(),
                    cost_usd=trace.cost_usd,
                    latency_s=time.perf_counter() - started,
                    retry_used=trace.retry_used,
                    attempts=trace.attempts,
                )
        reason = self._why_nothing(request.task, chain, excluded_for_privacy, trace)
        if not trace.attempts:
            trace.note("router", reason)
        return Completion(
            value=safe_fallback(request.task, reason),
            usage=trace.usage(),
            cost_usd=trace.cost_usd,
            latency_s=time.perf_counter() - started,
            retry_used=trace.retry_used,
            fallback_used=True,
            attempts=trace.attempts,
            error=reason,
        )

    @staticmethod
    def _why_nothing(task: Task, chain: tuple[str, ...], excluded: int, trace: _Trace) -> str:
        if not chain:
            return f"no provider configured for {task}"
        if excluded == len(chain):
            return f"no provider allowed: {task} is local_only and no local provider is routed"
        return "all providers failed: " + "; ".join(trace.attempts)

    async def _try(
        self, lane: _Lane, request: ChatRequest, route: Route, trace: _Trace
    ) -> tuple[BaseModel, str, ChatResponse] | None:
        """One provider: an answer, at most one repair, or None to move down the chain."""
        name = lane.provider.name
        timeout_s = route.timeout_s or lane.limits.timeout_s
        asked, who = request, name
        for repairing in (False, True):
            response = await self._call(lane, asked, timeout_s, trace, who=who)
            if response is None:
                return None
            try:
                value, raw = accept(request, response)
            except ContractError as exc:
                trace.note(who, f"invalid answer: {exc}")
                if repairing:
                    return None
                bad_text = response.content or json.dumps(response.raw_tool_calls)[:800]
                asked = request.model_copy(
                    update={"messages": repair_messages(request, bad_text, str(exc))}
                )
                trace.retry_used = True
                who = f"{name} (repair)"
                continue
            trace.note(who, "ok")
            return value, raw, response
        return None

    async def _call(
        self, lane: _Lane, request: ChatRequest, timeout_s: float, trace: _Trace, *, who: str
    ) -> ChatResponse | None:
        """One provider call with every limit applied; None (noted in the trace) on failure."""
        try:
            response = await self._send(lane, request, timeout_s)
        except Rejected as exc:
            lane.stats.skipped += 1
            trace.note(who, f"skipped: {exc}")
            return None
        except ProviderError as exc:
            lane.stats.failures += 1
            # provider messages start with its name, which the trace already shows
            detail = str(exc).removeprefix(f"{lane.provider.name}: ")
            trace.note(who, f"{type(exc).__name__}: {detail}")
            return None
        lane.stats.ok += 1
        cost = lane.cost_usd(response.usage)
        lane.budget.spend(cost, today=self._clock.today())
        lane.stats.prompt_tokens += response.usage.prompt_tokens
        lane.stats.completion_tokens += response.usage.completion_tokens
        lane.stats.cost_usd += cost
        trace.prompt_tokens += response.usage.prompt_tokens
        trace.completion_tokens += response.usage.completion_tokens
        trace.cost_usd += cost
        return response

    async def _send(self, lane: _Lane, request: ChatRequest, timeout_s: float) -> ChatResponse:
        """Admission (budget, pause, breaker, rate window), then the call in one of its slots."""
        clock = self._clock
        if lane.budget.exhausted(clock.today()):
            raise Rejected("daily budget spent")
        if clock.now() < lane.paused_until:
            raise Rejected(f"rate limited for {lane.paused_until - clock.now():.1f} s more")
        if not lane.breaker.allow(clock.now()):
            raise Rejected("breaker open")
        reached_provider = False
        try:
            await self._take_rate_slot(lane, timeout_s)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            try:
                async with asyncio.timeout_at(deadline):
                    async with lane.slots.taken(request.priority):
                        reached_provider = True
                        lane.stats.calls += 1
                        asked_at = loop.time()
                        remaining = max(deadline - asked_at, 0.001)
                        response = await lane.provider.chat(request, timeout_s=remaining)
                        lane.answered_in(loop.time() - asked_at)
            except TimeoutError:
                if not reached_provider:
                    raise Rejected(
                        f"all {lane.limits.concurrency} slots busy for {timeout_s:g} s"
                    ) from None
                raise ProviderTimeout(f"no answer within {timeout_s:g} s") from None
        except RateLimited as exc:
            if exc.retry_after_s is None:
                lane.breaker.failure(clock.now())
            else:
                # healthy, just full: honour its pause instead of tripping the breaker
                lane.breaker.abandon()
                lane.paused_until = max(lane.paused_until, clock.now() + exc.retry_after_s)
            raise
        except ProviderError as exc:
            if isinstance(exc, Rejected) or not reached_provider:
                lane.breaker.abandon()
            else:
                lane.breaker.failure(clock.now())
            raise
        except BaseException:
            lane.breaker.abandon()
            raise
        lane.breaker.success()
        return response

    async def _take_rate_slot(self, lane: _Lane, timeout_s: float) -> None:
        """Reserve a slot in the rate window, waiting only if one frees within the timeout."""
        waited = 0.0
        while (wait := lane.window.wait_s(self._clock.now())) > 0:
            if waited + wait > timeout_s:
                raise Rejected(f"rpm limit {lane.limits.rpm}: next slot in {wait:.1f} s")
            await self._clock.sleep(wait)
            waited += wait
        lane.window.record(self._clock.now())


def accept(request: ChatRequest, response: ChatResponse) -> tuple[BaseModel, str]:
    """The task's contract value from a response, with tool calls checked against the registry."""
    if request.task is Task.TOOL_CALL and (response.tool_calls or response.raw_tool_calls):
        if response.raw_tool_calls and not response.tool_calls:
            raise ToolCallError("tool call arguments could not be read")
        if len(response.tool_calls) != 1:
            raise ToolCallError(f"expected one tool call, got {len(response.tool_calls)}")
        call = validate_tool_call(response.tool_calls[0], request.tools)
        raw = response.content or json.dumps([c.model_dump() for c in response.tool_calls])
        return ToolChoice(call=call, reason=_reason_beside_call(response.content)), raw
    value = parse_answer(request.task, response.content)
    updates: dict[str, Any] = {}
    for name, call in tool_calls_in(value):
        updates[name] = validate_tool_call(call, request.tools)
    return (value.model_copy(update=updates) if updates else value), response.content


def _reason_beside_call(content: str) -> str:
    """The text next to a native tool call: a ToolChoice's reason if it is one, else the prose."""
    if not content.strip():
        return ""
    try:
        choice = parse_answer(Task.TOOL_CALL, content)
    except ContractError:
        return content.strip()[:1000]
    return choice.reason if isinstance(choice, ToolChoice) else ""


# --- building from settings and HOWL_CONFIG ------------------------------------------

_PROVIDER_KEYS = frozenset(
    {"base_url", "api_key_env", "model", "local", "concurrency", "rpm", "timeout_s"}
    | {"price_prompt_per_1k", "price_completion_per_1k", "daily_budget_usd"}
    | {"breaker_failures", "breaker_cooldown_s"}
)
#: the provider built from HOWL_LLM_*
DEFAULT = "default"


def build_router(
    settings: Settings,
    config: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    embedded: Provider | None = None,
    clock: RouterClock | None = None,
    fallback: bool = True,
) -> Router:
    """Providers from `[llm.providers.*]` and HOWL_LLM_*, routes from `[llm.routes.*]`.

    The embedded engine is always the last link of every chain; with `fallback=False`
    only each chain's first provider answers (the safe fallback when it fails).
    `environ` is where `api_key_env` names are looked up (the process environment
    unless given).
    """
    env = os.environ if environ is None else environ
    llm = read_table(config.get("llm", {}), "llm")
    providers: list[Provider] = []
    limits: dict[str, ProviderLimits] = {}
    for name, raw in read_table(llm.get("providers", {}), "llm.providers").items():
        where = f"llm.providers.{name}"
        if name in (EMBEDDED, DEFAULT):
            raise config_error(where, f"the name {name!r} is reserved")
        table = read_table(raw, where)
        check_keys(table, _PROVIDER_KEYS, where)
        providers.append(_provider_from_table(name, table, where, env))
        limits[name] = read_limits(table, where)
    if settings.llm_base_url:
        providers.append(
            OpenAICompatProvider(
                name=DEFAULT,
                base_url=settings.llm_base_url,
                model=settings.llm_model,
                api_key=settings.llm_api_key.get_secret_value(),
                local=settings.llm_local,
            )
        )
    if embedded is None:
        # imported lazily: the engine loads its knowledge base, which plain routing never needs
        from core.llm.embedded import EmbeddedEngine, knowledge_from_config

        # a team's knowledge files are read (and a bad one refused) here, at start-up
        knowledge = knowledge_from_config(config, base=settings.config_path)
        embedded = EmbeddedEngine(knowledge=knowledge)
    providers.append(embedded)
    # the embedded engine runs in-process: no rate window, no spend
    limits[EMBEDDED] = ProviderLimits(rpm=None)
    names = {provider.name for provider in providers}
    default_chain = ((DEFAULT,) if settings.llm_base_url else ()) + (EMBEDDED,)
    routes = read_routes(read_table(llm.get("routes", {}), "llm.routes"), names, default_chain)
    return Router(
        providers,
        limits=limits,
        routes=routes,
        default_route=Route(providers=default_chain),
        clock=clock,
        fallback=fallback,
    )


def _provider_from_table(
    name: str, table: Mapping[str, Any], where: str, env: Mapping[str, str]
) -> OpenAICompatProvider:
    base_url = read_str(table, "base_url", where)
    if not base_url.startswith(("http://", "https://")):
        raise config_error(f"{where}.base_url", "expected an http:// or https:// URL")
    api_key = ""
    if "api_key_env" in table:
        variable = read_str(table, "api_key_env", where)
        api_key = env.get(variable, "")
        if not api_key:
            raise config_error(f"{where}.api_key_env", f"the variable {variable} is not set")
    return OpenAICompatProvider(
        name=name,
        base_url=base_url,
        model=read_str(table, "model", where),
        api_key=api_key,
        local=read_bool(table, "local", where, default=False),
        price_prompt_per_1k=read_number(table, "price_prompt_per_1k", where, default=0.0) or 0.0,
        price_completion_per_1k=read_number(table, "price_completion_per_1k", where, default=0.0)
        or 0.0,
    )
