"""Storm digests: when a chat cannot take every new card, new incidents share one message.

Implements `core.ports.StormDigests`. The delivery worker decides when to fold
(it owns the chat budgets); this module stores which card is a line of which
digest. A digest's text is never stored: its lines are handed to the worker
when it claims the digest's delivery, and the bot renders them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import OutboundKind, Priority
from storage.db import read_session
from storage.repositories.outbox.converge import refresh_digest
from storage.repositories.outbox.rows import DIGEST_PREFIX, FOLDED, PENDING, OutboxPart
from storage.tables import CardRow, OutboxRow

#: lines a digest card lists before a new digest starts
DIGEST_MEMBERS = 40
#: a digest older than this is closed: new folds start a fresh one
DIGEST_OPEN_FOR = timedelta(minutes=10)


def _new_card_filter(chat_id: int) -> tuple[Any, ...]:
    return (
        OutboxRow.chat_id == chat_id,
        OutboxRow.status == PENDING,
        OutboxRow.kind == OutboundKind.SEND.value,
        OutboxRow.card_key.is_not(None),
        OutboxRow.card_key.not_like(f"{DIGEST_PREFIX}%"),
        OutboxRow.priority >= Priority.CARD_NEW,
    )


class SqlDigests(OutboxPart):
    """Implements `core.ports.StormDigests`."""

    async def pending_new_cards(self, chat_id: int) -> int:
        """How many first sends of cards wait for this chat (the storm gauge)."""
        query = select(func.count()).where(*_new_card_filter(chat_id))
        async with read_session(self._sessions) as session:
            return int(await session.scalar(query) or 0)

    async def fold_new_cards(self, chat_id: int) -> int:
        """Fold every waiting first send of a card into digest cards; returns how many.

        Each folded card becomes one line of a digest (its `digest_line`), so a
        storm of new incidents costs a message or two instead of one each.
        """
        now = self._clock.now()
        async with self._sessions.begin() as session:
            query = select(OutboxRow).where(*_new_card_filter(chat_id)).order_by(OutboxRow.id)
            rows = (await session.scalars(query)).all()
            key, members = await self._open_digest(session, chat_id)
            touched: set[str] = set()
            for row in rows:
                assert row.card_key is not None
                row.status, row.last_error = FOLDED, "folded into a storm digest"
                card = await session.get(CardRow, row.card_key, with_for_update=True)
                if card is None:
                    continue
                if members >= DIGEST_MEMBERS:
                    key, members = self._new_digest_key(chat_id, len(touched)), 0
                card.digest_key = key
                card.digest_line = card.digest_line or row.text.split("\n", 1)[0]
                members += 1
                touched.add(key)
            await session.flush()
            for digest_key in sorted(touched):
                await refresh_digest(session, digest_key, chat_id=chat_id, now=now)
        if rows:
            self._signal.notify()
        return len(rows)

    async def _open_digest(self, session: AsyncSession, chat_id: int) -> tuple[str, int]:
        """The chat's newest digest and its size while it is recent, else a new key."""
        now = self._clock.now()
        latest = await session.scalar(
            select(CardRow)
            .where(CardRow.chat_id == chat_id, CardRow.key.like(f"{DIGEST_PREFIX}%"))
            .order_by(CardRow.created_at.desc(), CardRow.key.desc())
            .limit(1)
        )
        if latest is not None and latest.created_at > now - DIGEST_OPEN_FOR:
            members = await session.scalar(
                select(func.count()).where(CardRow.digest_key == latest.key)
            )
            return latest.key, int(members or 0)
        return self._new_digest_key(chat_id, 0), 0

    def _new_digest_key(self, chat_id: int, serial: int) -> str:
        stamp = int(self._clock.now().timestamp() * 1000)
        return f"{DIGEST_PREFIX}{chat_id}:{stamp}-{serial}"
