"""structlog for Howl's own logs and the libraries' (PTB, httpx, uvicorn), secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor

from core.redact import Redactor

#: structlog's own bookkeeping in a foreign (stdlib) record's event: not ours to rewrite
_META_KEYS = frozenset({"_record", "_from_structlog"})


def _redacting(redactor: Redactor) -> Processor:
    def redact(_logger: Any, _name: str, event: EventDict) -> EventDict:
        for key, value in list(event.items()):
            if key not in _META_KEYS:
                event[key] = redactor.redact_field(key, value)
        return event

    return redact


def configure_logging(
    *,
    fmt: str,
    secrets: Iterable[str],
    level: int = logging.INFO,
    stream: TextIO | None = None,
) -> None:
    """Route every log line (to `stream`, stderr by default) through one pipeline that
    redacts before rendering."""
    redactor = Redactor(secrets)
    out = stream or sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        # tracebacks become text first, so the redaction below sees them
        structlog.processors.format_exc_info,
        _redacting(redactor),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
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
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs carry the token.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
