"""Real binaries on loopback: a throwaway PostgreSQL cluster."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.conftest import require_binary
from tests.integration.conftest import telegram  # noqa: F401 - the emulated Telegram, shared
from tests.servers.telegram import free_port

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_binary(name: str) -> str:
    for directory in PG_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return require_binary(name)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: tuple[str, Path]) -> str:
    """An asyncpg URL of the throwaway cluster's `postgres` database."""
    return postgres_server[0]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[str, Path]]:
    """A fresh PostgreSQL cluster on a free loopback port; yields its asyncpg URL and log."""
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="howl-pg-"))
    data, port = root / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(initdb, "-D", str(data), "-U", "howl", "--auth=trust", "-E", "UTF8")
    run(
        pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-t", "30", "start",
        "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
    )  # fmt: skip
    try:
        yield f"postgresql+asyncpg://howl@127.0.0.1:{port}/postgres", root / "log"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


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
