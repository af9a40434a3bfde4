"""Migrations and the foundation repositories on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.audit import AuditEntry
from core.messages import Card, Rendered
from core.ports import SystemClock
from storage.db import create_engine, ping, session_factory
from storage.migrate import head_revision, upgrade
from storage.repositories import SqlAuditLog, SqlOutbox, SqlUpdateLedger
from tests.e2e.conftest import create_database
from tests.storage_scenarios import (
    exercise_full_view,
    exercise_incident_store,
    exercise_notify_queries,
    exercise_retention,
    exercise_storm_digests,
)

pytestmark = pytest.mark.e2e


async def test_foundation_on_postgres(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        assert await ping(engine)
        assert await upgrade(engine) == head_revision()
        assert await upgrade(engine) == head_revision(), "upgrading twice is a no-op"
        sessions, clock = session_factory(engine), SystemClock()

        ledger = SqlUpdateLedger(sessions, clock)
        assert await ledger.first_sighting(10**12, chat_id=-1001234567890)
        assert not await ledger.first_sighting(10**12, chat_id=-1001234567890)

        outbox = SqlOutbox.over(sessions, clock)
        await outbox.cards.put_card(
            Card(key="incident:1", chat_id=-1001234567890, content=Rendered(text="a"))
        )
        await outbox.cards.put_card(
            Card(key="incident:1", chat_id=-1001234567890, content=Rendered(text="b"))
        )
        [item] = await outbox.queue.due(now=datetime.now(UTC), limit=10)
        claimed = await outbox.queue.claim(item.id)
        assert claimed is not None and claimed.text == "b"
        await outbox.queue.mark_sent(item.id, message_id=5, at=datetime.now(UTC))
        assert await outbox.cards.card_message_id("incident:1") == 5

        audit = SqlAuditLog(sessions)
        await audit.append(
            AuditEntry(at=datetime.now(UTC), actor="tg:1", action="ack", subject="incident:1")
        )
        [entry] = await audit.recent(subject="incident:1")
        assert entry.actor == "tg:1" and entry.at.tzinfo is not None
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("database", "scenario"),
    [
        ("incidents", exercise_incident_store),
        ("views", exercise_full_view),
        ("notify", exercise_notify_queries),
        ("digests", exercise_storm_digests),
        ("retention", exercise_retention),
    ],
)
async def test_incident_store_on_postgres(
    postgres_url: str, database: str, scenario: Callable[[AsyncEngine], Awaitable[None]]
) -> None:
    """Upserts, the one-open-incident-per-group index, racing writers, views of any length
    and the senders' earliest start, re-notify and silence queries, storm digests, retention."""
    engine = create_engine(await create_database(postgres_url, database))
    try:
        await upgrade(engine)
        await scenario(engine)
    finally:
        await engine.dispose()
