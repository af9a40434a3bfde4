"""The incident store on SQLite, the SQL an ingest sends, and migrations that match the tables
the code declares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.alerting.models import Actor, AlertStatus
from core.alerting.service import IncidentService
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlIncidentStore, SqlOutbox
from storage.tables import Base
from tests.storage_scenarios import (
    Clock,
    alert,
    exercise_full_view,
    exercise_incident_store,
    exercise_notify_queries,
    exercise_retention,
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


async def test_incident_store_contract(engine: AsyncEngine) -> None:
    await exercise_incident_store(engine)


async def test_full_views_and_the_senders_start(engine: AsyncEngine) -> None:
    await exercise_full_view(engine)


async def test_notify_queries(engine: AsyncEngine) -> None:
    await exercise_notify_queries(engine)


async def test_retention_removes_only_long_resolved_history(engine: AsyncEngine) -> None:
    await exercise_retention(engine)


async def test_migrations_create_exactly_the_declared_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert diff == []


HTTP = Actor(id="http", name="webhook")


async def test_ingest_locks_in_key_order_and_saves_in_one_statement(engine: AsyncEngine) -> None:
    clock, sessions = Clock(), session_factory(engine)
    store = SqlIncidentStore(sessions, SqlOutbox.over(sessions, clock).cards, clock)
    service = IncidentService(store, clock)
    await service.ingest([alert("api-1")], actor=HTTP)
    other = alert("db-1").model_copy(update={"labels": {"alertname": "DbDown", "pod": "db-1"}})
    await service.ingest([other], actor=HTTP)

    sent: list[tuple[str, bool]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        sent.append((" ".join(statement.split()), many))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    gone = other.model_copy(update={"status": AlertStatus.RESOLVED})
    result = await service.ingest([alert("api-2"), gone], actor=HTTP)
    event.remove(engine.sync_engine, "before_cursor_execute", seen)

    assert result.incidents == [1, 2]
    selects = [s for s, _ in sent if s.startswith("SELECT")]
    [states] = [s for s in selects if "FROM alert_states" in s]
    assert states.endswith("ORDER BY alert_states.fingerprint")
    [incidents] = [s for s in selects if "FROM incidents" in s]
    assert incidents.endswith("ORDER BY incidents.id"), "both incidents locked by one statement"
    updates = [(s, many) for s, many in sent if s.startswith("UPDATE incidents")]
    assert len(updates) == 1 and updates[0][1], "one executemany for the two incidents"


async def test_a_post_opening_many_incidents_inserts_them_in_one_statement(
    engine: AsyncEngine,
) -> None:
    clock, sessions = Clock(), session_factory(engine)
    store = SqlIncidentStore(sessions, SqlOutbox.over(sessions, clock).cards, clock)
    opened: list[int] = []
    service = IncidentService(store, clock, on_open=lambda made: opened.extend(i.id for i in made))
    await service.ingest([alert("api-1")], actor=HTTP)  # one open already: not opened again
    opened.clear()
    names = [f"Svc{n:02d}Down" for n in range(12)]
    storm = [
        alert(f"p{n}").model_copy(
            update={"name": name, "labels": {"alertname": name, "pod": f"p{n}"}}
        )
        for n, name in enumerate(names)
    ]
    # two alerts of one new group, and one more for the incident already open
    twin = storm[0].model_copy(
        update={"fingerprint": "fp-twin", "labels": {**storm[0].labels, "pod": "twin"}}
    )
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    result = await service.ingest([*storm[::-1], twin, alert("api-2")], actor=HTTP)
    event.remove(engine.sync_engine, "before_cursor_execute", seen)

    assert len([s for s in sent if s.startswith("INSERT INTO incidents")]) == 1
    assert len([s for s in sent if s.startswith("INSERT INTO audit_log")]) == 1
    assert result.new == 14 and result.incidents == list(range(1, 14))
    async with engine.connect() as conn:
        subjects = (
            await conn.execute(
                text("SELECT subject FROM audit_log WHERE action = 'incident.opened' ORDER BY id")
            )
        ).scalars()
        assert list(subjects) == [f"incident:{n}" for n in range(1, 14)], "every line, in order"
    assert sorted(opened) == list(range(2, 14)), "each new incident announced once, real ids"
    for n, name in enumerate(names):
        view = await service.view(2 + n)  # inserted in group-key order: Svc00 first
        assert view.incident.title == name
        expected = {f"p{n}", "twin"} if n == 0 else {f"p{n}"}
        assert {a.labels["pod"] for a in view.alerts} == expected
        assert view.incident.alert_count == len(expected) == view.incident.firing_count
    first = await service.view(1)
    assert {a.labels["pod"] for a in first.alerts} == {"api-1", "api-2"}
