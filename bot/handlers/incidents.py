"""/alert, /incidents, /incident, /ack, /resolve and /silence.

Failures a person causes (no such incident, already resolved, a bad duration)
are raised as HowlError and answered in one line by the error handler.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import SERVICES_KEY, Context, services_of
from bot.handlers.common import reply
from bot.render.html import esc
from bot.render.incident import headline
from bot.render.incident_detail import DETAIL_ALERTS, render_incident_detail
from core.alerting.durations import describe, parse_duration
from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Incident, IncidentStatus
from core.errors import InvalidInputError
from core.messages import Rendered

LIST_LIMIT = 20
SILENCE_LIFT_EVERY = timedelta(seconds=30)


def actor_of(update: Update) -> Actor:
    user = update.effective_user
    if user is None:
        return Actor(id="tg:unknown", name="someone")
    return Actor(id=f"tg:{user.id}", name=user.full_name or user.username or str(user.id))


def incident_id_arg(args: list[str], usage: str) -> int:
    if not args:
        raise InvalidInputError(f"Usage: {usage}")
    raw = args[0].lstrip("#")
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidInputError(f"{raw[:20]!r} is not an incident number. Usage: {usage}")
    return int(raw)


async def alert(update: Update, context: Context) -> None:
    """Open a manual incident from what the person typed."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    _, _, body = text.partition(" ")
    incident = await services_of(context).incidents.open_manual(body, actor=actor_of(update))
    await reply(update, context, Rendered(text=f"Opened {headline(incident)}"))


async def incidents(update: Update, context: Context) -> None:
    found = await services_of(context).incidents.recent(open_only=True, limit=LIST_LIMIT)
    if not found:
        await reply(update, context, Rendered(text="No open incidents. 🌙"))
        return
    lines = [f"<b>Open incidents</b> (newest first, up to {LIST_LIMIT})", *map(headline, found)]
    await reply(update, context, Rendered(text="\n".join(lines)))


async def incident(update: Update, context: Context) -> None:
    """The incident in full: every alert and annotation, in as many messages as it takes."""
    incident_id = incident_id_arg(context.args or [], "/incident <id>, e.g. /incident 12")
    view = await services_of(context).incidents.view(incident_id, alerts=DETAIL_ALERTS)
    for part in render_incident_detail(view):
        await reply(update, context, part)


async def _act(update: Update, context: Context, command: Command, usage: str) -> None:
    incident_id = incident_id_arg(context.args or [], usage)
    services = services_of(context)
    actor = actor_of(update)
    until, duration = None, None
    if command is Command.SILENCE:
        args = context.args or []
        if len(args) < 2:
            raise InvalidInputError(f"Usage: {usage}")
        duration = parse_duration(args[1])
        until = services.clock.now() + duration
    after = await services.incidents.act(incident_id, command, actor=actor, until=until)
    text = done_line(after.id, command, actor, silenced_for=duration)
    # plain text (a button's answer uses it as is); a name may hold '<' or '&'
    lines = [esc(text), *alertmanager_warning(after)]
    await reply(update, context, Rendered(text="\n".join(lines)))


def done_line(
    incident_id: int, command: Command, actor: Actor, *, silenced_for: timedelta | None = None
) -> str:
    """`Incident #12 acknowledged by Alice.`: the answer to a command, or to a button press."""
    done = f"silenced for {describe(silenced_for)}" if silenced_for else after_word(command)
    return f"Incident #{incident_id} {done} by {actor.name}."


def alertmanager_warning(incident: Incident) -> list[str]:
    """One line when the silence holds in Howl but Alertmanager did not take it.

    Only in a command's answer: a button's one-line answer leaves it to the card.
    """
    if incident.status is IncidentStatus.SILENCED and incident.alertmanager_error:
        reason = esc(incident.alertmanager_error)
        return [f"⚠️ The Alertmanager silence could not be made ({reason}); Howl's silence holds."]
    return []


def after_word(command: Command) -> str:
    return {
        Command.ACK: "acknowledged",
        Command.UNACK: "unacknowledged",
        Command.RESOLVE: "resolved",
    }.get(command, command.value)


async def ack(update: Update, context: Context) -> None:
    await _act(update, context, Command.ACK, "/ack <id>, e.g. /ack 12")


async def resolve(update: Update, context: Context) -> None:
    await _act(update, context, Command.RESOLVE, "/resolve <id>, e.g. /resolve 12")


async def silence(update: Update, context: Context) -> None:
    await _act(update, context, Command.SILENCE, "/silence <id> <duration>, e.g. /silence 12 30m")


async def lift_silences(context: Context) -> None:
    """Job: end every silence whose time is up (the incident returns to its prior status)."""
    await services_of(context).incidents.lift_expired_silences()


async def renotify(context: Context) -> None:
    """Job: announce again, as a reply to its card, each incident still firing unacknowledged."""
    renotifier = services_of(context).renotifier
    if renotifier is not None:
        await renotifier.run_once()


def register(application: Application) -> None:  # type: ignore[type-arg]
    for name, callback in (
        ("alert", alert),
        ("incidents", incidents),
        ("incident", incident),
        ("ack", ack),
        ("resolve", resolve),
        ("silence", silence),
    ):
        application.add_handler(CommandHandler(name, callback))
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        lift_silences, interval=SILENCE_LIFT_EVERY, first=SILENCE_LIFT_EVERY, name="lift-silences"
    )
    renotifier = application.bot_data[SERVICES_KEY].renotifier
    if renotifier is not None:
        every = renotifier.policy.check_every
        application.job_queue.run_repeating(renotify, interval=every, first=every, name="renotify")
