"""`kill -9` of `howl run` mid-debate, then a restart: the run finishes, once, with one card."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path
from typing import Any

from tests.integration.conftest import TelegramWorld
from tests.integration.howl_process import HowlProcess, running_howl
from tests.integration.test_debate import (
    a_model,
    by_role,
    decision_cards,
    incident_card,
    post_alert,
    settings_for,
)
from tests.servers.openai import Behaviour, FakeOpenAI
from tests.servers.telegram import wait_for


def runs(howl: HowlProcess) -> list[tuple[Any, ...]]:
    path = howl.env["HOWL_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute("SELECT id, state, attempts, stage, lease_owner FROM runs").fetchall()


async def test_a_debate_killed_mid_way_finishes_after_restart_with_one_decision_card(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    hanging = True
    fake = FakeOpenAI(script=lambda body: Behaviour.slow(60.0) if hanging else by_role(body))
    async with a_model(fake) as model_url:
        settings = settings_for(telegram, tmp_path, model_url)
        async with running_howl(tmp_path, **settings) as first:
            await post_alert(first)
            await wait_for(lambda: incident_card(telegram), what="the incident card")
            # the Diagnostician's request is at the model: the debate is under way
            await wait_for(lambda: fake.in_flight == 1, timeout=20, what="the debate to start")
            # the card shows the stage from 2 s on
            await wait_for(lambda: runs(first)[0][3] is not None, timeout=10, what="the stage")
            [(run_id, state, attempts, stage, owner)] = runs(first)
            assert (state, attempts, stage) == ("running", 1, "diagnosing")
            first.proc.send_signal(signal.SIGKILL)
            await first.proc.wait()
        assert decision_cards(telegram) == []

        hanging = False
        async with running_howl(tmp_path, **settings) as second:
            [decision] = await wait_for(
                lambda: decision_cards(telegram), timeout=30, what="the decision card"
            )
            # the card can be out a moment before the worker ends the run
            await wait_for(lambda: runs(second)[0][1] != "running", what="the run to settle")
            [(again, state, attempts, stage, _)] = runs(second)
            assert (again, state, attempts) == (run_id, "waiting_approval", 2)
            # recovered at start-up from the dead pid, not after the lease ran out
            assert f"{owner} died holding the lease" in second.logs()
        card = incident_card(telegram)
        assert card is not None and decision.reply_to == card.message_id
        assert len(decision_cards(telegram)) == 1, "exactly one decision card"
