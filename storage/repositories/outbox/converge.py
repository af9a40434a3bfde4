"""Converging a chat message to what its card should show: one send, then coalesced edits.

Both kinds of card go through `converge`: an incident card (its rendered text
arrives from the bot) and a storm digest (storage keeps only its lines; the
delivery worker renders them when it sends, so storage never renders).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import OutboundKind, Priority
from storage.repositories.outbox.rows import (
    FOLDED,
    PENDING,
    SENDING,
    SETTLED,
    content_hash,
    new_row,
    queued_for,
)
from storage.tables import CardRow, OutboxRow


@dataclass(frozen=True)
class Showing:
    """What one card's message should show."""

    key: str
    chat_id: int
    #: hash of the content: an unchanged card queues nothing
    fingerprint: str
    priority: int
    text: str = ""
    keyboard: Any = None
    digest_line: str | None = None
    closed: bool = False
    reply_to_card: str | None = None


async def converge(session: AsyncSession, target: Showing, *, now: datetime) -> bool:
    """Queue what makes the chat show `target`, in the caller's transaction.

    While a send or edit of the card is still pending, the newer content
    replaces the queued one instead of queueing another delivery, so a
    flapping alert costs one message, not one per flap. A card listed in a
    storm digest also keeps its line there in step. Returns whether anything
    changed.
    """
    row = await session.get(CardRow, target.key, with_for_update=True)
    if row is not None and row.content_hash == target.fingerprint:
        return False
    if row is None:
        session.add(
            CardRow(
                key=target.key,
                chat_id=target.chat_id,
                content_hash=target.fingerprint,
                digest_line=target.digest_line,
                created_at=now,
                updated_at=now,
            )
        )
        session.add(_delivery(target, OutboundKind.SEND, now=now))
        return True
    row.content_hash, row.updated_at = target.fingerprint, now
    if row.digest_key is not None and row.digest_line != target.digest_line:
        row.digest_line = target.digest_line
        await refresh_digest(session, row.digest_key, chat_id=row.chat_id, now=now)
    row.digest_line = target.digest_line
    if held := await _held_send(session, target.key):
        # Only a digest line for now: keep the latest content for its own message later.
        held.text, held.keyboard = target.text, target.keyboard
        held.status = SETTLED if target.closed else FOLDED
        held.priority = min(held.priority, target.priority)
        return True
    queued = await queued_for(session, target.key)
    wanted = OutboundKind.SEND if row.message_id is None else OutboundKind.EDIT
    same = [q for q in queued if q.status == PENDING and q.kind == wanted.value]
    if same:
        same[-1].text, same[-1].keyboard = target.text, target.keyboard
        if wanted is OutboundKind.SEND:  # an escalation makes the waiting send more urgent
            same[-1].priority = min(same[-1].priority, target.priority)
        return True
    sending = any(q.status == SENDING and q.kind == OutboundKind.SEND for q in queued)
    # A send in flight will give the card its message id: queue an edit of it.
    kind = OutboundKind.EDIT if sending else wanted
    session.add(_delivery(target, kind, now=now))
    return True


async def _held_send(session: AsyncSession, key: str) -> OutboxRow | None:
    """The card's first send, held back while the card shows only as a digest line."""
    return await session.scalar(
        select(OutboxRow)
        .where(OutboxRow.card_key == key, OutboxRow.status.in_((FOLDED, SETTLED)))
        .order_by(OutboxRow.id.desc())
        .limit(1)
    )


def _delivery(target: Showing, kind: OutboundKind, *, now: datetime) -> OutboxRow:
    # an edit notifies nobody: it never goes before a new card's announcement
    priority = Priority.CARD_UPDATE if kind == OutboundKind.EDIT else target.priority
    return new_row(
        now,
        target.chat_id,
        kind,
        card_key=target.key,
        text=target.text,
        keyboard=target.keyboard,
        priority=priority,
        reply_to_card=target.reply_to_card if kind == OutboundKind.SEND else None,
    )


async def digest_lines(session: AsyncSession, key: str) -> Sequence[str]:
    """The lines a digest lists: the most urgent first, then in the order they came."""
    members = select(CardRow.key).where(CardRow.digest_key == key)
    first_sends = (
        select(OutboxRow.card_key, func.min(OutboxRow.priority).label("priority"))
        .where(OutboxRow.card_key.in_(members), OutboxRow.kind == OutboundKind.SEND.value)
        .group_by(OutboxRow.card_key)
        .subquery()
    )
    lines = await session.scalars(
        select(CardRow.digest_line)
        .outerjoin(first_sends, first_sends.c.card_key == CardRow.key)
        .where(CardRow.digest_key == key)
        .order_by(
            func.coalesce(first_sends.c.priority, Priority.BULK), CardRow.created_at, CardRow.key
        )
    )
    return [line or "" for line in lines.all()]


async def refresh_digest(
    session: AsyncSession,
    key: str,
    *,
    chat_id: int,
    now: datetime,
    priority: int = Priority.DIGEST,
) -> None:
    """The digest's lines changed: queue its send or edit (the text is rendered at delivery)."""
    lines = await digest_lines(session, key)
    target = Showing(key=key, chat_id=chat_id, fingerprint=content_hash(lines), priority=priority)
    await converge(session, target, now=now)
