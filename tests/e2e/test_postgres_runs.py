"""The run store on a real PostgreSQL: one run per trigger, one worker per run, SKIP LOCKED."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.run_scenarios import SCENARIOS, FakeClock, Scenario, add_incident, store

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario(engine: AsyncEngine, scenario: Scenario) -> None:
    """Idempotent create, concurrent claims, lease expiry, a crashed worker's run."""
    await scenario(engine)


async def test_a_claim_skips_a_row_another_claimer_holds(engine: AsyncEngine) -> None:
    """With FOR UPDATE SKIP LOCKED a claim passes over a locked row instead of waiting on it."""
    clock = FakeClock()
    incident = await add_incident(engine, "skip-locked")
    first = await store(engine, clock).create(incident, "first")
    second = await store(engine, clock).create(incident, "second")
    async with engine.connect() as holder:
        # another claimer is mid-transaction on the oldest pending run
        await holder.execute(
            text("SELECT id FROM runs WHERE id = :id FOR UPDATE"), {"id": str(first.id)}
        )
        # without SKIP LOCKED this claim would wait for `holder` (forever, here)
        claimed = await asyncio.wait_for(
            store(engine, clock).claim("w2", lease_for=timedelta(seconds=60)), timeout=20
        )
        assert claimed is not None and claimed.id == second.id
        await holder.rollback()
    claimed = await store(engine, clock).claim("w3", lease_for=timedelta(seconds=60))
    assert claimed is not None and claimed.id == first.id, "released, the first is claimable"
