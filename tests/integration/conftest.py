"""A Bot API emulator served over HTTP for the real bot to talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import build_services, load_buttons_key
from bot.playground.botapi import BotApiEmulator, StoredMessage
from bot.playground.server import create_emulator_app
from bot.services import Services
from core.config import load_settings
from storage.db import create_engine
from storage.migrate import upgrade
from tests.servers.telegram import serve_asgi

TOKEN = "123456:TEST-token-for-the-emulator-only-0000000"
ONCALL = -1001234
FOREIGN = -1009999
ALICE = 501  # an approver
BOB = 502


def is_decision_card(message: StoredMessage) -> bool:
    """A debate's decision package (every new incident gets one, as a reply to its card)."""
    return message.text.startswith("⚖️ Decision")


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


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """The process's services over a migrated SQLite database in tmp_path (no Telegram)."""
    settings = load_settings(
        _env_file=None, HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    yield build_services(
        settings, engine, mode="playground", buttons_key=await load_buttons_key(engine)
    )
    await engine.dispose()
