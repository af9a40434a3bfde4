"""The knowledge store on SQLite: entries under their hash, reviews once, incidents' hashes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.alerting.models import Actor
from core.alerting.service import IncidentService
from core.knowledge.models import EntryKind, EntryStatus, NewEntry
from core.knowledge.symptoms import incident_symptoms
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlIncidentStore, SqlKnowledgeStore, SqlOutbox
from tests.storage_scenarios import Clock, alert
from tests.unit.knowledge.fakes import NOW

HASH = "0123456789abcdef"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


def entry(**changes: object) -> NewEntry:
    values: dict[str, object] = {
        "kind": EntryKind.RUNBOOK,
        "status": EntryStatus.DRAFT,
        "symptoms_hash": HASH,
        "symptoms": {"alert": "WorkerQueueStuck", "namespace": "prod"},
        "incident_id": 1,
        "action": "restart_deployment",
        "arguments": {"name": "api", "namespace": "prod"},
        "title": "Unstick the api",
        "body": "# Unstick the api\n\n## Symptoms\n- stuck\n",
        "created_at": NOW,
    }
    values.update(changes)
    return NewEntry.model_validate(values)


async def test_entries_round_trip_and_list_newest_first(engine: AsyncEngine) -> None:
    store = SqlKnowledgeStore(session_factory(engine))
    first = await store.add(entry())
    second = await store.add(entry(kind=EntryKind.ANTI_PATTERN, status=EntryStatus.PUBLISHED))
    assert (first.id, second.id) == (1, 2)
    assert await store.get(1) == first
    assert await store.get(99) is None
    assert [e.id for e in await store.recent(limit=10)] == [2, 1]
    assert [e.id for e in await store.recent(limit=10, kind=EntryKind.RUNBOOK)] == [1]
    assert [e.id for e in await store.recent(limit=10, status=EntryStatus.PUBLISHED)] == [2]


async def test_a_review_changes_a_draft_once(engine: AsyncEngine) -> None:
    store = SqlKnowledgeStore(session_factory(engine))
    draft = await store.add(entry())
    results = await asyncio.gather(
        store.review(draft.id, EntryStatus.PUBLISHED, by="Alice", at=NOW),
        store.review(draft.id, EntryStatus.REJECTED, by="Bob", at=NOW),
    )
    assert sorted(changed for _, changed in results) == [False, True]
    stored = await store.get(draft.id)
    assert stored is not None and stored.reviewed_at == NOW
    winner = next(e for e, changed in results if changed)
    assert winner == stored
    assert await store.review(99, EntryStatus.PUBLISHED, by="Alice", at=NOW) == (None, False)


async def test_usable_is_published_runbooks_and_recent_anti_patterns(engine: AsyncEngine) -> None:
    store = SqlKnowledgeStore(session_factory(engine))
    await store.add(entry())  # a draft: not usable
    runbook = await store.add(entry(status=EntryStatus.PUBLISHED))
    old = await store.add(
        entry(
            kind=EntryKind.ANTI_PATTERN,
            status=EntryStatus.PUBLISHED,
            created_at=NOW - timedelta(days=8),
        )
    )
    fresh = await store.add(entry(kind=EntryKind.ANTI_PATTERN, status=EntryStatus.PUBLISHED))
    other = await store.add(entry(status=EntryStatus.PUBLISHED, symptoms_hash="f" * 16))
    since = NOW - timedelta(days=7)
    same = await store.usable(anti_patterns_since=since, symptoms_hash=HASH, limit=10)
    assert [e.id for e in same] == [fresh.id, runbook.id]
    every = await store.usable(anti_patterns_since=since, symptoms_hash=None, limit=10)
    assert [e.id for e in every] == [other.id, fresh.id, runbook.id]
    assert old.id not in [e.id for e in every]


async def test_incidents_carry_their_symptoms_hash(engine: AsyncEngine) -> None:
    clock, sessions = Clock(), session_factory(engine)
    service = IncidentService(
        SqlIncidentStore(sessions, SqlOutbox.over(sessions, clock).cards, clock), clock
    )
    result = await service.ingest([alert("api-1")], actor=Actor(id="http", name="webhook"))
    [incident_id] = result.incidents
    view = await service.find(incident_id)
    assert view is not None
    expected = incident_symptoms(view.incident.labels, view.incident.title).hash
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT symptoms_hash FROM incidents"))).scalar_one()
    assert stored == expected
    store = SqlKnowledgeStore(sessions)
    assert await store.incidents_with(expected, limit=5) == [incident_id]
    assert await store.incidents_with(expected, limit=5, excluding=incident_id) == []
