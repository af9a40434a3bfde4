"""`howl run`: the bot, the HTTP intake, the jobs and the workers, in one process."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from core.config import load_settings


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run",
        help="run the bot (Telegram long polling, or the playground without a token)",
        description="Run Howl. With no TELEGRAM_BOT_TOKEN it starts the playground.",
    )
    run.add_argument("--debug", action="store_true", help="debug-level logs")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from bot.app import run_howl
    from bot.logging_setup import configure_logging

    settings = load_settings()
    configure_logging(
        fmt=settings.log_format,
        secrets=settings.secret_values(),
        level=logging.DEBUG if args.debug else logging.INFO,
    )
    return asyncio.run(run_howl(settings))
