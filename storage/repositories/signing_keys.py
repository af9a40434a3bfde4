"""Secrets Howl makes for itself: generated on first run, the same after every restart."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import Clock
from storage.db import read_session
from storage.tables import SigningKeyRow

KEY_BYTES = 32


class SqlSigningKeys:
    """Named random keys in the signing_keys table; a key, once made, never changes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def get_or_create(self, name: str) -> bytes:
        """The key called `name`, made now (32 random bytes) if there is none yet."""
        found = await self._get(name)
        if found is not None:
            return found
        try:
            async with self._sessions.begin() as session:
                session.add(
                    SigningKeyRow(
                        name=name,
                        secret=secrets.token_bytes(KEY_BYTES),
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            pass  # another process starting at the same time made it first: use theirs
        made = await self._get(name)
        assert made is not None
        return made

    async def _get(self, name: str) -> bytes | None:
        async with read_session(self._sessions) as session:
            secret = await session.scalar(
                select(SigningKeyRow.secret).where(SigningKeyRow.name == name)
            )
        return bytes(secret) if secret is not None else None
