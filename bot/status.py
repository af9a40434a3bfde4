"""Gathers the /status report from the running services."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import make_url

from bot.services import Services
from core import __version__
from core.alerting.models import IncidentStatus
from core.status import StatusReport
from storage.db import ping
from storage.migrate import current_revision


async def gather_status(services: Services) -> StatusReport:
    """Version, uptime, database health, mode and the counts a person asks about."""
    settings = services.settings
    database_ok = await ping(services.engine)
    revision = await current_revision(services.engine) if database_ok else None
    url = make_url(settings.database_url)
    counts: dict[str, int] = {}
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
        database=f"{url.get_backend_name()} {url.database or ''}".strip(),
        database_ok=database_ok,
        schema_revision=revision,
        shadow=settings.shadow,
        llm=settings.llm_model if settings.llm_base_url else "embedded rule-based engine",
        counts=counts,
    )


def open_count(by_status: Mapping[IncidentStatus, int]) -> int:
    """Incidents not resolved yet (firing, acknowledged or silenced)."""
    return sum(n for status, n in by_status.items() if status != IncidentStatus.RESOLVED)
