"""Gathers the /status report from the running services."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import make_url

from bot.services import Services
from core import __version__
from core.alerting.models import IncidentStatus
from core.status import StatusReport
from storage.db import database_size, ping
from storage.migrate import current_revision


async def gather_status(services: Services) -> StatusReport:
    """Version, uptime, database health, mode and the counts a person asks about."""
    settings = services.settings
    database_ok = await ping(services.engine)
    revision = await current_revision(services.engine) if database_ok else None
    url = make_url(settings.database_url)
    counts: dict[str, int] = {}
    size = await database_size(services.engine) if database_ok else None
    database = f"{url.get_backend_name()} {url.database or ''}".strip()
    if size is not None:
        database += f", {human_bytes(size)}"
    if database_ok:
        outbox = await services.outbox.counts()
        counts["outbox pending"] = outbox["pending"] + outbox["sending"]
        counts["outbox failed"] = outbox["dead"]
        counts["updates handled"] = await services.ledger.count()
        incidents = await services.incidents.counts()
        counts["incidents open"] = open_count(incidents)
        counts["incidents firing"] = incidents[IncidentStatus.FIRING]
    return StatusReport(
        version=__version__,
        uptime_s=(services.clock.now() - services.started_at).total_seconds(),
        mode=services.mode,
        database=database,
        database_ok=database_ok,
        database_bytes=size,
        schema_revision=revision,
        shadow=settings.shadow,
        llm=settings.llm_model if settings.llm_base_url else "embedded rule-based engine",
        counts=counts,
    )


def open_count(by_status: Mapping[IncidentStatus, int]) -> int:
    """Incidents not resolved yet (firing, acknowledged or silenced)."""
    return sum(n for status, n in by_status.items() if status != IncidentStatus.RESOLVED)


def human_bytes(size: int) -> str:
    """Sizes as people read them.

    >>> human_bytes(512), human_bytes(4096), human_bytes(376_000_000)
    ('512 B', '4.1 kB', '376.0 MB')
    """
    value, unit = float(size), "B"
    for bigger in ("kB", "MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
