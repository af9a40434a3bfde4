"""/runbooks, /runbook <id>, and the Publish / Reject press on a runbook's review card.

Only a member of HOWL_APPROVER_IDS may publish or reject; anyone else is
answered with a short notice and nothing changes. A second press (or one on
a card someone decided a moment earlier) is told who decided.
"""

from __future__ import annotations

import structlog
from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import Context, services_of
from bot.handlers.common import reply
from bot.keyboards import KNOWLEDGE_SCOPE, review_press
from bot.render.knowledge import render_entries, render_entry
from core.alerting.models import Actor
from core.errors import InvalidInputError, NotFoundError

log = structlog.get_logger(__name__)

__all__ = ["KNOWLEDGE_SCOPE", "knowledge_pressed", "register", "runbook", "runbooks"]

LIST_LIMIT = 20
USAGE = "/runbook <id>, e.g. /runbook 3"
NOT_AN_APPROVER = "Only approvers can publish or reject runbooks; nothing changed."


async def runbooks(update: Update, context: Context) -> None:
    """Runbooks and anti-patterns, newest first, with their status."""
    found = await services_of(context).knowledge.recent(limit=LIST_LIMIT)
    await reply(update, context, render_entries(found, limit=LIST_LIMIT))


async def runbook(update: Update, context: Context) -> None:
    """One runbook or anti-pattern, whole."""
    args = context.args or []
    raw = args[0].lstrip("#") if args else ""
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInputError(f"Usage: {USAGE}")
    services = services_of(context)
    entry = await services.knowledge.get(int(raw))
    if entry is None:
        raise NotFoundError(f"No runbook or anti-pattern #{raw}.")
    await reply(
        update,
        context,
        render_entry(entry, window=services.knowledge.anti_pattern_window),
    )


async def knowledge_pressed(
    update: Update, context: Context, fields: tuple[str, ...], actor: Actor
) -> str:
    """A press on Publish / Reject (scope `k`); the one-line answer."""
    verdict, entry_id = review_press(fields)
    services = services_of(context)
    user = update.effective_user
    if user is None or user.id not in services.settings.effective_approver_ids():
        log.warning("runbook_review_refused", entry_id=entry_id, user=actor.id)
        return NOT_AN_APPROVER
    entry = await services.knowledge.review(entry_id, publish=verdict == "publish", by=actor.name)
    return f"Runbook #{entry.id} {entry.status.value}."


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("runbooks", runbooks))
    application.add_handler(CommandHandler("runbook", runbook))
