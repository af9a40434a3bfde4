"""Keeps every incident's card in step with the incident, after its change is committed.

Intake and commands only mark an incident as changed (in their own
transaction); this worker renders and queues the cards in a second one. It
waits a moment after the first change so that a burst touching one incident
fifty times costs one render — Telegram would allow no more edits than that
anyway — and a crash between the two transactions loses nothing: `catch_up`
at start queues whatever is owed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

import structlog

from core.alerting.models import IncidentView
from core.alerting.ports import CardMaker, IncidentStore
from core.messages import Card

log = structlog.get_logger(__name__)

#: cards per transaction: small, so intake never waits long for the write turn
BATCH = 10
#: how long a change waits for others to join it before its card is rendered
SETTLE_S = 0.3
#: the publisher spends at most about 1/PACING of the time rendering: in a storm
#: Telegram could not show more edits anyway, and intake needs the CPU
PACING = 4
#: after a failure (database busy or down), wait before trying the same cards again
RETRY_AFTER_S = 2.0


class CardPublisher:
    def __init__(
        self,
        store: IncidentStore,
        cards: CardMaker,
        *,
        settle_s: float = SETTLE_S,
        retry_after_s: float = RETRY_AFTER_S,
    ) -> None:
        self._store = store
        self._cards = cards
        self._settle_s = settle_s
        self._retry_after_s = retry_after_s
        self._owed: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self, incident_ids: Iterable[int]) -> None:
        """These incidents changed: their cards are owed."""
        before = len(self._owed)
        self._owed.update(incident_ids)
        if len(self._owed) != before:
            self._wake.set()

    async def catch_up(self) -> int:
        """Queue every card owed from before (a crash, a restart); returns how many."""
        total = 0
        while ids := await self._store.unpublished(limit=BATCH):
            await self._store.publish(ids, self._render)
            total += len(ids)
        if total:
            log.info("cards_caught_up", incidents=total)
        return total

    async def flush(self) -> None:
        """Publish everything owed now; on failure the cards stay owed and are retried."""
        while self._owed:
            owed, self._owed = sorted(self._owed), set()
            for start in range(0, len(owed), BATCH):
                chunk = owed[start : start + BATCH]
                try:
                    await self._store.publish(chunk, self._render)
                except Exception:  # the database: keep them owed, try again shortly
                    log.exception("card_publish_failed", incidents=len(chunk))
                    self._owed.update(owed[start:])
                    await asyncio.sleep(self._retry_after_s)
                    break

    def _render(self, view: IncidentView) -> Card | None:
        # One card that cannot be rendered must not hold back every other card
        # forever: it is logged and skipped (the card maker should have a fallback).
        try:
            return self._cards(view)
        except Exception:
            log.exception("card_render_failed", incident_id=view.incident.id)
            return None

    async def _run(self) -> None:
        while True:
            try:
                await self.catch_up()
                break
            except Exception:
                log.exception("card_catch_up_failed")
                await asyncio.sleep(self._retry_after_s)
        loop = asyncio.get_running_loop()
        pause = self._settle_s
        while True:
            await self._wake.wait()
            await asyncio.sleep(pause)
            self._wake.clear()
            started = loop.time()
            await self.flush()
            pause = max(self._settle_s, PACING * (loop.time() - started))

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
