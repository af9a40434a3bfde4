"""Intake, commands and the card publisher writing together on PostgreSQL: no deadlock.

Not timed: a fixed amount of work (writers x rounds), each batch touching many
incidents in a shuffled order, some alerts resolving (their incident is found
through the alert's state) while others fire into open incidents (found through
their group), while the publisher marks cards and people acknowledge incidents.
The server's own log and statistics say whether any transaction deadlocked; the
store would hide a deadlock by retrying, so its answers alone cannot.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path

import pytest
from sqlalchemy import text

from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Alert, AlertStatus
from core.alerting.publisher import CardPublisher
from core.alerting.service import IncidentService
from core.errors import ConflictError
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlIncidentStore, SqlOutbox
from tests.e2e.conftest import create_database
from tests.storage_scenarios import Clock, alert, card_of

pytestmark = pytest.mark.e2e

WRITERS = 6
ROUNDS = 25
GROUPS = 12
HTTP = Actor(id="http", name="webhook")
ANN = Actor(id="tg:7", name="Ann")


def _batch(rng: random.Random, writer: int, round_: int) -> list[Alert]:
    """One alert per group, groups shuffled; every third round resolves what fired."""
    groups = list(range(GROUPS))
    rng.shuffle(groups)
    status = AlertStatus.RESOLVED if round_ % 3 == 2 else AlertStatus.FIRING
    batch = []
    for group in groups:
        base = alert(f"w{writer}-{group}", status=status)
        labels = {**base.labels, "namespace": f"ns-{group}"}
        batch.append(base.model_copy(update={"labels": labels}))
    return batch


async def test_intake_and_publisher_never_deadlock(postgres_server: tuple[str, Path]) -> None:
    url, server_log = postgres_server
    engine = create_engine(await create_database(url, "load"))
    try:
        await upgrade(engine)
        clock, sessions = Clock(), session_factory(engine)
        store = SqlIncidentStore(sessions, SqlOutbox.over(sessions, clock).cards, clock)
        publisher = CardPublisher(store, card_of)
        service = IncidentService(store, clock, on_change=publisher.poke)
        writing = asyncio.Event()

        async def writer(n: int) -> None:
            rng = random.Random(n)
            for round_ in range(ROUNDS):
                await service.ingest(_batch(rng, n, round_), actor=HTTP)

        async def publish() -> None:
            while not writing.is_set():
                await publisher.flush()
                await asyncio.sleep(0)

        async def acknowledge() -> None:
            while not writing.is_set():
                for incident in await service.recent(limit=GROUPS):
                    # acknowledged already, or resolved meanwhile: fine
                    with contextlib.suppress(ConflictError):
                        await service.act(incident.id, Command.ACK, actor=ANN)
                await asyncio.sleep(0)

        async def intake() -> None:
            try:
                await asyncio.gather(*(writer(n) for n in range(WRITERS)))
            finally:
                writing.set()

        await asyncio.gather(intake(), publish(), acknowledge())
        await publisher.flush()
        assert await store.unpublished(limit=10) == []
        async with engine.connect() as conn:
            incidents = (await conn.execute(text("SELECT count(*) FROM incidents"))).scalar()
    finally:
        await engine.dispose()

    assert incidents and incidents >= GROUPS, "the work ran: incidents opened and resolved"
    stats = create_engine(url)
    try:
        async with stats.connect() as conn:
            deadlocks = (
                await conn.execute(
                    text("SELECT deadlocks FROM pg_stat_database WHERE datname = 'load'")
                )
            ).scalar()
    finally:
        await stats.dispose()
    assert "deadlock detected" not in server_log.read_text()
    assert deadlocks == 0
