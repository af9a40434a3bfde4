"""Howl's silences mirrored in Alertmanager, so the alerts stop at their source too.

With HOWL_ALERTMANAGER_URL set, silencing an incident also creates the
matching Alertmanager silence: one equality matcher per grouping label of the
incident, the same end time, `createdBy` the person, a comment naming the
incident. Its id is stored on the incident (the card links to it). When Howl's
silence ends — resolved, acknowledged, lifted by the silence job, or replaced
by a new silence — the Alertmanager one is expired.

Howl's own silence never depends on Alertmanager: when Alertmanager cannot be
reached the incident is silenced all the same, the reason is stored on the
incident (its card says the Alertmanager silence could not be made), logged,
and returned for the person's answer. An expiry that fails is retried by the
silence job, since the id stays on the incident until Alertmanager took it.

>>> from datetime import UTC, datetime
>>> from core.alerting.models import Incident, IncidentStatus, Severity
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> incident = Incident(id=7, group_key="k", title="Down", severity=Severity.HIGH,
...     status=IncidentStatus.SILENCED, labels={"alertname": "Down", "namespace": "prod"},
...     source="alertmanager", created_at=at, updated_at=at)
>>> [(m.name, m.value) for m in matchers_for(incident)]
[('alertname', 'Down'), ('namespace', 'prod')]
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field

from core.alerting.models import Actor, Incident, IncidentStatus
from core.alerting.ports import IncidentStore, IncidentTx
from core.audit import AuditEntry
from core.ports import Clock

log = structlog.get_logger(__name__)

#: stored failure reasons are one short line
ERROR_CHARS = 200
#: mirrored silences the job expires per run
SWEEP_BATCH = 100


class SilenceApiError(Exception):
    """Alertmanager did not take the request (unreachable, refused, or an odd answer).

    Never shown to a person as is: the mirror turns it into a stored, one-line reason.
    """


class Matcher(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True


class SilenceRequest(BaseModel):
    """A silence as Alertmanager's API v2 takes it (`POST /api/v2/silences`)."""

    model_config = ConfigDict(frozen=True)

    matchers: tuple[Matcher, ...] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


class SilenceApi(Protocol):
    """Alertmanager's silences; errors are raised as SilenceApiError."""

    async def create(self, silence: SilenceRequest) -> str:
        """Create the silence; returns its id."""
        ...

    async def expire(self, silence_id: str) -> None:
        """End the silence now; one already expired or unknown counts as done."""
        ...

    def link(self, silence_id: str) -> str:
        """The silence's page in Alertmanager's web UI."""
        ...


def matchers_for(incident: Incident) -> tuple[Matcher, ...]:
    """One equality matcher per grouping label: exactly the alerts of the incident's group."""
    return tuple(Matcher(name=k, value=v) for k, v in sorted(incident.labels.items()) if v)


def comment_for(incident: Incident) -> str:
    return f"Howl incident #{incident.id}: {incident.title}"[:500]


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:ERROR_CHARS] or type(exc).__name__


class SilenceMirror:
    """Keeps each incident's Alertmanager silence in step with Howl's."""

    def __init__(self, store: IncidentStore, clock: Clock, api: SilenceApi) -> None:
        self._store = store
        self._clock = clock
        self._api = api

    def link(self, silence_id: str) -> str:
        return self._api.link(silence_id)

    async def follow(self, before: Incident, after: Incident, *, actor: Actor) -> Incident:
        """After a committed change: create, replace or expire the mirror.

        Returns the incident as stored afterwards.
        """
        if after.status is IncidentStatus.SILENCED:
            return await self._silence(before, after, actor=actor)
        if after.alertmanager_silence_id is not None:
            return await self._expire(after)
        return after

    async def _silence(self, before: Incident, after: Incident, *, actor: Actor) -> Incident:
        matchers = matchers_for(after)
        if not matchers or after.silenced_until is None:
            return after  # typed by a person: nothing in Alertmanager to match
        request = SilenceRequest(
            matchers=matchers,
            starts_at=self._clock.now(),
            ends_at=after.silenced_until,
            created_by=actor.name,
            comment=comment_for(after),
        )
        try:
            silence_id = await self._api.create(request)
        except SilenceApiError as exc:
            log.warning("alertmanager_silence_failed", incident_id=after.id, error=str(exc))
            return await self._store_outcome(
                after, silence_id=before.alertmanager_silence_id, error=_one_line(exc), actor=actor
            )
        replaced = before.alertmanager_silence_id
        stored = await self._store_outcome(after, silence_id=silence_id, error=None, actor=actor)
        if stored.alertmanager_silence_id != silence_id:
            # the incident moved on while Alertmanager answered: this silence is nobody's
            await self._expire_quietly(silence_id)
        elif replaced is not None and replaced != silence_id:
            await self._expire_quietly(replaced)
        return stored

    async def _store_outcome(
        self, after: Incident, *, silence_id: str | None, error: str | None, actor: Actor
    ) -> Incident:
        """Record the mirror on the incident, if it is still under the silence just made."""

        async def work(tx: IncidentTx) -> Incident:
            current = (await tx.incidents({after.id})).get(after.id) or after
            if (
                current.status is not IncidentStatus.SILENCED
                or current.silenced_until != after.silenced_until
            ):
                return current
            stored = current.model_copy(
                update={"alertmanager_silence_id": silence_id, "alertmanager_error": error}
            )
            await tx.save(stored)
            await tx.audit(
                AuditEntry(
                    at=self._clock.now(),
                    actor=actor.id,
                    action="incident.alertmanager_silence",
                    subject=f"incident:{after.id}",
                    detail={"silence_id": silence_id, "error": error},
                )
            )
            return stored

        return await self._store.run(work)

    async def _expire(self, incident: Incident) -> Incident:
        """Expire the incident's mirrored silence and forget it; unchanged if Alertmanager fails."""
        silence_id = incident.alertmanager_silence_id
        if silence_id is None:
            return incident
        try:
            await self._api.expire(silence_id)
        except SilenceApiError as exc:
            log.warning(
                "alertmanager_expire_failed",
                incident_id=incident.id,
                silence_id=silence_id,
                error=str(exc),
            )
            return incident  # the silence job tries again

        async def work(tx: IncidentTx) -> Incident:
            current = (await tx.incidents({incident.id})).get(incident.id) or incident
            if current.alertmanager_silence_id != silence_id:
                return current
            cleared = current.model_copy(
                update={"alertmanager_silence_id": None, "alertmanager_error": None}
            )
            await tx.save(cleared)
            return cleared

        return await self._store.run(work)

    async def _expire_quietly(self, silence_id: str) -> None:
        try:
            await self._api.expire(silence_id)
        except SilenceApiError as exc:
            log.warning("alertmanager_expire_failed", silence_id=silence_id, error=str(exc))

    async def sweep(self) -> list[int]:
        """Expire mirrors whose Howl silence has ended (e.g. all alerts resolved).

        Returns the incidents whose mirror was expired.
        """
        expired: list[int] = []
        for incident in await self._store.released_silences(limit=SWEEP_BATCH):
            if (await self._expire(incident)).alertmanager_silence_id is None:
                expired.append(incident.id)
        return expired
