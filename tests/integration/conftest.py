"""A Bot API emulator served over HTTP for the real bot to talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.playground.botapi import BotApiEmulator
from bot.playground.server import create_emulator_app
from tests.servers.telegram import serve_asgi

TOKEN = "123456:TEST-token-for-the-emulator-only-0000000"
ONCALL = -1001234
FOREIGN = -1009999
ALICE = 501  # an approver
BOB = 502


@dataclass
class TelegramWorld:
    emulator: BotApiEmulator
    base_url: str

    def settings(self, **extra: str) -> dict[str, str]:
        """Environment that points `howl run` at this emulator."""
        return {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"{self.base_url}/bot",
            "HOWL_ALERT_CHAT_ID": str(ONCALL),
            "HOWL_APPROVER_IDS": str(ALICE),
            **extra,
        }


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramWorld]:
    emulator = BotApiEmulator(token=TOKEN)
    emulator.add_user(ALICE, "Alice")
    emulator.add_user(BOB, "Bob")
    emulator.add_chat(ONCALL, title="On-call")
    emulator.add_chat(FOREIGN, title="Somebody else's group")
    async with serve_asgi(create_emulator_app(emulator)) as url:
        yield TelegramWorld(emulator, url)
        await emulator.close()  # wakes any long poll left open, before the server stops
