"""/start, /help and /status."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import Context, services_of
from bot.handlers.common import reply
from bot.render.status import render_help, render_start, render_status
from bot.status import gather_status


async def start(update: Update, context: Context) -> None:
    """Introduce Howl."""
    await reply(update, context, render_start(mode=services_of(context).mode))


async def help_command(update: Update, context: Context) -> None:
    """List the commands this build answers."""
    await reply(update, context, render_help(registered_commands(context.application)))


async def status(update: Update, context: Context) -> None:
    """Version, uptime, database, mode and counts."""
    await reply(update, context, render_status(await gather_status(services_of(context))))


def registered_commands(application: Application) -> set[str]:  # type: ignore[type-arg]
    """Names of the commands this build answers (read from the handlers themselves)."""
    names: set[str] = set()
    for handlers in application.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                names.update(handler.commands)
    return names


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("status", status))
