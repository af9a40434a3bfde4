"""The drift store, SQL and in-memory alike: reports by id, announced sets, ignores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from core.drift.models import Difference, DriftLevel, DriftObject, DriftReport, ObjectKey
from core.drift.ports import DriftStore, MemoryDriftStore
from core.ports import SystemClock
from storage.db import create_engine, session_factory
from storage.migrate import head_revision, upgrade
from storage.repositories import SqlDriftStore


@pytest.fixture(params=["sql", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DriftStore]:
    if request.param == "memory":
        yield MemoryDriftStore()
        return
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    assert await upgrade(engine) == head_revision() == "0010"
    yield SqlDriftStore(session_factory(engine), SystemClock())
    await engine.dispose()


def a_report() -> DriftReport:
    key = ObjectKey(api_version="apps/v1", kind="Deployment", namespace="prod", name="api")
    diff = Difference(
        key=key, change="changed", path="spec.replicas", desired=3, live=7, level=DriftLevel.WARNING
    )
    return DriftReport(
        scanned_at=datetime(2026, 12, 3, 7, tzinfo=UTC),
        objects=(DriftObject(key=key, differences=(diff,), desired_file="d.yaml", live={"a": 1}),),
        summary="1 difference(s)",
    )


async def test_reports_by_id(store: DriftStore) -> None:
    report = a_report()
    await store.save_report(report)
    await store.save_report(report)  # a second save changes nothing
    assert await store.get_report(report.id) == report
    assert await store.get_report(uuid4()) is None


async def test_announced_is_replaced_whole(store: DriftStore) -> None:
    assert await store.announced() == frozenset()
    await store.set_announced(frozenset({"a" * 64, "b" * 64}))
    await store.set_announced(frozenset({"b" * 64, "c" * 64}))
    assert await store.announced() == frozenset({"b" * 64, "c" * 64})


async def test_ignore_keeps_the_latest_fingerprint(store: DriftStore) -> None:
    await store.ignore({"s" * 64: "f1"}, actor="alice")
    await store.ignore({"s" * 64: "f2", "t" * 64: "f3"}, actor="bob")
    assert dict(await store.ignored()) == {"s" * 64: "f2", "t" * 64: "f3"}
