"""The storm the contract names, through the running `howl run` and a Bot API that enforces
Telegram's limits (20 a minute into a group, 30 a second overall, 429 with retry_after).

Not a speed test: the contract's own ceilings (60 s to name every incident,
5 s to answer /status) are the only times asserted; the rest is content.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import ALICE, ONCALL, TelegramWorld
from tests.integration.howl_process import running_howl
from tests.servers.telegram import wait_for
from tests.storm import rounds, silent_announcements, unnamed

pytestmark = pytest.mark.slow

NAMED_WITHIN_S = 60.0
STATUS_WITHIN_S = 5.0


async def test_a_storm_names_every_incident_with_its_namespace_and_status_still_answers(
    tmp_path: Path, telegram: TelegramWorld
) -> None:
    emulator = telegram.emulator
    async with (
        running_howl(tmp_path, **telegram.settings()) as howl,
        httpx.AsyncClient(base_url=howl.http, timeout=30) as client,
    ):
        started = time.monotonic()
        asked: tuple[float, int] | None = None
        for n, batch in enumerate(rounds()):
            answers = await asyncio.gather(
                *(client.post("/alerts/alertmanager", json=body) for body in batch)
            )
            assert all(a.status_code == 200 for a in answers), answers[0].text
            if n == 2:  # in the thick of it, someone asks
                update = await emulator.user_sends(ONCALL, ALICE, "/status")
                asked = (time.monotonic(), update["message"]["message_id"])
        assert asked is not None

        def chat() -> list[str]:
            return [m.text for m in emulator.bot_messages(ONCALL)]

        left = NAMED_WITHIN_S - (time.monotonic() - started)
        await wait_for(lambda: not unnamed(chat()), timeout=left, what="every incident named")

        asked_at, question = asked
        [answer] = await wait_for(
            lambda: [m for m in emulator.bot_messages(ONCALL) if m.reply_to == question],
            timeout=STATUS_WITHIN_S,
            what="the answer to /status",
        )
        answered_at = next(p.at for p in emulator.postings if p.message_id == answer.message_id)
        assert answered_at - asked_at <= STATUS_WITHIN_S
        assert "Howl" in answer.text
        await howl.stop()

    assert emulator.stats.too_many_requests == 0
    assert silent_announcements(emulator.postings, ONCALL) == []
    digests = [m.text for m in emulator.bot_messages(ONCALL) if "Alert storm" in m.text]
    assert digests, "a storm this size cannot go card by card in a minute: it folds"
