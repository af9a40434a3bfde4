"""Approve / Reject presses on decision cards, the rejecter's reason, and the expiry job.

Thin: the button's signed data names an approval request (bot/keyboards.py);
whether the press counts, and everything it changes, is the approval flow's
(core/approval_flow.py). A press that counts edits the card through the flow;
an approved action starts in a task of its own, so the press is answered at once.
A rejection asks for an optional reason with a ForceReply message; a reply to
that message from the rejecter is recorded (and audited).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import UUID

import structlog
from telegram import ForceReply, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, MessageHandler, filters

from bot.context import Context, services_of
from bot.handlers.common import reply
from bot.keyboards import InvalidCallback, approval_press, short_uuid, uuid_of
from bot.render.html import esc
from core.alerting.models import Actor
from core.approvals import ApprovalRequest
from core.messages import Rendered

log = structlog.get_logger(__name__)

#: how the reason question starts; a reply to a bot message starting so is a reason
REASON_PROMPT = "✍️ Why was this rejected?"
_REQUEST_TOKEN = re.compile(r"Request: ([0-9A-Za-z_-]{22})\s*$")
REASON_KEPT = "Reason recorded."
REASON_NOT_YOURS = "Only the person who rejected it can give its reason, once; nothing recorded."
#: the expiry job's period: a tenth of the TTL, between half a second and 10 s
SWEEP_MIN_S, SWEEP_MAX_S = 0.5, 10.0


def sweep_every(ttl_s: float) -> timedelta:
    """How often the expiry job runs: often enough that a request never outlives its TTL long.

    >>> sweep_every(900).total_seconds(), sweep_every(1).total_seconds()
    (10.0, 0.5)
    """
    return timedelta(seconds=min(SWEEP_MAX_S, max(ttl_s / 10, SWEEP_MIN_S)))


async def approval_pressed(
    update: Update, context: Context, fields: tuple[str, ...], actor: Actor
) -> str:
    """An `a` button: count the press (or say why not); start the action, or ask why not."""
    verdict, request_id = approval_press(fields)
    user = update.effective_user
    if user is None:
        raise InvalidCallback("a press without a user")
    flow = services_of(context).approvals
    answer = await flow.press(request_id, verdict, user_id=user.id, name=actor.name)
    request = answer.request
    if answer.execute and request is not None:
        context.application.create_task(
            flow.execute(request.run_id), name=f"execute-{request.run_id}"
        )
    if answer.ask_reason and request is not None:
        context.application.create_task(_ask_reason(update, context, request))
    return answer.notice


async def _ask_reason(update: Update, context: Context, request: ApprovalRequest) -> None:
    """A ForceReply question under the card, addressed to the rejecter."""
    query, user = update.callback_query, update.effective_user
    chat = update.effective_chat
    if query is None or user is None or chat is None:
        return
    mention = f'<a href="tg://user?id={user.id}">{esc(user.full_name)}</a>'
    text = (
        f"{REASON_PROMPT} {mention}, reply to this message with a reason (optional).\n"
        f"Request: {short_uuid(request.id)}"
    )
    card = query.message
    try:
        await context.bot.send_message(
            chat.id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=ForceReply(selective=True, input_field_placeholder="Reason (optional)"),
            reply_parameters=(
                ReplyParameters(message_id=card.message_id, allow_sending_without_reply=True)
                if isinstance(card, Message)
                else None
            ),
        )
    except TelegramError as exc:  # the rejection stands; only the question is lost
        log.warning("reason_prompt_failed", error=str(exc))


def reason_request(message: Message, *, bot_id: int) -> UUID | None:
    """The request a reply answers, if it replies to one of our reason questions."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return None
    text = replied.text or ""
    found = _REQUEST_TOKEN.search(text)
    if not text.startswith(REASON_PROMPT) or found is None:
        return None
    try:
        return uuid_of(found.group(1))
    except InvalidCallback:
        return None


async def reason_replied(update: Update, context: Context) -> None:
    """A reply to a reason question: kept if it is the rejecter's; nothing else sees it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not message.text:
        return
    request_id = reason_request(message, bot_id=context.bot.id)
    if request_id is None:
        return  # not ours: the chat handlers answer it
    kept = await services_of(context).approvals.record_reason(
        request_id, user_id=user.id, name=user.full_name, text=message.text
    )
    await reply(update, context, Rendered(text=REASON_KEPT if kept else REASON_NOT_YOURS))
    raise ApplicationHandlerStop


async def sweep_approvals(context: Any) -> None:
    """The expiry job: stale requests expired (cards edited, runs completed)."""
    expired = await services_of(context).approvals.sweep()
    if expired:
        log.info("approvals_expired", count=expired)


class _ReplyToReasonQuestion(filters.MessageFilter):
    """A reply to a bot's message that asks for a reason: nothing else matches, so the
    handler never stands in the way of another handler of its group."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        sender = replied.from_user if replied is not None else None
        return (
            replied is not None
            and sender is not None
            and sender.is_bot
            and (replied.text or "").startswith(REASON_PROMPT)
        )


#: before the chat handlers (group 1), after the update guards (groups -2, -1)
GROUP = 0


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE
            & filters.TEXT
            & ~filters.COMMAND
            & _ReplyToReasonQuestion(name="reply_to_reason_question"),
            reason_replied,
        ),
        group=GROUP,
    )
