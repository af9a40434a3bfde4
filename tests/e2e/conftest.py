"""Real binaries on loopback: a throwaway PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.migrate import upgrade
from tests.conftest import require_binary
from tests.integration.conftest import telegram  # noqa: F401 - the emulated Telegram, shared
from tests.servers.postgres import pg_binary, postgres_cluster


def _pg_binary(name: str) -> str:
    return pg_binary(name) or require_binary(name)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: tuple[str, Path]) -> str:
    """An asyncpg URL of the throwaway cluster's `postgres` database."""
    return postgres_server[0]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, Path]]:
    """A fresh PostgreSQL cluster on a free loopback port; yields its asyncpg URL and log."""
    with postgres_cluster(_pg_binary("initdb"), _pg_binary("pg_ctl")) as server:
        yield server


async def create_database(postgres_url: str, name: str) -> str:
    """A new empty database in the throwaway cluster; returns its URL."""
    admin = create_engine(postgres_url)
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
async def engine(postgres_url: str, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """A fresh, migrated database for each test, named after its module and test."""
    module = request.node.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    name = f"{module}_{request.node.name.removeprefix('test_')}"[:60]
    engine = create_engine(await create_database(postgres_url, name))
    await upgrade(engine)
    yield engine
    await engine.dispose()
