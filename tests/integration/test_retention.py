"""The daily retention job as `howl run` wires it, and the database size in /status and /metrics."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from telegram.ext import CallbackContext

from bot.app import (
    PLAYGROUND_TOKEN,
    RETENTION_EVERY,
    RETENTION_JOB,
    build_application,
    build_services,
    load_buttons_key,
)
from bot.http.app import build_http_app
from bot.services import Services
from bot.status import gather_status
from core.alerting.models import Actor, AlertStatus
from core.config import load_settings
from storage.db import create_engine
from storage.migrate import upgrade
from tests.storage_scenarios import in_group

HTTP = Actor(id="http", name="webhook")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    config = tmp_path / "howl.toml"
    config.write_text('[incidents]\nkeep_alerts = "7d"\n')
    settings = load_settings(
        _env_file=None,
        HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        HOWL_CONFIG=str(config),
    )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    yield build_services(
        settings, engine, mode="playground", buttons_key=await load_buttons_key(engine)
    )
    await engine.dispose()


async def test_retention_runs_daily_with_the_configured_keep(services: Services) -> None:
    application = build_application(
        services, token=PLAYGROUND_TOKEN, base_url="http://127.0.0.1:9/bot"
    )
    [job] = application.job_queue.get_jobs_by_name(RETENTION_JOB)  # type: ignore[union-attr]
    assert job.job.trigger.interval == RETENTION_EVERY == timedelta(days=1)
    assert job.data == timedelta(days=7)

    incidents = services.incidents
    [old] = (await incidents.ingest([in_group("a1", "a")], actor=HTTP)).incidents
    await incidents.ingest([in_group("a1", "a", status=AlertStatus.RESOLVED)], actor=HTTP)
    [recent] = (await incidents.ingest([in_group("b1", "b")], actor=HTTP)).incidents
    await incidents.ingest([in_group("b1", "b", status=AlertStatus.RESOLVED)], actor=HTTP)
    [still_open] = (await incidents.ingest([in_group("c1", "c")], actor=HTTP)).incidents
    async with services.engine.begin() as conn:  # resolved 8 days ago: past the 7 kept
        await conn.execute(
            text("UPDATE incidents SET resolved_at = :at WHERE id = :id"),
            {"at": services.clock.now() - timedelta(days=8), "id": old},
        )

    await job.callback(CallbackContext.from_job(job, application))

    async with services.engine.connect() as conn:
        owners = (await conn.execute(text("SELECT incident_id FROM alerts ORDER BY id"))).all()
    assert [o for (o,) in owners] == [recent, recent, still_open]
    assert (await incidents.view(old)).incident.alert_count == 1, "the incident stays"


async def test_status_and_metrics_show_the_database_size(
    services: Services, tmp_path: Path
) -> None:
    with sqlite3.connect(tmp_path / "h.db") as db:
        [(pages,)] = db.execute("PRAGMA page_count").fetchall()
        [(page,)] = db.execute("PRAGMA page_size").fetchall()
    size = pages * page

    report = await gather_status(services)
    assert report.database_bytes == size
    assert report.database.endswith(f"h.db, {size / 1000:.1f} kB")

    transport = httpx.ASGITransport(app=build_http_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://howl") as http:
        body = (await http.get("/metrics")).text
    assert f"howl_database_bytes {float(size)}" in body
