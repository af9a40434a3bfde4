"""The replay runner: bounded concurrency, order kept, results and report written."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core.config import load_settings
from core.llm.completion import Completion
from core.llm.contracts import safe_fallback
from core.llm.router import build_router
from core.llm.schemas import DecisionDraft, RiskLevel
from core.llm.types import ChatRequest, Usage
from core.replay.pack import ReplayRequest, load_pack
from core.replay.runner import build_report, run_replay, write_report, write_results
from tests.unit.replay.helpers import request_line, write_pack


class SlowCompleter:
    """A fake Completer that records how many calls were in flight at once."""

    def __init__(self, delay_s: float = 0.01) -> None:
        self.delay_s = delay_s
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = 0
        self.seen: list[str] = []

    async def complete(self, request: ChatRequest) -> Completion:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        incident = request.messages[-1].content.split(":")[0]
        # later requests answer sooner, so completion order differs from request order
        self.started += 1
        await asyncio.sleep(self.delay_s / self.started)
        self.seen.append(incident)
        self.in_flight -= 1
        if incident.endswith("inc-3"):
            return Completion(
                value=safe_fallback(request.task, "all providers failed"),
                fallback_used=True,
                error="all providers failed",
                attempts=["fake: down"],
                latency_s=0.2,
            )
        return Completion(
            value=DecisionDraft(
                risk_level=RiskLevel.LOW,
                requires_human_approval=False,
                confidence=0.5,
                diagnosis="d",
                summary=incident,
            ),
            provider="fake",
            model="fake-1",
            usage=Usage(prompt_tokens=10, completion_tokens=5),
            cost_usd=0.001,
            latency_s=0.1,
            attempts=["fake: ok"],
        )


def _requests(tmp_path: Path, n: int) -> list[ReplayRequest]:
    return load_pack(write_pack(tmp_path / "p.jsonl", [request_line(f"inc-{i}") for i in range(n)]))


@pytest.mark.parametrize("concurrency", [1, 3, 8])
async def test_concurrency_is_bounded(tmp_path: Path, concurrency: int) -> None:
    completer = SlowCompleter()
    results = await run_replay(
        _requests(tmp_path, 12), completer, concurrency=concurrency, model="m", evaluated="fake"
    )
    assert len(results) == 12
    assert completer.max_in_flight == concurrency


async def test_order_is_kept_and_fields_filled(tmp_path: Path) -> None:
    completer = SlowCompleter()
    results = await run_replay(
        _requests(tmp_path, 6), completer, concurrency=6, model="m", evaluated="fake"
    )
    assert completer.seen != [f"Incident inc-{i}" for i in range(6)], "finished out of order"
    assert [r.incident_id for r in results] == [f"inc-{i}" for i in range(6)]
    ok = results[0]
    assert ok.output["summary"] == "Incident inc-0"
    assert (ok.provider, ok.model, ok.trace_complete) == ("fake", "fake-1", True)
    assert ok.usage == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    failed = results[3]
    assert (failed.fallback_used, failed.blocked, failed.provider) == (True, True, "")
    assert failed.error == "all providers failed"
    assert failed.output["requires_human_approval"] is True
    assert failed.model == "m", "the run's model names a fallback line"


async def test_report_and_files(tmp_path: Path) -> None:
    results = await run_replay(
        _requests(tmp_path, 5), SlowCompleter(), concurrency=2, model="m", evaluated="fake"
    )
    report = build_report(results, model="m", evaluated="fake")
    assert (report.total, report.ok, report.fallback, report.blocked, report.errors) == (
        5, 4, 0, 1, 1
    )  # fmt: skip
    assert report.providers == {"fake": 4, "blocked": 1}
    assert [f.incident_id for f in report.failures] == ["inc-3"]
    assert report.latency_avg_s == pytest.approx((0.1 * 4 + 0.2) / 5)
    assert report.latency_p95_s == pytest.approx(0.2)
    assert report.total_cost_usd == pytest.approx(0.004)
    assert report.total_tokens == 60
    write_results(tmp_path / "r.jsonl", results)
    write_report(tmp_path / "report.json", report)
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert [json.loads(line)["incident_id"] for line in lines] == [f"inc-{i}" for i in range(5)]
    expected_keys = {
        "run_id", "incident_id", "candidate_id", "output", "latency_s", "usage", "cost_usd",
        "retry_used", "fallback_used", "blocked", "trace_complete", "error", "provider",
        "model", "attempts",
    }  # fmt: skip
    assert set(json.loads(lines[0])) == expected_keys
    assert json.loads((tmp_path / "report.json").read_text())["failures"][0]["incident_id"] == (
        "inc-3"
    )


async def test_a_raising_completer_becomes_an_error_line(tmp_path: Path) -> None:
    class Broken:
        async def complete(self, request: ChatRequest) -> Completion:
            raise RuntimeError("boom")

    (result,) = await run_replay(
        _requests(tmp_path, 1), Broken(), concurrency=1, model="m", evaluated="fake"
    )
    assert result.error == "RuntimeError: boom"
    assert result.output == {} and not result.trace_complete


async def test_embedded_engine_through_the_router(tmp_path: Path) -> None:
    completer = build_router(load_settings(_env_file=None, HOWL_LLM_BASE_URL=""), {})
    (result,) = await run_replay(
        _requests(tmp_path, 1), completer, concurrency=1, model="m", evaluated="embedded"
    )
    await completer.aclose()
    assert result.error is None and result.provider == "embedded"
    assert result.output["recommended_action"]["tool"] == "rollback_deployment"
    assert result.output["requires_human_approval"] is True


async def test_concurrency_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await run_replay(
            _requests(tmp_path, 1), SlowCompleter(), concurrency=0, model="m", evaluated="fake"
        )


class OtherAnswers:
    """The evaluated provider failed twice and the next one in the chain answered."""

    async def complete(self, request: ChatRequest) -> Completion:
        return Completion(
            value=DecisionDraft(
                risk_level=RiskLevel.HIGH,
                requires_human_approval=True,
                confidence=0.5,
                diagnosis="d",
                summary="s",
            ),
            provider="embedded",
            model="howl-rules-v1",
            attempts=[
                "default: invalid answer: not JSON",
                "default (repair): invalid answer: not JSON",
                "embedded: ok",
            ],
        )


async def test_an_answer_from_another_provider_is_a_failure_of_the_evaluated_one(
    tmp_path: Path,
) -> None:
    (result,) = await run_replay(
        _requests(tmp_path, 1), OtherAnswers(), concurrency=1, model="m", evaluated="default"
    )
    assert (result.provider, result.model) == ("embedded", "howl-rules-v1")
    assert (result.fallback_used, result.blocked, result.ok) == (True, False, False)
    assert result.error == (
        "default: invalid answer: not JSON; default (repair): invalid answer: not JSON"
    )
    report = build_report([result], model="m", evaluated="default")
    assert (report.ok, report.fallback, report.blocked, report.errors) == (0, 1, 0, 1)
    assert report.providers == {"embedded": 1}


async def test_each_result_is_seen_as_it_arrives(tmp_path: Path) -> None:
    seen: list[str] = []
    await run_replay(
        _requests(tmp_path, 3),
        SlowCompleter(),
        concurrency=3,
        model="m",
        evaluated="fake",
        on_result=lambda r: seen.append(r.incident_id),
    )
    assert sorted(seen) == ["inc-0", "inc-1", "inc-2"]
