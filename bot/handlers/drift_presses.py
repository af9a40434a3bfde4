"""Presses on a drift report's Roll back / Adopt / Ignore: an approver's decision, audited.

The press is the approval: only `HOWL_APPROVER_IDS` may decide, each decision is
appended to the audit log with who, when and what it did, and shadow mode
changes nothing (the audit says what would have happened). Roll back applies
the desired file through the action executor (argv, never a shell), Adopt
commits the live object on a new branch naming the approver, Ignore keeps the
drift quiet until it changes again.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog
from telegram import Update

from bot.context import Context, services_of
from bot.keyboards import drift_press
from bot.services import Services
from core.actions.executor import ActionStatus
from core.actions.process import SubprocessRunner
from core.alerting.models import Actor
from core.approvals import NOT_APPROVER
from core.audit import AuditEntry
from core.drift.config import DriftConfig
from core.drift.models import DriftReport
from core.drift.operations import adopt, ignore, roll_back, rollback_executor
from core.redact import Redactor

log = structlog.get_logger(__name__)

GONE = "This drift report is no longer stored; /drift scans again."
NOT_CONFIGURED = "Drift is not configured ([drift] in HOWL_CONFIG); nothing changed."
SHADOW = "Shadow mode: nothing is changed; the audit log records what would have happened."


async def drift_pressed(
    update: Update, context: Context, fields: tuple[str, ...], actor: Actor
) -> str:
    press = drift_press(fields)
    services = services_of(context)
    user = update.effective_user
    if user is None or user.id not in services.settings.effective_approver_ids():
        return NOT_APPROVER
    config = services.drift.config
    if config is None:
        return NOT_CONFIGURED
    report = await services.drift.scanner.store.get_report(press.report_id)
    if report is None:
        return GONE
    if press.index >= len(report.objects):
        return "That object is not in this report; nothing changed."
    subject = report.objects[press.index].key.label()
    if services.settings.shadow:
        await _audit(services, actor, f"drift.{press.verb}", press.report_id, subject, shadow=True)
        return SHADOW
    answer, detail = await _apply(services, press.verb, report, press.index, config, actor)
    await _audit(services, actor, f"drift.{press.verb}", press.report_id, subject, **detail)
    return answer


async def _apply(
    services: Services,
    verb: str,
    report: DriftReport,
    index: int,
    config: DriftConfig,
    actor: Actor,
) -> tuple[str, dict[str, Any]]:
    approver = f"{actor.name} ({actor.id.removeprefix('tg:')})"
    try:
        if verb == "rollback":
            redactor = Redactor(services.settings.secret_values())
            executor = rollback_executor(config, SubprocessRunner(), redactor)
            result = await roll_back(report, index, config=config, executor=executor)
            ok = result.status is ActionStatus.SUCCEEDED
            detail = {"status": result.status.value, "exit_code": result.exit_code,
                      "argv": list(result.argv), "reason": result.reason}  # fmt: skip
            line = "Rolled back." if ok else f"Roll back {result.status.value}: {result.reason}"
            return f"{line} (by {actor.name})"[:190], detail
        if verb == "adopt":
            adopted = await adopt(
                report, index, config=config, runner=SubprocessRunner(), approver=approver
            )
            if not adopted.ok:
                return f"Adopt failed: {adopted.reason}"[:190], {
                    "ok": False,
                    "reason": adopted.reason,
                }
            detail = {"ok": True, "branch": adopted.branch, "commit": adopted.commit,
                      "file": adopted.file}  # fmt: skip
            return f"Adopted on branch {adopted.branch} ({adopted.commit[:10]})."[:190], detail
        count = await ignore(report, index, store=services.drift.scanner.store, actor=approver)
        return "Ignored until it changes again.", {"marked": count}
    except LookupError:
        return "That object is not in this report; nothing changed.", {"refused": "bad index"}


async def _audit(
    services: Services, actor: Actor, action: str, report_id: UUID, subject: str, **detail: Any
) -> None:
    await services.audit.append(
        AuditEntry(
            at=services.clock.now(),
            actor=actor.id,
            action=action,
            subject=f"drift:{report_id}",
            detail={"by": actor.name, "object": subject, **detail},
        )
    )
