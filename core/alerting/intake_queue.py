"""Group commit for alert intake.

Fifty senders posting at once would mean fifty transactions queueing for one
SQLite writer. Instead, payloads that arrive while a commit is in flight wait
for the next one and are written together; each caller still gets its own
answer only after its alerts are committed. With one sender this is exactly
one transaction per payload, with no added delay.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from core.alerting.models import Actor, Alert, IngestResult
from core.alerting.service import IncidentService

log = structlog.get_logger(__name__)

#: alerts per transaction; bounds how long one commit holds the writer
MAX_BATCH_ALERTS = 2000


@dataclass
class _Waiting:
    alerts: list[Alert]
    actor: Actor
    answer: asyncio.Future[IngestResult]


class IntakeQueue:
    def __init__(
        self, service: IncidentService, *, max_batch_alerts: int = MAX_BATCH_ALERTS
    ) -> None:
        self._service = service
        self._max = max_batch_alerts
        self._waiting: list[_Waiting] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, alerts: list[Alert], *, actor: Actor) -> IngestResult:
        """Store the alerts; returns once they are committed (or raises why not)."""
        answer: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(alerts, actor, answer))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="howl-intake")
        return await answer

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._take()
            try:
                await self._commit(batch)
            except Exception:
                log.exception("intake_batch_failed", payloads=len(batch))

    def _take(self) -> list[_Waiting]:
        taken: list[_Waiting] = []
        size = 0
        while self._waiting and (not taken or size + len(self._waiting[0].alerts) <= self._max):
            item = self._waiting.pop(0)
            size += len(item.alerts)
            taken.append(item)
        return taken

    async def _commit(self, batch: list[_Waiting]) -> None:
        # one actor per transaction keeps the audit trail exact
        by_actor: dict[str, list[_Waiting]] = {}
        for item in batch:
            by_actor.setdefault(item.actor.id, []).append(item)
        for items in by_actor.values():
            try:
                results = await self._service.ingest_many(
                    [item.alerts for item in items], actor=items[0].actor
                )
            except Exception as exc:
                if len(items) == 1:
                    _settle(items[0].answer, error=exc)
                    continue
                # one bad payload must not fail its neighbours: write them one by one
                for item in items:
                    await self._commit_one(item)
                continue
            for item, result in zip(items, results, strict=True):
                _settle(item.answer, result=result)

    async def _commit_one(self, item: _Waiting) -> None:
        try:
            result = await self._service.ingest(item.alerts, actor=item.actor)
        except Exception as exc:
            _settle(item.answer, error=exc)
        else:
            _settle(item.answer, result=result)

    async def close(self) -> None:
        """Let queued payloads finish (callers are waiting on them)."""
        if self._drainer is not None:
            with contextlib.suppress(Exception):
                await self._drainer


def _settle(
    answer: asyncio.Future[IngestResult],
    *,
    result: IngestResult | None = None,
    error: BaseException | None = None,
) -> None:
    if answer.done():  # the caller went away (client disconnected); its alerts still count
        return
    if error is not None:
        answer.set_exception(error)
    else:
        assert result is not None
        answer.set_result(result)
