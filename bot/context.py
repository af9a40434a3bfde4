"""Typed access to the services from python-telegram-bot's context."""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.services import Services

Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]

SERVICES_KEY = "services"


def services_of(context: Context) -> Services:
    """The process's services, put in bot_data by the composition root."""
    services = context.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services
