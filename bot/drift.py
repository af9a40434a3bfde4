"""Drift in `howl run`: the scanner built from `[drift]`, the scheduled job, the cards.

Guarantee: a scheduled scan posts a card only when it found drift no earlier
card showed (the scanner keeps the announced set); a scan that fails never
raises out of the job (its problems are logged, and /drift shows them). In
shadow mode, or with no alert chat, cards are logged instead of posted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from apscheduler.triggers.cron import CronTrigger

from bot.keyboards import CallbackCodec
from bot.render.drift import drift_card
from core.actions.process import SubprocessRunner
from core.drift.config import DriftConfig
from core.drift.interpret import Interpreter
from core.drift.models import DriftReport
from core.drift.ports import DriftStore
from core.drift.scan import Scanner
from core.errors import ConfigError
from core.llm.completion import Completer
from core.ports import CardSink, Clock
from core.redact import Redactor

log = structlog.get_logger(__name__)

JOB_NAME = "drift-scan"
#: kubectl get -o json of a whole cluster is large: keep all of it, up to this
LIVE_OUTPUT_BYTES = 64 * 1024 * 1024


def build_scanner(
    config: DriftConfig | None,
    *,
    completer: Completer,
    store: DriftStore,
    clock: Clock,
    redactor: Redactor,
) -> Scanner:
    return Scanner(
        config,
        runner=SubprocessRunner(keep_bytes=LIVE_OUTPUT_BYTES),
        interpreter=Interpreter(completer),
        store=store,
        clock=clock,
        redactor=redactor,
    )


@dataclass
class DriftRuntime:
    """The scanner and where its cards go."""

    scanner: Scanner
    cards: CardSink
    buttons: CallbackCodec
    chat_id: int | None
    shadow: bool

    @property
    def config(self) -> DriftConfig | None:
        return self.scanner.config

    async def post(self, report: DriftReport) -> bool:
        """Post the report's card; False (logged) in shadow mode or with no alert chat."""
        if self.shadow or self.chat_id is None:
            log.info(
                "drift_card_not_posted",
                why="shadow mode" if self.shadow else "no alert chat",
                report=str(report.id),
                summary=report.summary,
            )
            return False
        await self.cards.put_card(drift_card(report, chat_id=self.chat_id, buttons=self.buttons))
        return True

    async def scheduled_scan(self) -> DriftReport | None:
        """One scheduled round: scan, and post a card when new drift appeared."""
        try:
            report = await self.scanner.scheduled()
        except Exception:  # the scanner never raises by design; a bug must not stop the job
            log.exception("drift_scan_failed")
            return None
        if report is not None:
            await self.post(report)
        return report


def schedule_drift(job_queue: Any, runtime: DriftRuntime, callback: Any) -> Any:
    """Add the scan job: an interval (first run after one interval) or a cron trigger (UTC)."""
    config = runtime.config
    if config is None:
        return None
    schedule = config.schedule
    if schedule.every is not None:
        return job_queue.run_repeating(
            callback, interval=schedule.every, first=schedule.every, name=JOB_NAME
        )
    assert schedule.cron is not None
    trigger = CronTrigger.from_crontab(schedule.cron, timezone="UTC")
    return job_queue.run_custom(callback, job_kwargs={"trigger": trigger}, name=JOB_NAME)


def check_cron(config: DriftConfig | None) -> None:
    """A cron schedule APScheduler cannot read is one ConfigError line at start-up."""
    if config is None or config.schedule.cron is None:
        return
    try:
        CronTrigger.from_crontab(config.schedule.cron, timezone="UTC")
    except ValueError as exc:
        raise ConfigError(
            f"HOWL_CONFIG [drift] schedule: {config.schedule.cron!r}: {exc}"
        ) from None
