"""/drift: scan for config drift now; and the scheduled scan job.

The answer is the report card itself (with its Roll back / Adopt / Ignore
buttons when something drifted), as a reply to the person who asked. Drift it
shows counts as announced, so the next scheduled scan does not post it again.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import Context, services_of
from bot.handlers.common import reply
from bot.render.drift import drift_card, render_drift_report


async def drift(update: Update, context: Context) -> None:
    """Scan now and answer with the drift report."""
    services = services_of(context)
    report, _new = await services.drift.scanner.scan_announcing()
    chat = update.effective_chat
    if report.objects and chat is not None:
        card = drift_card(report, chat_id=chat.id, buttons=services.buttons)
        await reply(update, context, card.content)
        return
    await reply(update, context, render_drift_report(report))


async def scan_drift(context: Context) -> None:
    """Job: a scheduled drift scan; posts a card to the alert chat only for new drift."""
    await services_of(context).drift.scheduled_scan()


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("drift", drift))
