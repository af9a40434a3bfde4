"""/runs, and the reaper job that returns runs with expired leases to the queue."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import Context, services_of
from bot.handlers.common import reply
from bot.render.runs import render_runs

LIST_LIMIT = 15
#: a quarter of a lease (core.run_worker.LEASE_FOR): a dead worker's run waits at most 75 s
REAP_EVERY = timedelta(seconds=15)
#: how often open incidents a crash left without a debate run are looked for
CATCH_UP_EVERY = timedelta(minutes=5)


async def runs(update: Update, context: Context) -> None:
    """Recent runs and their states."""
    found = await services_of(context).runs.recent(limit=LIST_LIMIT)
    await reply(update, context, render_runs(found, limit=LIST_LIMIT))


async def reap_runs(context: Context) -> None:
    """Job: runs whose worker stopped renewing its lease go back to pending, or time out
    (and their incident is told so by a decision card that asks for a person)."""
    await services_of(context).debates.reap()


async def catch_up_debates(context: Context) -> None:
    """Job: a debate run for every open incident a crash left without one."""
    await services_of(context).debates.scheduler.catch_up()


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(CommandHandler("runs", runs))
