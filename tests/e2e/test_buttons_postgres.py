"""Button presses through the real `howl run` on PostgreSQL: two at once still change it once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_engine
from tests.e2e.conftest import create_database
from tests.integration.conftest import ALICE, BOB, ONCALL, TelegramWorld
from tests.integration.howl_process import running_howl
from tests.integration.test_buttons import a_firing_card, answer_to, buttons

pytestmark = pytest.mark.e2e


async def test_two_presses_at_once_on_postgres(
    postgres_url: str, tmp_path: Path, telegram: TelegramWorld
) -> None:
    url = await create_database(postgres_url, "buttons")
    async with running_howl(tmp_path, **telegram.settings(HOWL_DATABASE_URL=url)):
        card = await a_firing_card(telegram)
        silence = buttons(card)["Silence 1h"]
        queries = [
            await telegram.emulator.user_presses(ONCALL, user, card.message_id, silence)
            for user in (ALICE, BOB)
        ]
        answers = sorted(await asyncio.gather(*(answer_to(telegram, q) for q in queries)))

    assert answers[0] == "Incident #1 is silenced now; nothing changed."
    assert answers[1] in {
        "Incident #1 silenced for 1h by Alice.",
        "Incident #1 silenced for 1h by Bob.",
    }
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            actions = (
                await conn.execute(text("SELECT action FROM audit_log ORDER BY id"))
            ).scalars()
            keys = (await conn.execute(text("SELECT secret FROM signing_keys"))).scalars()
            assert [a for a in actions if a != "incident.opened"] == ["incident.silence"]
            assert [len(k) for k in keys] == [32], "the key, made on first run, as bytea"
    finally:
        await engine.dispose()
