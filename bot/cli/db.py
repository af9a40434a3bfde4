"""`howl db upgrade`: apply migrations to HOWL_DATABASE_URL."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.config import load_settings
from core.errors import ConfigError
from storage.db import create_engine, describe_db_error, dispose
from storage.migrate import upgrade


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database maintenance")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="apply migrations (Alembic) to HOWL_DATABASE_URL")
    up.set_defaults(handler=_upgrade)


def _upgrade(_args: argparse.Namespace) -> int:
    settings = load_settings()
    revision = asyncio.run(upgrade_database(settings.database_url))
    print(f"database at revision {revision}")
    return 0


async def upgrade_database(url: str) -> str | None:
    """Migrate, turning a connection failure into one line that names the setting."""
    engine = create_engine(url)
    try:
        return await upgrade(engine)
    except Exception as exc:
        raise ConfigError(f"HOWL_DATABASE_URL: cannot migrate: {describe_db_error(exc)}") from None
    finally:
        await dispose(engine)
