"""The turn log and the decision store on SQLite: append order, the insert-only triggers,
one package per run, the latest package, approvals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import head_revision, upgrade
from tests.debate_store_scenarios import SCENARIOS, Scenario, downgrade_to


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario(engine: AsyncEngine, scenario: Scenario) -> None:
    await scenario(engine)


async def test_the_triggers_are_in_the_schema(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        )
        assert [name for (name,) in found] == ["debate_turns_no_delete", "debate_turns_no_update"]


async def test_downgrade_drops_the_triggers_and_tables(engine: AsyncEngine) -> None:
    await downgrade_to(engine, "0006")
    async with engine.connect() as conn:
        left = await conn.execute(
            text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'debate_turns%'"
                " OR name LIKE '%decisions%'"
            )
        )
        assert list(left) == []
    assert await upgrade(engine) == head_revision(), "and upgrading again works"
