"""Engine and session factory from HOWL_DATABASE_URL; SQLite gets WAL and foreign keys."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.slots import Slots
from storage.sqlite_driver import OneTripDBAPI


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; for SQLite, every connection is set up for concurrent use."""
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not url.startswith("sqlite")}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
        kwargs["module"] = OneTripDBAPI()  # one trip to aiosqlite's thread per statement
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
    return engine


#: execution option of sessions from `read_session`: they only read
READ_ONLY = "howl_read_only"


def _sqlite_begin_immediate(conn: Any) -> None:
    # A deferred transaction that reads then writes can fail with SQLITE_BUSY
    # when another writer got there first; taking the write lock up front makes
    # concurrent writers queue on busy_timeout instead. A session that only
    # reads begins deferred: in WAL mode it then neither waits for nor blocks
    # the writer.
    #
    # Sent straight to the driver's cursor (one trip to aiosqlite's thread, see
    # storage/sqlite_driver.py), without SQLAlchemy's statement machinery.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
    adapted = conn.connection.dbapi_connection
    assert adapted is not None
    cursor = adapted.cursor()
    cursor.execute(statement)
    cursor.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the HTTP intake write while the delivery worker reads; NORMAL
    # sync is durable across process crashes (only an OS crash can lose the tail).
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see below
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA busy_timeout=30000",
    ):
        cursor.execute(pragma)
    cursor.close()


class SerialWriteSessions(async_sessionmaker[AsyncSession]):
    """Sessions whose write transactions (`begin()`) take turns on an asyncio lock.

    SQLite has one writer. Left to itself, a second writer waits in SQLite's
    busy handler, which sleeps in growing steps (up to 100 ms) and can wake
    long after the lock is free; queueing on an asyncio lock instead hands the
    lock over the moment it is released, in arrival order. Write transactions
    must not nest (none do: reads inside one use `read_session`).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self._write_turn = Slots(1)

    @contextlib.asynccontextmanager
    async def begin(self, *, urgent: bool = False) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        async with self._write_turn.taken(URGENT if urgent else 0), super().begin() as session:
            yield session


#: the write turn's priority of a transaction someone is waiting to see (`write_session`)
URGENT = 1


def write_session(
    sessions: async_sessionmaker[AsyncSession], *, urgent: bool = False
) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
    """A write transaction; an urgent one goes first among those waiting for SQLite's writer.

    Urgent is for a step a person is waiting on, such as a card's delivery: behind the
    bookkeeping of a debate or a storm's intake it would wait its turn for nothing.
    """
    if isinstance(sessions, SerialWriteSessions):
        return sessions.begin(urgent=urgent)
    return sessions.begin()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name == "sqlite":
        return SerialWriteSessions(engine)
    return async_sessionmaker(engine, expire_on_commit=False)


@functools.lru_cache(maxsize=64)
def _read_only(engine: AsyncEngine) -> AsyncEngine:
    return engine.execution_options(**{READ_ONLY: True})


def read_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session for reads only (a write through it may fail with "database is locked")."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return sessions(bind=_read_only(engine))


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


#: bytes the database takes on disk: SQLite's file (pages x page size), PostgreSQL's database
_SIZE_QUERIES = {
    "sqlite": "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
    "postgresql": "SELECT pg_database_size(current_database())",
}


async def database_size(engine: AsyncEngine) -> int | None:
    """How many bytes the database takes; None when it does not answer."""
    query = _SIZE_QUERIES.get(engine.dialect.name)
    if query is None:
        return None
    try:
        async with engine.connect() as conn:
            size = (await conn.execute(text(query))).scalar()
    except Exception:
        return None
    return int(size) if size is not None else None


def describe_db_error(exc: BaseException) -> str:
    """One line for a person: the driver's own message, without SQLAlchemy's links."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return f"{type(cause).__name__}: {text}"


async def sqlite_threads_settled(limit_s: float = 2.0) -> None:
    """Wait (up to `limit_s`) for aiosqlite's worker threads to end.

    A SQLite connection that failed to open reports back from its own thread;
    if the event loop closes first (a CLI exiting on that very error, a test
    that breaks the database on purpose), the thread dies with "Event loop is
    closed" and prints a traceback after our one-line error.
    """
    deadline = time.monotonic() + limit_s
    # threads signal nothing we could await: poll briefly
    while time.monotonic() < deadline and any(  # noqa: ASYNC110
        thread.name.endswith("(_connection_worker_thread)") for thread in threading.enumerate()
    ):
        await asyncio.sleep(0.01)


async def dispose(engine: AsyncEngine) -> None:
    """Dispose the engine and let its driver threads finish before the loop may close."""
    await engine.dispose()
    await sqlite_threads_settled()
