"""`howl replay`: run a request pack through the configured LLM, or score its results.

howl replay REQUESTS.jsonl --out RESULTS.jsonl [--report REPORT.json]
            [--concurrency N] [--model NAME] [--fallback]
howl replay score RESULTS.jsonl --labels LABELS.jsonl

Replay evaluates the model it names (HOWL_LLM_*, or the embedded engine when none
is set): when that model fails after its repair attempt the result is the safe
blocked answer and counts as its failure. Only with --fallback may the embedded
engine answer in its place, and then each result says which provider answered.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from pathlib import Path
from typing import Any

from bot.cli.progress import Progress
from core.config import load_settings
from core.llm.embedded import MODEL_NAME
from core.llm.limits import EMBEDDED
from core.llm.router import DEFAULT, build_router
from core.replay.evaluation import (
    evaluate,
    is_evaluation_labels,
    load_judgements,
    render_evaluation,
)
from core.replay.pack import load_pack
from core.replay.runner import (
    ReplayReport,
    build_report,
    run_replay,
    write_report,
    write_results,
)
from core.replay.score import load_labels, load_results, render_score, score

USAGE = (
    "howl replay REQUESTS.jsonl --out RESULTS.jsonl [--report REPORT.json] "
    "[--concurrency N] [--model NAME] [--fallback]\n"
    "       howl replay score RESULTS.jsonl --labels LABELS.jsonl"
)


def register(subparsers: Any) -> None:
    replay = subparsers.add_parser(
        "replay",
        help="replay a sanitized request pack through the LLM, or score its results",
        usage=USAGE,
        description="Replay request packs offline (one result line per request and a run "
        "report), or score results against labels kept apart from the requests.",
    )
    replay.add_argument("paths", nargs="+", metavar="FILE", help="REQUESTS.jsonl, or score FILE")
    replay.add_argument("--out", type=Path, help="results JSONL to write")
    replay.add_argument("--report", type=Path, help="run report JSON to write")
    replay.add_argument("--concurrency", type=int, default=4, help="requests in flight (4)")
    replay.add_argument("--model", help="model name for the default provider (HOWL_LLM_MODEL)")
    replay.add_argument(
        "--fallback",
        action="store_true",
        help="let the embedded engine answer where the model fails (each result says who)",
    )
    replay.add_argument("--labels", type=Path, help="labels JSONL, for `replay score`")
    replay.set_defaults(handler=functools.partial(_dispatch, replay))


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    paths: list[str] = args.paths
    if paths[0] == "score":
        if len(paths) != 2:
            parser.error("replay score takes exactly one RESULTS.jsonl")
        if args.labels is None:
            parser.error("replay score needs --labels LABELS.jsonl")
        if args.out or args.report or args.model or args.fallback:
            parser.error("--out, --report, --model and --fallback are for replaying, not scoring")
        return _score(Path(paths[1]), args.labels)
    if len(paths) != 1:
        parser.error("replay takes one REQUESTS.jsonl (or: replay score RESULTS.jsonl)")
    if args.out is None:
        parser.error("replay needs --out RESULTS.jsonl")
    if args.labels is not None:
        parser.error("--labels is for `replay score`")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return _replay(args)


def _replay(args: argparse.Namespace) -> int:
    requests = load_pack(args.paths[0])
    settings = load_settings()
    if args.model:
        settings = settings.model_copy(update={"llm_model": args.model})
    model = settings.llm_model if settings.llm_base_url else MODEL_NAME
    evaluated = DEFAULT if settings.llm_base_url else EMBEDDED
    completer = build_router(settings, settings.howl_config(), fallback=args.fallback)
    progress = Progress(len(requests), sys.stderr)

    async def go() -> None:
        progress.show()
        ticker = asyncio.create_task(progress.ticking())
        try:
            results = await run_replay(
                requests,
                completer,
                concurrency=args.concurrency,
                model=model,
                evaluated=evaluated,
                on_result=progress,
            )
        finally:
            ticker.cancel()
            await completer.aclose()
        progress.finish()
        write_results(args.out, results)
        report = build_report(results, model=model, evaluated=evaluated)
        if args.report is not None:
            write_report(args.report, report)
        print(summary(report, args.out, args.report))

    asyncio.run(go())
    return 0


def summary(report: ReplayReport, out: Path, report_path: Path | None) -> str:
    """One line: how the named model fared, then who gave the answers."""
    answers = ", ".join(f"{name} {count}" for name, count in sorted(report.providers.items()))
    return (
        f"replayed {report.total} request(s) with {report.model}: the model answered "
        f"{report.ok}, failed {report.errors} of {report.total}; answers: {answers}; "
        f"p95 {report.latency_p95_s:.3f} s; results in {out}"
        + (f", report in {report_path}" if report_path else "")
    )


def _score(results_path: Path, labels_path: Path) -> int:
    results = load_results(results_path)
    if is_evaluation_labels(labels_path):
        # acceptable-set labels (tests/evaluation/README.md)
        lines = render_evaluation(evaluate(results, load_judgements(labels_path)))
    else:
        lines = render_score(score(results, load_labels(labels_path)))
    for line in lines:
        print(line)
    return 0
