"""`howl replay`'s progress and summary line, without a process."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.cli.progress import Progress
from bot.cli.replay import summary
from core.replay.runner import ReplayReport, ReplayResult


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _result(*, ok: bool) -> ReplayResult:
    return ReplayResult(
        run_id="r",
        incident_id="i",
        candidate_id="c",
        output={},
        latency_s=0.0,
        fallback_used=not ok,
        error=None if ok else "default: invalid answer",
    )


def test_on_a_terminal_a_bar_is_redrawn_in_place() -> None:
    stream, clock = Terminal(), Clock()
    progress = Progress(4, stream, clock=clock)
    progress(_result(ok=True))
    clock.now = 2.0
    progress(_result(ok=False))
    progress.finish()
    assert stream.getvalue() == (
        "\r[" + "#" * 7 + "." * 23 + "] 1/4 done, model failed 0, 0 s"
        "\r[" + "#" * 15 + "." * 15 + "] 2/4 done, model failed 1, 2 s"
        "\r[" + "#" * 15 + "." * 15 + "] 2/4 done, model failed 1, 2 s\n"
    )


async def test_elsewhere_a_line_every_few_seconds_even_while_nothing_arrives() -> None:
    stream, clock = io.StringIO(), Clock()

    async def sleep(seconds: float) -> None:
        clock.now += seconds
        if clock.now > 12:
            raise asyncio.CancelledError

    progress = Progress(3, stream, every_s=5.0, clock=clock, sleep=sleep)
    progress(_result(ok=False))  # no line per result off a terminal
    with pytest.raises(asyncio.CancelledError):
        await progress.ticking()
    assert stream.getvalue().splitlines() == [
        "replay: 1/3 done, model failed 1, 5 s",
        "replay: 1/3 done, model failed 1, 10 s",
    ]


def _report(**counts: int) -> ReplayReport:
    return ReplayReport.model_validate(
        {
            "total": 3,
            "failures": [],
            "latency_avg_s": 0.2,
            "latency_p95_s": 0.5,
            "total_cost_usd": 0.0,
            "total_tokens": 0,
            "model": "nemotron",
            "evaluated": "default",
        }
        | counts
    )


def test_the_summary_says_how_the_model_fared_then_who_answered() -> None:
    report = _report(
        ok=1, fallback=1, blocked=1, errors=2, providers={"default": 1, "embedded": 1, "blocked": 1}
    )
    assert summary(report, Path("r.jsonl"), Path("rep.json")) == (
        "replayed 3 request(s) with nemotron: the model answered 1, failed 2 of 3; "
        "answers: blocked 1, default 1, embedded 1; p95 0.500 s; results in r.jsonl, "
        "report in rep.json"
    )
