"""Approval presses on a real PostgreSQL: many presses at the same instant run one action.

The flow is the one tests/unit/approvals/test_flow.py drives on SQLite; here the
conditional UPDATE races under PostgreSQL's read committed, across connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.llm.schemas import RiskLevel
from storage.db import create_engine
from storage.migrate import upgrade
from tests.e2e.conftest import create_database
from tests.unit.approvals.test_flow import ALICE, BOB, World, announced

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(
    postgres_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[World]:
    name = "approvals_" + request.node.name.removeprefix("test_")[:40]
    engine = create_engine(await create_database(postgres_url, name))
    await upgrade(engine)
    yield World(engine, tmp_path / "argv.jsonl")
    await engine.dispose()


@pytest.mark.parametrize("risk", [RiskLevel.MEDIUM, RiskLevel.CRITICAL])
async def test_concurrent_presses_run_one_action(world: World, risk: RiskLevel) -> None:
    flows = [world.flow() for _ in range(4)]
    run, request = await announced(world, flows[0], risk=risk)
    assert request is not None
    answers = await asyncio.gather(
        *(
            flows[i % 4].press(
                request.id, "approve", user_id=(ALICE, BOB)[i % 2], name=("Alice", "Bob")[i % 2]
            )
            for i in range(16)
        )
    )
    assert sum(a.execute for a in answers) == 1
    await asyncio.gather(*(f.execute(run.id) for f in flows), *(f.sweep() for f in flows))
    assert world.executions() == [["api", "prod"]]
    audited = await world.actions_audited()
    assert audited.count("action.started") == 1
    # critical: exactly two distinct approvals counted; otherwise exactly one
    assert audited.count("approval.approved") == request.required
