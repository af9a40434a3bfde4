"""structlog for Howl's own logs and the libraries' (PTB, httpx, uvicorn), secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

from core.redact import Redactor


def _redacting(redactor: Redactor) -> Processor:
    def redact(_logger: Any, _name: str, event: EventDict) -> EventDict:
        for key, value in list(event.items()):
            if isinstance(value, str):
                event[key] = redactor.redact(value)
            elif isinstance(value, BaseException):
                event[key] = redactor.redact(repr(value))
        return event

    return redact


def _render_exception_then_redact(redactor: Redactor) -> Processor:
    format_exc = structlog.processors.format_exc_info

    def process(logger: Any, name: str, event: EventDict) -> EventDict:
        event = format_exc(logger, name, event)
        if isinstance(event.get("exception"), str):
            event["exception"] = redactor.redact(event["exception"])
        return event

    return process


def configure_logging(*, fmt: str, secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Route every log line through one pipeline that redacts before rendering."""
    redactor = Redactor(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _render_exception_then_redact(redactor),
        _redacting(redactor),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
