"""/debate <id>: a fresh debate of the incident, answered by a new decision card."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import Context, services_of
from bot.handlers.common import reply
from bot.handlers.incidents import incident_id_arg
from bot.render.html import esc
from core.errors import NotFoundError
from core.messages import Rendered

USAGE = "/debate <id>, e.g. /debate 12"


async def debate(update: Update, context: Context) -> None:
    """Queue a new debate run for the incident; its decision card replies to the incident card."""
    incident_id = incident_id_arg(context.args or [], USAGE)
    services = services_of(context)
    view = await services.incidents.find(incident_id)
    if view is None:
        raise NotFoundError(f"No incident #{incident_id}.")
    run = await services.debates.scheduler.ask(incident_id, update.update_id)
    where = (
        "Shadow mode: the decision is recorded, not posted"
        if services.settings.shadow
        else "The decision package will answer the incident's card"
    )
    await reply(
        update,
        context,
        Rendered(
            text=(
                f"🧠 Debating #{incident_id} {esc(view.incident.title)} afresh "
                f"(run <code>{run.id}</code>). {where}."
            )
        ),
    )


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("debate", debate))
