"""What every handler shares: replying through the outbox, and the two update guards."""

from __future__ import annotations

import structlog
from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import Context, services_of
from core.messages import Priority, Rendered

log = structlog.get_logger(__name__)

NOT_ALLOWED = "Howl does not take button presses from this chat."


async def reply(update: Update, context: Context, content: Rendered) -> None:
    """Answer the person: queued in the outbox ahead of bulk traffic."""
    message = update.effective_message
    chat = update.effective_chat
    if chat is None:
        return
    await services_of(context).outbox.reply(
        chat.id,
        content,
        reply_to_message_id=message.message_id if message is not None else None,
        priority=Priority.REPLY,
    )


async def allowed_chats_only(update: Update, context: Context) -> None:
    """Drop updates from chats outside HOWL_ALLOWED_CHAT_IDS (logged; a press gets a notice)."""
    services = services_of(context)
    chat = update.effective_chat
    if chat is not None and chat.id in services.allowed_chat_ids:
        return
    user = update.effective_user
    log.warning(
        "chat_ignored",
        chat_id=chat.id if chat else None,
        user_id=user.id if user else None,
        update_id=update.update_id,
    )
    services.metrics.update_seen("ignored_chat")
    if update.callback_query is not None:
        # Telegram shows a spinner until a press is answered: say why nothing happens
        await update.callback_query.answer(NOT_ALLOWED)
    raise ApplicationHandlerStop


async def once_per_update(update: Update, context: Context) -> None:
    """Handle each Telegram update once, even when Telegram delivers it again."""
    services = services_of(context)
    chat = update.effective_chat
    first = await services.ledger.first_sighting(
        update.update_id, chat_id=chat.id if chat else None
    )
    if not first:
        log.info("update_duplicate_ignored", update_id=update.update_id)
        services.metrics.update_seen("duplicate")
        raise ApplicationHandlerStop
    services.metrics.update_seen("handled")
