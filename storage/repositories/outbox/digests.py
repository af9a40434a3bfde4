"""Storm digests: when a chat cannot take every new card, new incidents share one message.

Implements `core.ports.StormDigests`. The delivery worker decides when to fold
and how many cards to keep (it owns the chat budgets); this module stores which
card is a line of which digest. A digest's text is never stored: its lines are
handed to the worker when it claims the digest's delivery, and the bot renders
them.

The rules that keep a storm ringing:
- a new digest waits `DIGEST_GATHER_S` so that the folds of one burst share it,
  and a folded card joins a digest only while the digest's send is pending;
  once it is on its way, later folds start a new digest message, so no
  incident is ever announced by an edit (which notifies nobody, and as an edit
  would wait behind announcements for the chat's budget);
- a digest lists the most urgent first and is as urgent as its most urgent line;
- a folded card keeps its latest content (`FOLDED`), and once the chat has room
  again `unfold` gives it its own message, unless its subject closed meanwhile
  (`SETTLED`: it stays a digest line, which keeps following its state).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import OutboundKind, Priority
from storage.db import read_session
from storage.repositories.outbox.converge import refresh_digest
from storage.repositories.outbox.rows import (
    DIGEST_PREFIX,
    FOLDED,
    PENDING,
    OutboxPart,
)
from storage.tables import CardRow, OutboxRow

#: lines a digest card lists before a new digest starts
DIGEST_MEMBERS = 40
#: a new digest waits this long before it is sent, so the folds of one burst share it
DIGEST_GATHER_S = 2.0


def _new_card_filter(chat_id: int) -> tuple[Any, ...]:
    return (
        OutboxRow.chat_id == chat_id,
        OutboxRow.status == PENDING,
        OutboxRow.kind == OutboundKind.SEND.value,
        OutboxRow.card_key.is_not(None),
        OutboxRow.card_key.not_like(f"{DIGEST_PREFIX}%"),
        # Priority.announces_incident: a decision's first send is never folded
        OutboxRow.priority > Priority.REPLY,
        OutboxRow.priority < Priority.URGENT_DECISION,
    )


class SqlDigests(OutboxPart):
    """Implements `core.ports.StormDigests`."""

    async def pending_new_cards(self, chat_id: int) -> int:
        """How many first sends of cards wait for this chat (the storm gauge)."""
        query = select(func.count()).where(*_new_card_filter(chat_id))
        async with read_session(self._sessions) as session:
            return int(await session.scalar(query) or 0)

    async def fold_new_cards(self, chat_id: int, *, keep: int = 0) -> int:
        """Fold the chat's waiting first sends into digests, all but the `keep` most
        urgent (which still go as cards of their own); returns how many were folded."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            query = (
                select(OutboxRow)
                .where(*_new_card_filter(chat_id))
                .order_by(OutboxRow.priority, OutboxRow.id)
                .offset(max(keep, 0))
            )
            rows = (await session.scalars(query)).all()
            key, members = await self._open_digest(session, chat_id, now)
            opened = {key} if members == 0 else set()
            touched: dict[str, int] = {}
            for row in rows:
                assert row.card_key is not None
                row.status, row.last_error = FOLDED, "folded into a storm digest"
                card = await session.get(CardRow, row.card_key, with_for_update=True)
                if card is None or card.digest_key is not None:
                    continue  # already announced by a digest: it waits there again
                if members >= DIGEST_MEMBERS:
                    key, members = _new_digest_key(chat_id, now), 0
                    opened.add(key)
                card.digest_key = key
                card.digest_line = card.digest_line or row.text.split("\n", 1)[0]
                members += 1
                urgency = Priority.URGENT if row.priority <= Priority.URGENT else Priority.DIGEST
                touched[key] = min(touched.get(key, Priority.DIGEST), urgency)
            await session.flush()
            for digest_key, priority in sorted(touched.items()):
                await refresh_digest(
                    session, digest_key, chat_id=chat_id, now=now, priority=priority
                )
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.card_key.in_(opened), OutboxRow.status == PENDING)
                .values(not_before=now + timedelta(seconds=DIGEST_GATHER_S))
            )
        if rows:
            self._signal.notify()
        return len(rows)

    async def unfold(self, chat_id: int, *, limit: int) -> int:
        """Give up to `limit` cards that show only as digest lines (and whose subject is
        still open) their own message, most urgent first; returns how many."""
        if limit <= 0:
            return 0
        now = self._clock.now()
        async with self._sessions.begin() as session:
            query = (
                select(OutboxRow)
                .where(OutboxRow.chat_id == chat_id, OutboxRow.status == FOLDED)
                .order_by(OutboxRow.priority, OutboxRow.id)
                .limit(limit)
                .with_for_update()
            )
            rows = (await session.scalars(query)).all()
            for row in rows:
                row.status, row.not_before, row.last_error = PENDING, now, None
        if rows:
            self._signal.notify()
        return len(rows)

    async def folded_chats(self) -> list[int]:
        """Chats with cards still owed a message of their own (seeds the worker at start)."""
        query = select(OutboxRow.chat_id).where(OutboxRow.status == FOLDED).distinct()
        async with read_session(self._sessions) as session:
            return sorted((await session.scalars(query)).all())

    async def _open_digest(
        self, session: AsyncSession, chat_id: int, now: datetime
    ) -> tuple[str, int]:
        """The chat's newest digest while it may still gain lines, else a new key."""
        latest = await session.scalar(
            select(CardRow)
            .where(CardRow.chat_id == chat_id, CardRow.key.like(f"{DIGEST_PREFIX}%"))
            .order_by(CardRow.created_at.desc(), CardRow.key.desc())
            .limit(1)
        )
        if latest is None or not await _joinable(session, latest):
            return _new_digest_key(chat_id, now), 0
        members = await session.scalar(select(func.count()).where(CardRow.digest_key == latest.key))
        return latest.key, int(members or 0)


async def _joinable(session: AsyncSession, digest: CardRow) -> bool:
    """Its send has not started: a line added now goes out with the message itself."""
    waiting = await session.scalar(
        select(func.count()).where(
            OutboxRow.card_key == digest.key,
            OutboxRow.kind == OutboundKind.SEND.value,
            OutboxRow.status == PENDING,
        )
    )
    return bool(waiting)


def _new_digest_key(chat_id: int, now: datetime) -> str:
    # unique even for two folds in the same millisecond: a reused key would make the
    # new digest an edit of the old message
    stamp = int(now.timestamp() * 1000)
    return f"{DIGEST_PREFIX}{chat_id}:{stamp}-{uuid.uuid4().hex[:12]}"
