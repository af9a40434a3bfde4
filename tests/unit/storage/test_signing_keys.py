"""Signing keys: made once on first run, the same ever after, one even when two start at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.ports import SystemClock
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlSigningKeys
from storage.tables import SigningKeyRow


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


def keys(engine: AsyncEngine) -> SqlSigningKeys:
    """A fresh repository, as a restarted process would build it."""
    return SqlSigningKeys(session_factory(engine), SystemClock())


async def rows(engine: AsyncEngine) -> int:
    async with session_factory(engine)() as session:
        return int(await session.scalar(select(func.count()).select_from(SigningKeyRow)) or 0)


async def test_a_key_is_made_on_first_use_and_kept(engine: AsyncEngine) -> None:
    first = await keys(engine).get_or_create("buttons")
    assert len(first) == 32
    assert await keys(engine).get_or_create("buttons") == first
    assert await rows(engine) == 1


async def test_each_name_has_its_own_random_key(engine: AsyncEngine) -> None:
    buttons = await keys(engine).get_or_create("buttons")
    other = await keys(engine).get_or_create("other")
    assert buttons != other and await rows(engine) == 2


async def test_two_first_runs_at_once_agree_on_one_key(engine: AsyncEngine) -> None:
    # separate repositories (separate write locks), as two processes would have
    found = await asyncio.gather(*(keys(engine).get_or_create("buttons") for _ in range(4)))
    assert len(set(found)) == 1 and await rows(engine) == 1


class _LookedTooEarly(SqlSigningKeys):
    """Its first look finds nothing, and another process makes the key right after."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(session_factory(engine), SystemClock())
        self.engine = engine
        self.theirs: bytes | None = None

    async def _get(self, name: str) -> bytes | None:
        if self.theirs is None:
            self.theirs = await keys(self.engine).get_or_create(name)
            return None
        return await super()._get(name)


async def test_a_key_made_by_another_process_in_between_is_the_one_used(
    engine: AsyncEngine,
) -> None:
    late = _LookedTooEarly(engine)
    assert await late.get_or_create("buttons") == late.theirs
    assert await rows(engine) == 1
