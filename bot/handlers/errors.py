"""The one error handler: log the traceback, tell the person briefly."""

from __future__ import annotations

import structlog
from telegram import Update

from bot.context import Context
from bot.handlers.common import reply
from bot.render.html import esc
from core.errors import HowlError
from core.messages import Rendered

log = structlog.get_logger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log any handler failure; a HowlError is the person's to read, anything else is ours."""
    error = context.error
    if isinstance(error, HowlError) and isinstance(update, Update):
        await reply(update, context, Rendered(text=esc(str(error))))
        return
    log.error("handler_failed", exc_info=error, update_type=type(update).__name__)
    if isinstance(update, Update) and update.effective_chat is not None:
        await reply(
            update,
            context,
            Rendered(text="Something went wrong on our side; it is logged. Please try again."),
        )
