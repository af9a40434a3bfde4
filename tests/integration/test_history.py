"""`SqlIncidentHistory` over a migrated SQLite database, fed by the real incident service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Alert, AlertStatus, Severity
from core.alerting.service import IncidentService
from core.debate.evidence import EvidenceBuilder, NoKnowledge
from core.redact import Redactor
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlIncidentHistory, SqlIncidentStore, SqlOutbox
from tests.storage_scenarios import T0, Clock

HTTP = Actor(id="http", name="webhook")
ANN = Actor(id="tg:7", name="Ann")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


def fired(
    name: str,
    namespace: str,
    *,
    minutes: int,
    status: AlertStatus = AlertStatus.FIRING,
) -> Alert:
    return Alert(
        fingerprint=f"fp-{name}-{namespace}-{minutes}",
        status=status,
        severity=Severity.CRITICAL,
        name=name,
        labels={"alertname": name, "namespace": namespace, "job": name.lower()},
        starts_at=T0 + timedelta(minutes=minutes),
        source="alertmanager",
    )


class World:
    """Six incidents around #4 (CheckoutDown in prod, an hour after T0)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.clock = Clock()
        store = SqlIncidentStore(sessions, SqlOutbox.over(sessions, self.clock).cards, self.clock)
        self.service = IncidentService(store, self.clock)
        self.history = SqlIncidentHistory(sessions)

    async def at(self, minutes: int, *alerts: Alert) -> list[int]:
        self.clock.at = T0 + timedelta(minutes=minutes)
        return (await self.service.ingest(list(alerts), actor=HTTP)).incidents

    async def build(self) -> None:
        assert await self.at(0, fired("CheckoutDown", "prod", minutes=0)) == [1]
        self.clock.at = T0 + timedelta(minutes=5)
        await self.service.act(1, Command.RESOLVE, actor=ANN)
        # the same title in another namespace: another group key, the same symptoms
        assert await self.at(10, fired("CheckoutDown", "staging", minutes=10)) == [2]
        assert await self.at(55, fired("DbDown", "prod", minutes=55)) == [3]
        assert await self.at(60, fired("CheckoutDown", "prod", minutes=60)) == [4]
        assert await self.at(70, fired("PaymentsSlow", "prod", minutes=70)) == [5]
        resolved = fired("PaymentsSlow", "prod", minutes=70, status=AlertStatus.RESOLVED)
        assert await self.at(75, resolved) == [5]
        # received now, but its sender says it started two hours before T0: far from #4
        assert await self.at(76, fired("OldThing", "prod", minutes=-120)) == [6]
        # a second alert of #4 itself, inside the window: never its own neighbour
        assert await self.at(77, fired("CheckoutDown", "prod", minutes=65)) == [4]


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    world = World(session_factory(engine))
    await world.build()
    return world


async def test_get_is_the_incident_view(world: World) -> None:
    view = await world.history.get(4)
    assert view is not None and view.incident.title == "CheckoutDown"
    assert len(view.alerts) == 2 and view.started_at == T0 + timedelta(minutes=60)
    assert await world.history.get(999) is None


async def test_related_alerts_are_other_incidents_in_the_window_newest_first(
    world: World,
) -> None:
    view = await world.history.get(4)
    assert view is not None
    incident = view.incident
    around = {"since": T0 + timedelta(minutes=30), "until": T0 + timedelta(minutes=90)}
    related = await world.history.related_alerts(incident, **around, limit=10)
    assert [(a.incident_id, a.name, a.status) for a in related] == [
        (5, "PaymentsSlow", "resolved"),  # once, in its last state
        (3, "DbDown", "firing"),
    ]
    assert related[0].labels["namespace"] == "prod"
    assert related[0].starts_at == T0 + timedelta(minutes=70)
    newest = await world.history.related_alerts(incident, **around, limit=1)
    assert [a.incident_id for a in newest] == [5]
    narrow = {"since": T0 + timedelta(minutes=58), "until": T0 + timedelta(minutes=62)}
    assert await world.history.related_alerts(incident, **narrow, limit=10) == []


async def test_similar_incidents_are_earlier_ones_with_the_same_key_or_title(
    world: World,
) -> None:
    view = await world.history.get(4)
    assert view is not None
    similar = await world.history.similar_incidents(view.incident, limit=10)
    assert [(p.incident_id, p.status) for p in similar] == [(2, "firing"), (1, "resolved")]
    ended = similar[1]
    assert (ended.resolved_by, ended.resolved_at) == ("Ann", T0 + timedelta(minutes=5))
    assert ended.title == "CheckoutDown" and ended.created_at == T0
    assert ended.decision_summary is None and ended.recommended_tool is None
    latest = await world.history.similar_incidents(view.incident, limit=1)
    assert [p.incident_id for p in latest] == [2]
    first = await world.history.get(1)
    assert (
        first is not None and await world.history.similar_incidents(first.incident, limit=5) == []
    )


async def test_a_snapshot_over_the_database(world: World) -> None:
    world.clock.at = T0 + timedelta(minutes=80)
    builder = EvidenceBuilder(world.history, NoKnowledge(), None, world.clock, Redactor())
    snapshot = await builder.build(4)
    assert (snapshot.title, snapshot.status, snapshot.severity) == (
        "CheckoutDown",
        "firing",
        "critical",
    )
    assert [a.starts_at for a in snapshot.alerts] == [T0 + timedelta(minutes=m) for m in (60, 65)]
    assert [r.incident_id for r in snapshot.related] == [5, 3]
    assert [p.incident_id for p in snapshot.history] == [2, 1]
    assert snapshot.knowledge == () and snapshot.metrics.status == "not_configured"
    assert snapshot.gaps == ()
    with pytest.raises(LookupError):
        await builder.build(999)
