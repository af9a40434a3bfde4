"""The SQL incident store's publishing side: what is owed, in which order, marked in one go."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Severity
from core.alerting.ports import PublishedCard
from core.alerting.service import IncidentService
from core.messages import Card, Rendered
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlIncidentStore, SqlOutbox
from tests.unit.alerting.fakes import FakeClock, firing

HTTP = Actor(id="http", name="Alertmanager")
FAR = datetime(2100, 1, 1, tzinfo=UTC)


class World:
    def __init__(self, path: Path) -> None:
        self.engine = create_engine(f"sqlite+aiosqlite:///{path}")
        sessions, clock = session_factory(self.engine), FakeClock()
        self.outbox = SqlOutbox.over(sessions, clock)
        self.store = SqlIncidentStore(sessions, self.outbox.cards, clock)
        self.service = IncidentService(self.store, clock)

    async def publish_all(self) -> int:
        queued = 0
        while ids := await self.store.unpublished(limit=100):
            owed = await self.store.owed(ids, limit=100)
            result = await self.store.publish([self.card(o.incident_id, o.version) for o in owed])
            queued += result.queued
        return queued

    @staticmethod
    def card(incident_id: int, version: int, text: str | None = None) -> PublishedCard:
        content = Rendered(text=text or f"#{incident_id} v{version}")
        card = Card(key=f"incident:{incident_id}", chat_id=-1, content=content)
        return PublishedCard(incident_id=incident_id, version=version, card=card)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = World(tmp_path / "p.db")
    await upgrade(w.engine)
    yield w
    await w.engine.dispose()


async def test_first_cards_come_before_updates_and_critical_first(world: World) -> None:
    known = await world.service.ingest([firing(f"k{i}", f"ns{i}") for i in range(3)], actor=HTTP)
    assert await world.publish_all() == 3
    await world.service.act(1, Command.ACK, actor=Actor(id="tg:1", name="Alice"))
    await world.service.ingest([firing("k2b", "ns2")], actor=HTTP)  # an update of #3
    warning = await world.service.ingest([firing("w", "quiet")], actor=HTTP)
    critical = firing("c", "payments").model_copy(update={"severity": Severity.CRITICAL})
    urgent = await world.service.ingest([critical], actor=HTTP)

    order = [urgent.incidents[0], warning.incidents[0], 1, 3]
    assert await world.store.unpublished(limit=10) == order
    owed = await world.store.owed([3, 1, *warning.incidents, *urgent.incidents], limit=10)
    assert [o.incident_id for o in owed] == order
    assert [o.first for o in owed] == [True, True, False, False]
    assert known.incidents == [1, 2, 3]


async def test_publish_marks_the_batch_in_one_statement(world: World) -> None:
    await world.service.ingest([firing(f"k{i}", f"ns{i}") for i in range(5)], actor=HTTP)
    owed = await world.store.owed(await world.store.unpublished(limit=10), limit=10)
    updates: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE INCIDENTS"):
            updates.append(statement)

    event.listen(world.engine.sync_engine, "before_cursor_execute", seen)
    try:
        result = await world.store.publish([world.card(o.incident_id, o.version) for o in owed])
    finally:
        event.remove(world.engine.sync_engine, "before_cursor_execute", seen)
    assert result.queued == 5 and result.skipped == []
    assert len(updates) == 1, updates
    assert await world.store.unpublished(limit=10) == []


async def test_a_stale_version_queues_nothing(world: World) -> None:
    await world.service.ingest([firing("a", "prod")], actor=HTTP)
    [first] = await world.store.owed([1], limit=10)
    await world.service.ingest([firing("b", "prod")], actor=HTTP)  # a newer version lands
    [second] = await world.store.owed([1], limit=10)
    newer = await world.store.publish([world.card(1, second.version, "new")])
    stale = await world.store.publish([world.card(1, first.version, "old")])
    assert (newer.queued, stale.queued) == (1, 0)
    [item] = await world.outbox.queue.due(now=FAR, limit=10)
    assert item.text == "new", "the older render did not overwrite the newer one"
    assert await world.store.unpublished(limit=10) == []
