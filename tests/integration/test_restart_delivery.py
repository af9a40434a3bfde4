"""Alerts accepted while Telegram answers 500 all reach the chat, across a restart of Howl."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.integration.conftest import ONCALL, TelegramWorld
from tests.integration.howl_process import running_howl
from tests.servers.telegram import wait_for


def generic_alert(n: int) -> dict[str, object]:
    return {
        "title": f"DiskFull{n:02d}",
        "severity": "warning",
        "labels": {"alertname": f"DiskFull{n:02d}", "service": f"db-{n}", "namespace": "prod"},
        "annotations": {"summary": f"disk 95% full on db-{n}"},
        "source": "test",
    }


async def test_outage_and_restart_lose_nothing(tmp_path: Path, telegram: TelegramWorld) -> None:
    emulator = telegram.emulator
    titles = [f"DiskFull{n:02d}" for n in range(6)]
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        emulator.outage = {"*"}  # Telegram answers 500 to everything but getUpdates
        async with httpx.AsyncClient() as client:
            for n in range(6):
                answer = await client.post(f"{howl.http}/alerts", json=generic_alert(n))
                assert answer.status_code == 200, answer.text
        await wait_for(lambda: emulator.stats.errors >= 3, what="failed deliveries", timeout=20)
        code, _ = await howl.stop()
        assert code == 0
    assert emulator.bot_messages(ONCALL) == []

    async def telegram_recovers_later() -> None:
        await asyncio.sleep(2.0)
        emulator.outage = set()

    # Howl restarts while Telegram is still down (not ready until it answers), then it recovers.
    recovery = asyncio.create_task(telegram_recovers_later())
    async with running_howl(tmp_path, **telegram.settings()) as howl:
        await recovery

        def visible() -> list[str]:
            chat = "\n".join(m.text for m in emulator.bot_messages(ONCALL))
            return [t for t in titles if t in chat]

        await wait_for(lambda: len(visible()) == len(titles), timeout=60, what="every alert")
        await howl.stop()
    assert emulator.stats.too_many_requests == 0
