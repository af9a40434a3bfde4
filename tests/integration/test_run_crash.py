"""`kill -9` of a worker mid-run: the run is reaped, reclaimed and finished, once."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path

from core.ports import SystemClock
from core.run_worker import LEASE_FOR, RunWorker, reap_expired
from core.runs import Run, RunEvent, RunState
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.repositories import SqlRunStore
from tests.run_scenarios import add_incident
from tests.servers.telegram import wait_for


class LaterClock:
    """The system clock, moved on by a lease and a bit: as if the reaper ran a while later."""

    def __init__(self, by: timedelta) -> None:
        self.by = by

    def now(self) -> datetime:
        return SystemClock().now() + self.by


async def test_a_killed_workers_run_is_reclaimed_and_finished_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        runs = SqlRunStore(session_factory(engine), SystemClock())
        created = await runs.create(await add_incident(engine), "opened")
        started = tmp_path / "started"
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.integration.run_worker_child", url, str(started),
            cwd=Path(__file__).parents[2],
        )  # fmt: skip
        try:
            await wait_for(started.exists, timeout=30, what="the child to start the run")
        finally:
            child.send_signal(signal.SIGKILL)
            await child.wait()
        dead = await runs.get(created.id)
        assert dead is not None and (dead.state, dead.lease_owner) == (RunState.RUNNING, "child")

        clock = LaterClock(LEASE_FOR + timedelta(seconds=1))
        later = SqlRunStore(session_factory(engine), clock)
        [reaped] = await reap_expired(later, clock)
        assert reaped.run.id == created.id
        worked: list[Run] = []

        async def work(run: Run) -> RunEvent:
            worked.append(run)
            return RunEvent.COMPLETE

        finished = await RunWorker(later, work, owner="survivor").run_once()
        assert finished is not None and finished.id == created.id
        assert (finished.state, finished.attempts) == (RunState.COMPLETED, 2)
        assert [run.attempts for run in worked] == [2]
        assert await later.recent(limit=10) == [finished], "still one run, finished"
    finally:
        await engine.dispose()
