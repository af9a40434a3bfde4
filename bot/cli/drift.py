"""`howl drift scan`: one drift scan now, its report printed and stored.

The report is stored in HOWL_DATABASE_URL (migrated first, as `howl run` does)
so the bot can find it; it does not count as announced, so the next scheduled
scan still posts its card to the chat. Exit status: 0 when the scan ran (drift
or not), 1 with one line on stderr when `[drift]` is wrong or a problem stopped
part of the scan (the report above that line says what was still found).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.drift import build_scanner
from core.config import load_settings
from core.drift.config import check_drift
from core.drift.models import Difference, DriftReport
from core.errors import ConfigError
from core.llm.router import build_router
from core.ports import SystemClock
from core.redact import Redactor
from storage.db import create_engine, describe_db_error, dispose, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlDriftStore


def register(subparsers: Any) -> None:
    drift = subparsers.add_parser("drift", help="config drift: Git against the cluster")
    actions = drift.add_subparsers(dest="drift_command", metavar="ACTION", required=True)
    scan = actions.add_parser("scan", help="one drift scan now, report printed and stored")
    scan.add_argument("--json", action="store_true", help="print the report as JSON")
    scan.set_defaults(handler=_scan)


def _scan(args: argparse.Namespace) -> int:
    report = asyncio.run(scan_once())
    print(report.model_dump_json(indent=2) if args.json else report_text(report))
    if report.problems:
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise ConfigError(f"{report.problems[0]}{more}")
    return 0


async def scan_once() -> DriftReport:
    """Scan with the process's settings and store the report; bad settings raise ConfigError."""
    settings = load_settings()
    config = settings.howl_config()
    drift = check_drift(config)
    if drift is None:
        raise ConfigError("HOWL_CONFIG has no [drift] table: nothing to scan")
    engine = create_engine(settings.database_url)
    router = build_router(settings, config)
    try:
        try:
            await upgrade(engine)
        except Exception as exc:
            raise ConfigError(
                f"HOWL_DATABASE_URL: cannot migrate: {describe_db_error(exc)}"
            ) from None
        clock = SystemClock()
        scanner = build_scanner(
            drift,
            completer=router,
            store=SqlDriftStore(session_factory(engine), clock),
            clock=clock,
            redactor=Redactor(settings.secret_values()),
        )
        return await scanner.scan()
    finally:
        await router.aclose()
        await dispose(engine)


def report_text(report: DriftReport) -> str:
    """The report as plain text for a terminal."""
    lines = [f"drift report {report.id} ({report.scanned_at:%Y-%m-%d %H:%M UTC})", report.summary]
    for problem in report.problems:
        lines.append(f"problem: {problem}")
    for number, obj in enumerate(report.objects, start=1):
        where = f"  [{obj.desired_file}]" if obj.desired_file else ""
        lines.append(
            f"\n{number}. {obj.key.label()} ({obj.key.api_version}) — {obj.level.value}{where}"
        )
        lines.extend(f"   {_difference(d)}" for d in obj.differences)
        if obj.reading is not None:
            lines.append(
                f"   reading: {obj.reading.intent} — {obj.reading.explanation} "
                f"(suggests {obj.reading.recommendation})"
            )
    return "\n".join(lines)


def _difference(diff: Difference) -> str:
    if diff.change == "missing":
        return f"{diff.level.value:8} missing from the cluster"
    if diff.change == "extra":
        return f"{diff.level.value:8} in the cluster, not in Git"
    return f"{diff.level.value:8} {diff.path}: {diff.desired!r} -> {diff.live!r}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_scan(argparse.Namespace(json=False)))
