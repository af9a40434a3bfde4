"""The process's services over a fresh, migrated SQLite database, as `howl run` builds them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import build_services, load_buttons_key
from bot.services import Services
from core.config import load_settings
from storage.db import create_engine
from storage.migrate import upgrade


@contextlib.asynccontextmanager
async def migrated_services(db: Path, **settings: str) -> AsyncIterator[Services]:
    """Services (playground mode) over `db`, with these settings and no `.env`."""
    config = load_settings(
        _env_file=None, HOWL_DATABASE_URL=f"sqlite+aiosqlite:///{db}", **settings
    )
    engine = create_engine(config.database_url)
    await upgrade(engine)
    try:
        yield build_services(
            config, engine, mode="playground", buttons_key=await load_buttons_key(engine)
        )
    finally:
        await engine.dispose()
