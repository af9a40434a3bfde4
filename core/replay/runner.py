"""Replaying a pack through a Completer: bounded concurrency, one result per request, a report.

A replay evaluates one provider (the model it names). Each result says who
answered: that provider, another one (only when the router may fall back), or
nobody — the safe blocked answer. Both of the latter count as that provider's
failure, with the reason; a run's report counts answers per provider.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from core.llm.completion import Completer, Completion
from core.replay.pack import ReplayRequest


class ReplayResult(BaseModel):
    """One line of a results file."""

    run_id: str
    incident_id: str
    candidate_id: str
    output: dict[str, Any]
    latency_s: float
    usage: dict[str, int] = Field(default_factory=dict)
    cost_usd: float = 0.0
    retry_used: bool = False
    #: the answer is not the evaluated provider's: another provider's, or the blocked one
    fallback_used: bool = False
    #: nobody answered validly: the safe answer (no action, a person decides)
    blocked: bool = False
    trace_complete: bool = False
    #: why the evaluated provider gave no answer (None when it answered)
    error: str | None = None
    #: who answered ("" when blocked)
    provider: str = ""
    model: str = ""
    #: each provider tried, in order, with its outcome
    attempts: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.fallback_used


class Failure(BaseModel):
    incident_id: str
    candidate_id: str
    error: str


class ReplayReport(BaseModel):
    """What a run did, in numbers a person compares between models."""

    total: int
    #: answered by the evaluated provider
    ok: int
    #: answered by another provider in its place
    fallback: int
    #: answered by nobody: the safe blocked answer
    blocked: int
    #: the evaluated provider's failures (fallback + blocked)
    errors: int
    failures: list[Failure]
    latency_avg_s: float
    latency_p95_s: float
    total_cost_usd: float
    total_tokens: int
    #: answers per provider; BLOCKED counts the safe blocked answers
    providers: dict[str, int]
    model: str
    evaluated: str


def _usage(completion: Completion) -> dict[str, int]:
    usage = completion.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _failure_of(evaluated: str, completion: Completion) -> str | None:
    """Why the evaluated provider did not answer; None when it did."""
    if completion.fallback_used:
        return completion.error or "no valid answer"
    if completion.provider == evaluated:
        return None
    own = [a for a in completion.attempts if a.startswith((f"{evaluated}:", f"{evaluated} ("))]
    return "; ".join(own) or f"{evaluated} was not asked"


async def _one(
    request: ReplayRequest, completer: Completer, model: str, evaluated: str
) -> ReplayResult:
    started = time.perf_counter()
    try:
        completion = await completer.complete(request.to_chat_request())
    except Exception as exc:
        # a Completer should never raise; if one does, the run goes on and the line says why
        return ReplayResult(
            run_id=request.run_id,
            incident_id=request.incident_id,
            candidate_id=request.candidate_id,
            output={},
            latency_s=time.perf_counter() - started,
            fallback_used=True,
            blocked=True,
            error=f"{type(exc).__name__}: {exc}",
            model=model,
        )
    return ReplayResult(
        run_id=request.run_id,
        incident_id=request.incident_id,
        candidate_id=request.candidate_id,
        output=completion.value.model_dump(mode="json"),
        latency_s=completion.latency_s or time.perf_counter() - started,
        usage=_usage(completion),
        cost_usd=completion.cost_usd,
        retry_used=completion.retry_used,
        fallback_used=completion.fallback_used or completion.provider != evaluated,
        blocked=completion.fallback_used,
        trace_complete=completion.trace_complete,
        error=_failure_of(evaluated, completion),
        provider=completion.provider,
        # a blocked line names the model that failed
        model=completion.model or model,
        attempts=completion.attempts,
    )


async def run_replay(
    requests: Sequence[ReplayRequest],
    completer: Completer,
    *,
    concurrency: int,
    model: str,
    evaluated: str,
    on_result: Callable[[ReplayResult], None] | None = None,
) -> list[ReplayResult]:
    """Every request answered, at most `concurrency` at a time, results in request order.

    `evaluated` names the provider under evaluation and `model` its model;
    `on_result` sees each result as it arrives (progress).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    gate = asyncio.Semaphore(concurrency)

    async def bounded(request: ReplayRequest) -> ReplayResult:
        async with gate:
            result = await _one(request, completer, model, evaluated)
        if on_result is not None:
            on_result(result)
        return result

    return list(await asyncio.gather(*(bounded(r) for r in requests)))


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.95), percentile([], 0.5)
    (4.0, 0.0)
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


#: the key of `ReplayReport.providers` counting the safe blocked answers
BLOCKED = "blocked"


def build_report(results: Sequence[ReplayResult], *, model: str, evaluated: str) -> ReplayReport:
    latencies = [r.latency_s for r in results]
    providers: dict[str, int] = {}
    for result in results:
        key = BLOCKED if result.blocked else result.provider
        providers[key] = providers.get(key, 0) + 1
    return ReplayReport(
        total=len(results),
        ok=sum(1 for r in results if r.ok),
        fallback=sum(1 for r in results if r.fallback_used and not r.blocked),
        blocked=sum(1 for r in results if r.blocked),
        errors=sum(1 for r in results if not r.ok),
        failures=[
            Failure(incident_id=r.incident_id, candidate_id=r.candidate_id, error=r.error)
            for r in results
            if r.error is not None
        ],
        latency_avg_s=sum(latencies) / len(latencies) if latencies else 0.0,
        latency_p95_s=percentile(latencies, 0.95),
        total_cost_usd=sum(r.cost_usd for r in results),
        total_tokens=sum(r.usage.get("total_tokens", 0) for r in results),
        providers=providers,
        model=model,
        evaluated=evaluated,
    )


def write_results(path: str | Path, results: Sequence[ReplayResult]) -> None:
    lines = [json.dumps(r.model_dump(mode="json"), sort_keys=True) for r in results]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def write_report(path: str | Path, report: ReplayReport) -> None:
    Path(path).write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
