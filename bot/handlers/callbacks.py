"""Button presses: checked, turned into the same service call as the command, answered in one line.

What a press can do is what the data Howl signed says (see bot/keyboards.py);
who may press is settled before this runs (`allowed_chats_only`). Every press
gets exactly one `answerCallbackQuery`: the change made, or why nothing changed
(a button Howl did not make, or a card whose incident moved on since). The
card itself is not edited here: the service's change re-queues it, and the
card publisher renders it like any other change.
"""

from __future__ import annotations

import structlog
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot.context import Context, services_of
from bot.handlers.approvals import approval_pressed
from bot.handlers.drift_presses import drift_pressed
from bot.handlers.incidents import actor_of, done_line
from bot.handlers.knowledge import KNOWLEDGE_SCOPE, knowledge_pressed
from bot.keyboards import (
    APPROVAL_SCOPE,
    DRIFT_SCOPE,
    INCIDENT_SCOPE,
    InvalidCallback,
    incident_press,
)
from core.alerting.models import Actor
from core.errors import HowlError

log = structlog.get_logger(__name__)

NOT_OURS = "This button is not valid; nothing changed."
FAILED = "Something went wrong on our side; it is logged. Please try again."


async def _incident_pressed(
    update: Update, context: Context, fields: tuple[str, ...], actor: Actor
) -> str:
    press = incident_press(fields)
    services = services_of(context)
    until = services.clock.now() + press.silence_for if press.silence_for else None
    after = await services.incidents.act(
        press.incident_id, press.command, actor=actor, until=until, expected=press.seen
    )
    return done_line(after.id, press.command, actor, silenced_for=press.silence_for)


#: scope of the signed data -> what a press on it does; returns the one-line answer
PRESSES = {
    INCIDENT_SCOPE: _incident_pressed,
    APPROVAL_SCOPE: approval_pressed,
    KNOWLEDGE_SCOPE: knowledge_pressed,
    DRIFT_SCOPE: drift_pressed,
}


async def pressed(update: Update, context: Context) -> None:
    """Any inline button: verify its data, act through the service, answer the press."""
    query = update.callback_query
    if query is None:
        return
    actor = actor_of(update)
    try:
        scope, fields = services_of(context).buttons.decode(query.data)
        act = PRESSES.get(scope)
        if act is None:
            raise InvalidCallback(f"unknown scope {scope!r}")
        answer = await act(update, context, fields, actor)
    except InvalidCallback as exc:
        log.warning("button_rejected", reason=str(exc), user=actor.id, update_id=update.update_id)
        answer = NOT_OURS
    except HowlError as exc:
        answer = str(exc)
    except Exception:
        await _answer(update, FAILED)
        raise  # the error handler logs it
    await _answer(update, answer)


async def _answer(update: Update, text: str) -> None:
    """Answer the press; a query Telegram no longer takes (too old) is only logged.

    Whatever the press did is done by now: "something went wrong" would mislead.
    """
    assert update.callback_query is not None
    try:
        await update.callback_query.answer(text)
    except TelegramError as exc:
        log.warning("press_answer_failed", error=str(exc), update_id=update.update_id)


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CallbackQueryHandler(pressed))
