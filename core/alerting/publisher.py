"""Keeps every incident's card in step with the incident, after its change is committed.

Intake and commands only mark an incident as changed (in their own
transaction); this worker reads what is owed, has the bot render it, and hands
the cards back to storage in a second, short transaction. Nothing is lost: a
crash between the two leaves the card owed and `catch_up` at start queues it.

Three promises about time, whatever a storm does:
- outside a storm, a change waits at most `settle_s + every_s` (plus the flush
  ahead of it) before its card is queued: the pause between flushes is measured from when
  the last flush started, never scaled by how long it took;
- while more incidents are owed than one batch takes (a storm), an incident
  whose card was queued less than `update_every_s` ago waits until then, and
  each flush takes only its share of the updates, so every card comes round
  about every `update_every_s` and the renders are spread over the flushes
  instead of every card every second: a group's 20 messages a minute could not
  show more edits anyway, and each render costs intake its CPU and SQLite its
  one writer. The queued edit carries the newest content when its turn comes,
  so no edit is added;
- a new incident's first card is never held so, and is queued before updates
  of known incidents (and the most severe first), even when many updates are
  owed; a critical incident's first card is marked urgent, so it goes before
  other new cards.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Iterable

import structlog

from core.alerting.models import Incident, Severity
from core.alerting.ports import CardMaker, IncidentStore, OwedCard, PublishedCard
from core.messages import Card, Priority

log = structlog.get_logger(__name__)

#: cards per transaction: small, so intake never waits long for the write turn
BATCH = 10
#: how long a change waits for others to join it before its card is rendered
SETTLE_S = 0.3
#: at most one flush starts per this many seconds: in a storm Telegram could not
#: show more edits anyway, and intake needs the CPU
EVERY_S = 1.0
#: after a failure (database busy or down), wait before trying the same cards again
RETRY_AFTER_S = 2.0
#: in a storm, an incident's card is re-rendered at most this often
UPDATE_EVERY_S = 5.0


def announced(card: Card, incident: Incident) -> Card:
    """How urgently the card's first send goes, and whether its subject is closed:
    decided here, from the incident, whatever the renderer set."""
    urgent = incident.severity is Severity.CRITICAL
    priority = Priority.URGENT if urgent else Priority.CARD_NEW
    return card.model_copy(update={"priority": priority, "closed": not incident.is_open})


def pause_before_flush(
    *, now: float, last_started: float, settle_s: float, every_s: float
) -> float:
    """How long to wait before the next flush: bounded by `max(settle_s, every_s)`.

    >>> pause_before_flush(now=10.0, last_started=9.5, settle_s=0.3, every_s=1.0)
    0.5
    >>> pause_before_flush(now=500.0, last_started=9.5, settle_s=0.3, every_s=1.0)
    0.3
    """
    return max(settle_s, last_started + every_s - now)


class CardPublisher:
    def __init__(
        self,
        store: IncidentStore,
        cards: CardMaker,
        *,
        settle_s: float = SETTLE_S,
        every_s: float = EVERY_S,
        retry_after_s: float = RETRY_AFTER_S,
        update_every_s: float = UPDATE_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._cards = cards
        self._settle_s = settle_s
        self._every_s = every_s
        self._retry_after_s = retry_after_s
        self._update_every_s = update_every_s
        self._mono = monotonic
        self._sleep = sleep
        #: incident id -> the poke that last asked for its card (newer pokes win)
        self._owed: dict[int, int] = {}
        self._pokes = itertools.count(1)
        #: incident id -> when this publisher last queued its card (recent ones only)
        self._queued_at: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self, incident_ids: Iterable[int]) -> None:
        """These incidents changed: their cards are owed."""
        serial = next(self._pokes)
        for incident_id in incident_ids:
            self._owed[incident_id] = serial
        if self._owed:
            self._wake.set()

    async def catch_up(self) -> int:
        """Queue every card owed from before (a crash, a restart); returns how many."""
        total = 0
        while ids := await self._store.unpublished(limit=BATCH):
            owed = await self._store.owed(ids, limit=BATCH)
            result = await self._store.publish([self._published(o) for o in owed])
            queued = {o.incident_id for o in owed} - set(result.skipped)
            self._queued_at.update(dict.fromkeys(queued, self._mono()))
            total += len(queued)
            if result.skipped and len(result.skipped) == len(owed):
                await self._sleep(self._retry_after_s)  # all held by intake right now
        if total:
            log.info("cards_caught_up", incidents=total)
        return total

    async def flush(self) -> None:
        """Publish everything owed now, first cards first; on failure they stay owed.

        In a storm, only a share of the updates: enough that each owed card comes
        round every `update_every_s`, spread over the flushes in between rather than
        all at once (one long flush would hold intake up for as long).
        """
        now = self._mono()
        horizon = now - self._update_every_s
        self._queued_at = {i: at for i, at in self._queued_at.items() if at > horizon}
        updates = self._updates_per_flush()
        while self._owed and updates > 0:
            try:
                progressed, queued_updates = await self._flush_batch(now)
            except Exception:  # the database: keep them owed, try again shortly
                log.exception("card_publish_failed", incidents=len(self._owed))
                await self._sleep(self._retry_after_s)
                continue
            if not progressed:
                return  # what is left is locked by intake or held: the next flush takes it
            updates -= queued_updates

    def _updates_per_flush(self) -> float:
        """Updates one flush may queue: all outside a storm, else a share of the owed."""
        if len(self._owed) <= BATCH or self._update_every_s <= 0:
            return math.inf
        rounds = max(self._update_every_s / max(self._every_s, self._settle_s, 1e-9), 1.0)
        return max(BATCH, math.ceil(len(self._owed) / rounds))

    async def _flush_batch(self, now: float) -> tuple[bool, int]:
        """One batch in the store's order; returns whether any card was settled, and
        how many updates (not first cards) were queued."""
        asked = max(self._owed.values())
        due = self._due()
        if not due:
            return False, 0  # each owed card was queued moments ago: a later flush takes it
        owed = await self._store.owed(due, limit=BATCH)
        result = await self._store.publish([self._published(o) for o in owed])
        queued = {o.incident_id for o in owed} - set(result.skipped)
        self._queued_at.update(dict.fromkeys(queued, now))
        settled = set(queued)
        if len(owed) < BATCH:
            # the store has nothing else owed among them: the rest needs no card
            settled |= set(due) - {o.incident_id for o in owed}
        for incident_id in settled:
            # a poke that came in meanwhile asks for a newer version: keep it
            if self._owed.get(incident_id, asked + 1) <= asked:
                del self._owed[incident_id]
        if result.skipped:
            self._wake.set()
        return bool(settled), sum(1 for o in owed if o.incident_id in queued and not o.first)

    def _due(self) -> list[int]:
        """The owed incidents to ask the store about now: all of them, unless a storm
        owes more than a batch; then not those whose card was queued moments ago."""
        if len(self._owed) <= BATCH:
            return list(self._owed)
        return [i for i in self._owed if i not in self._queued_at]

    def _published(self, owed: OwedCard) -> PublishedCard:
        return PublishedCard(
            incident_id=owed.incident_id, version=owed.version, card=self._render(owed)
        )

    def _render(self, owed: OwedCard) -> Card | None:
        # One card that cannot be rendered must not hold back every other card
        # forever: it is logged and skipped (the card maker should have a fallback).
        try:
            card = self._cards(owed.view)
        except Exception:
            log.exception("card_render_failed", incident_id=owed.incident_id)
            return None
        return None if card is None else announced(card, owed.view.incident)

    async def _run(self) -> None:
        while True:
            try:
                await self.catch_up()
                break
            except Exception:
                log.exception("card_catch_up_failed")
                await self._sleep(self._retry_after_s)
        last_started = float("-inf")
        while True:
            await self._wake.wait()
            await self._sleep(
                pause_before_flush(
                    now=self._mono(),
                    last_started=last_started,
                    settle_s=self._settle_s,
                    every_s=self._every_s,
                )
            )
            self._wake.clear()
            last_started = self._mono()
            await self.flush()
            if self._owed:  # held for a moment in a storm: look again next round
                self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="howl-cards")

    async def stop(self) -> None:
        """Stop after publishing what is owed (bounded: the rest is caught up at next start)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), timeout=2.0)
