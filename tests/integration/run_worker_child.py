"""A worker process for the crash test: claims a run, starts its work, and never finishes.

    python -m tests.integration.run_worker_child DATABASE_URL STARTED_FILE

It writes STARTED_FILE once the run is running (leased, heartbeat going), then
waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.ports import SystemClock
from core.run_worker import RunWorker
from core.runs import Run, RunEvent
from storage.db import create_engine, session_factory
from storage.repositories import SqlRunStore


async def main(url: str, started: Path) -> None:
    engine = create_engine(url)

    async def work(run: Run) -> RunEvent:
        await asyncio.to_thread(started.write_text, str(run.id))
        await asyncio.Event().wait()  # the work in progress when the process dies
        raise AssertionError("unreachable: the process is killed while waiting")

    await RunWorker(
        SqlRunStore(session_factory(engine), SystemClock()), work, owner="child"
    ).run_once()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
