"""The `howl` command line: one module per subcommand, each with `register()`.

Every failure a person can cause (a bad flag, a bad setting, a missing file)
ends as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from core import __version__
from core.errors import HowlError

#: subcommand modules under bot.cli; each defines `register(subparsers)`
COMMANDS = ("run", "db", "replay", "drift")

EXIT_USAGE = 2
EXIT_FAILURE = 1


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="howl", description="Howl: ChatOps for on-call teams.")
    parser.add_argument("--version", action="version", version=f"howl {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineParser
    )
    for name in COMMANDS:
        importlib.import_module(f"bot.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `howl` console script."""
    # Opt in to python-telegram-bot's timedelta durations now, so its own code
    # stops warning on every flood-control answer.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        sys.exit(EXIT_USAGE)
    try:
        code = handler(args)
    except HowlError as exc:
        print(f"howl: {exc}", file=sys.stderr)
        sys.exit(EXIT_FAILURE)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)
