"""The scheduled incident jobs of the real Application: scheduled by name, and doing their work.

Each job is taken from the Application's own job queue (as `howl run` builds
it) and run through python-telegram-bot's `Job.run`, so a job that is not
scheduled, or scheduled with the wrong callback, turns these tests red.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, Job

from bot.app import build_application, build_services, load_buttons_key
from bot.handlers.incidents import SILENCE_LIFT_EVERY
from bot.services import Services
from core.alerting.models import Actor, IncidentStatus
from core.alerting.ports import IncidentTx
from core.config import load_settings
from core.ports import SystemClock
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlIncidentStore, SqlOutbox
from tests.unit.alerting.fakes import firing

CHAT = -1001234
TOKEN = "123456:TEST-token-for-the-emulator-only-0000000"
HTTP = Actor(id="http", name="Alertmanager")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def build(
    tmp_path: Path, engine: AsyncEngine, config: str = ""
) -> tuple[Services, Application]:  # type: ignore[type-arg]
    (tmp_path / "howl.toml").write_text(config)
    settings = load_settings(
        _env_file=None,
        TELEGRAM_BOT_TOKEN=TOKEN,
        HOWL_ALERT_CHAT_ID=str(CHAT),
        HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
        HOWL_CONFIG=str(tmp_path / "howl.toml"),
    )
    services = build_services(
        settings, engine, mode="telegram", buttons_key=await load_buttons_key(engine)
    )
    # nothing is sent: the jobs only write to the database and the outbox
    application = build_application(services, token=TOKEN, base_url="http://127.0.0.1:9/bot")
    return services, application


def job(application: Application, name: str) -> Job[Any]:  # type: ignore[type-arg]
    assert application.job_queue is not None
    jobs = {j.name: j for j in application.job_queue.jobs()}
    assert name in jobs, f"the {name!r} job is not scheduled (scheduled: {sorted(jobs)})"
    return jobs[name]


async def rewrite(services: Services, incident_id: int, **fields: Any) -> None:
    """Move an incident's times into the past, as if the process had run that long."""
    sessions = session_factory(services.engine)
    store = SqlIncidentStore(sessions, SqlOutbox.over(sessions, SystemClock()).cards, SystemClock())

    async def work(tx: IncidentTx) -> None:
        found = (await tx.incidents({incident_id}))[incident_id]
        await tx.save(found.model_copy(update=fields))

    await store.run(work)


async def test_the_silence_lifting_job_is_scheduled_and_lifts_a_due_silence(
    tmp_path: Path, engine: AsyncEngine
) -> None:
    services, application = await build(tmp_path, engine)
    lift = job(application, "lift-silences")
    assert lift.job.trigger.interval == SILENCE_LIFT_EVERY
    [incident_id] = (await services.incidents.ingest([firing("a")], actor=HTTP)).incidents
    now = services.clock.now()
    await rewrite(
        services,
        incident_id,
        status=IncidentStatus.SILENCED,
        silenced_until=now - timedelta(seconds=1),
        silenced_by="Alice",
        prior_status=IncidentStatus.FIRING,
    )
    await lift.run(application)
    lifted = (await services.incidents.view(incident_id)).incident
    assert (lifted.status, lifted.silenced_until) == (IncidentStatus.FIRING, None)
    await services.cards.stop()


async def test_the_renotify_job_replies_to_the_card_with_the_mentions(
    tmp_path: Path, engine: AsyncEngine
) -> None:
    services, application = await build(
        tmp_path, engine, '[incidents]\nrenotify_after = "30m"\nmention = ["@oncall_alice"]\n'
    )
    renotify = job(application, "renotify")
    assert renotify.job.trigger.interval == timedelta(seconds=30)
    [incident_id] = (await services.incidents.ingest([firing("a")], actor=HTTP)).incidents
    await services.cards.flush()
    [card] = await services.delivery.due(now=services.clock.now(), limit=10)
    await services.delivery.claim(card.id)
    await services.delivery.mark_sent(card.id, message_id=4242, at=services.clock.now())

    await renotify.run(application)
    assert await services.delivery.due(now=services.clock.now(), limit=10) == []  # not yet due
    await rewrite(services, incident_id, created_at=services.clock.now() - timedelta(minutes=31))
    await renotify.run(application)
    [again] = await services.delivery.due(now=services.clock.now(), limit=10)
    assert (again.chat_id, again.reply_to_message_id, again.card_key) == (CHAT, 4242, None)
    assert again.text.startswith(f"@oncall_alice 🟠 <b>#{incident_id} Down</b> — 🔥 firing")
    await renotify.run(application)
    assert len(await services.delivery.due(now=services.clock.now(), limit=10)) == 1
    stored = (await services.incidents.view(incident_id)).incident.renotified_at
    assert isinstance(stored, datetime)
    await services.cards.stop()


async def test_no_renotify_job_when_it_is_off(tmp_path: Path, engine: AsyncEngine) -> None:
    services, application = await build(tmp_path, engine)
    assert application.job_queue is not None
    names = {j.name for j in application.job_queue.jobs()}
    assert "renotify" not in names and "lift-silences" in names
    assert services.renotifier is None
    await services.cards.stop()
