"""The turn log and decision store on a real PostgreSQL: the plpgsql trigger refuses UPDATE,
DELETE and TRUNCATE of a turn; one package per run under racing saves."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.debate.models import Role
from storage.migrate import head_revision, upgrade
from tests.debate_store_scenarios import (
    APPEND_ONLY,
    SCENARIOS,
    Scenario,
    add_incident,
    downgrade_to,
    new_run,
    stores,
    turn,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_scenario(engine: AsyncEngine, scenario: Scenario) -> None:
    """Append order, refused UPDATE and DELETE, one package per run, latest, approvals."""
    await scenario(engine)


async def test_truncate_is_refused_too(engine: AsyncEngine) -> None:
    """Row triggers do not see TRUNCATE; the statement trigger does."""
    incident = await add_incident(engine, "truncate")
    run = await new_run(engine, incident)
    log, _ = stores(engine)
    kept = turn(run, incident, Role.SOLVER)
    await log.append(kept)
    with pytest.raises(IntegrityError, match=APPEND_ONLY):
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE debate_turns CASCADE"))
    assert await log.for_run(run) == [kept]


async def test_downgrade_removes_the_triggers_and_function(engine: AsyncEngine) -> None:
    await downgrade_to(engine, "0006")
    async with engine.connect() as conn:
        left = await conn.execute(
            text(
                "SELECT count(*) FROM pg_proc WHERE proname = 'debate_turns_append_only'"
                " UNION ALL SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'debate_turns_%'"
                " UNION ALL SELECT count(*) FROM pg_tables"
                " WHERE tablename IN ('debate_turns', 'decisions')"
            )
        )
        assert [n for (n,) in left] == [0, 0, 0]
    assert await upgrade(engine) == head_revision(), "and upgrading again works"
