"""In-memory stand-ins for the alerting ports: a clock and an `IncidentStore`.

`FakeIncidentStore.run` is transactional the way a database is: `work` writes
to a draft copy of the store, and the draft replaces the committed state only
when `work` returns. A raising `work` leaves no trace, so a test can prove
"all or nothing". Like the SQL store, every `save` bumps an incident's version
and `publish` marks the version it rendered; a card is owed while the
published version lags behind.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from core.alerting.models import (
    Alert,
    AlertState,
    AlertStatus,
    Incident,
    IncidentStatus,
    IncidentView,
    Severity,
)
from core.alerting.ports import VIEW_ALERTS, IncidentTx, OwedCard, PublishedCard, PublishResult
from core.alerting.retention import Pruned
from core.audit import AuditEntry
from core.messages import Card

T = TypeVar("T")

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def firing(fp: str, namespace: str = "prod") -> Alert:
    """A firing alert of the group `Down` in `namespace`."""
    return Alert(
        fingerprint=fp,
        status=AlertStatus.FIRING,
        severity=Severity.HIGH,
        name="Down",
        labels={"alertname": "Down", "namespace": namespace},
        starts_at=START,
        source="alertmanager",
    )


class FakeClock:
    """`core.ports.Clock` with a settable, aware UTC time."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@dataclass
class _Data:
    """Everything the store holds; copied for each transaction."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    published_versions: dict[int, int] = field(default_factory=dict)
    states: dict[str, AlertState] = field(default_factory=dict)
    events: list[tuple[Alert, int | None]] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    next_id: int = 1

    def copy(self) -> _Data:
        # the values are treated as immutable (replaced, never mutated): shallow copies suffice
        return replace(
            self,
            incidents=dict(self.incidents),
            versions=dict(self.versions),
            published_versions=dict(self.published_versions),
            states=dict(self.states),
            events=list(self.events),
            audit=list(self.audit),
        )


class FakeIncidentTx:
    """`core.alerting.ports.IncidentTx` over a draft of the store's data.

    Records what each call locks, in the order a database would lock it, in `locks`.
    """

    def __init__(self, data: _Data, failures: dict[str, Exception]) -> None:
        self._data = data
        self._failures = failures
        #: ("states", fingerprints) / ("incidents", ids) per locking call, in call order
        self.locks: list[tuple[str, tuple[object, ...]]] = []
        self.saved_batches: list[int] = []
        #: incidents per `add_incidents` call
        self.inserts: list[int] = []

    def _maybe_fail(self, method: str) -> None:
        if method in self._failures:
            raise self._failures[method]

    async def states(self, fingerprints: Collection[str]) -> dict[str, AlertState]:
        self._maybe_fail("states")
        found = sorted(fp for fp in set(fingerprints) if fp in self._data.states)
        self.locks.append(("states", tuple(found)))
        return {fp: self._data.states[fp] for fp in found}

    async def incidents(
        self, ids: Collection[int], *, open_groups: Collection[str] = ()
    ) -> dict[int, Incident]:
        self._maybe_fail("incidents")
        keys = set(open_groups)
        found = sorted(
            incident.id
            for incident in self._data.incidents.values()
            if incident.id in ids or (incident.group_key in keys and incident.is_open)
        )
        self.locks.append(("incidents", tuple(found)))
        return {i: self._data.incidents[i] for i in found}

    async def add_incident(self, incident: Incident) -> Incident:
        self._maybe_fail("add_incident")
        data = self._data
        if any(
            other.group_key == incident.group_key and other.is_open
            for other in data.incidents.values()
        ):
            # the SQL schema has a unique index on open incidents' group keys
            raise AssertionError(f"a second open incident for {incident.group_key!r}")
        added = incident.model_copy(update={"id": data.next_id})
        data.next_id += 1
        data.incidents[added.id] = added
        data.versions[added.id] = 1
        data.published_versions[added.id] = 0
        return added

    async def add_incidents(self, incidents: Sequence[Incident]) -> list[Incident]:
        self.inserts.append(len(incidents))
        return [await self.add_incident(incident) for incident in incidents]

    async def record(self, alerts: list[tuple[Alert, int | None]]) -> None:
        self._maybe_fail("record")
        for alert, incident_id in alerts:
            self._data.events.append((alert, incident_id))
            self._data.states[alert.fingerprint] = AlertState(alert=alert, incident_id=incident_id)

    async def save(self, incident: Incident) -> None:
        self._maybe_fail("save")
        self._save(incident)

    async def save_many(self, incidents: Sequence[Incident]) -> None:
        self._maybe_fail("save_many")
        #: how many incidents each save_many call wrote (one statement each in SQL)
        self.saved_batches.append(len(incidents))
        for incident in incidents:
            self._save(incident)

    def _save(self, incident: Incident) -> None:
        if incident.id not in self._data.incidents:
            raise AssertionError(f"save of unknown incident #{incident.id}")
        self._data.incidents[incident.id] = incident
        self._data.versions[incident.id] += 1

    async def audit(self, entry: AuditEntry) -> None:
        self._maybe_fail("audit")
        self._data.audit.append(entry)


class FakeIncidentStore:
    """`core.alerting.ports.IncidentStore` in memory; read the committed state freely."""

    def __init__(self) -> None:
        self._data = _Data()
        self._lock = asyncio.Lock()
        #: (incident id, card) for every delivery `publish` queued, in order
        self.cards: list[tuple[int, Card]] = []
        #: transactions committed / rolled back by `run`
        self.commits = 0
        self.rollbacks = 0
        self._last_content: dict[str, Card] = {}
        #: IncidentTx method name -> the exception it raises (to prove all-or-nothing)
        self.fail_tx: dict[str, Exception] = {}
        #: every transaction `run` started, to read what each locked and wrote
        self.transactions: list[FakeIncidentTx] = []

    # --- what tests read ------------------------------------------------------

    @property
    def incidents(self) -> dict[int, Incident]:
        return dict(self._data.incidents)

    @property
    def states(self) -> dict[str, AlertState]:
        return dict(self._data.states)

    @property
    def events(self) -> list[tuple[Alert, int | None]]:
        """Recorded alert events, oldest first."""
        return list(self._data.events)

    @property
    def audit(self) -> list[AuditEntry]:
        return list(self._data.audit)

    def incident(self, incident_id: int) -> Incident:
        """The committed incident (a fresh read each call)."""
        return self._data.incidents[incident_id]

    def version(self, incident_id: int) -> tuple[int, int]:
        """(version, published version) of an incident."""
        return self._data.versions[incident_id], self._data.published_versions[incident_id]

    # --- IncidentStore ----------------------------------------------------------

    async def run(self, work: Callable[[IncidentTx], Awaitable[T]]) -> T:
        async with self._lock:
            draft = self._data.copy()
            tx = FakeIncidentTx(draft, self.fail_tx)
            self.transactions.append(tx)
            try:
                result = await work(tx)
            except BaseException:
                self.rollbacks += 1
                raise
            self._data = draft
            self.commits += 1
            return result

    async def find_incident(self, incident_id: int) -> Incident | None:
        return self._data.incidents.get(incident_id)

    async def get(self, incident_id: int, *, alerts: int = VIEW_ALERTS) -> IncidentView | None:
        incident = self._data.incidents.get(incident_id)
        if incident is None:
            return None
        listed = sorted(
            (s.alert for s in self._data.states.values() if s.incident_id == incident_id),
            key=lambda a: (a.status.value, a.starts_at, a.fingerprint),
        )
        starts = [
            a.starts_at
            for a, i in self._data.events
            if i == incident_id and a.status is AlertStatus.FIRING and a.sender_start
        ]
        return IncidentView(
            incident=incident, alerts=listed[:alerts], started_at=min(starts, default=None)
        )

    async def recent(self, *, open_only: bool, limit: int) -> list[Incident]:
        found = sorted(self._data.incidents.values(), key=lambda i: i.id, reverse=True)
        if open_only:
            found = [i for i in found if i.is_open]
        return found[:limit]

    async def counts_by_status(self) -> dict[str, int]:
        return dict(Counter(i.status.value for i in self._data.incidents.values()))

    async def silences_ending(self, before: datetime) -> list[int]:
        return sorted(
            i.id
            for i in self._data.incidents.values()
            if i.status is IncidentStatus.SILENCED
            and i.silenced_until is not None
            and i.silenced_until <= before
        )

    async def firing_unacknowledged(self, *, limit: int) -> list[Incident]:
        found = [i for i in self._data.incidents.values() if i.status is IncidentStatus.FIRING]
        return sorted(found, key=lambda i: i.id)[:limit]

    async def released_silences(self, *, limit: int) -> list[Incident]:
        found = [
            i
            for i in self._data.incidents.values()
            if i.alertmanager_silence_id is not None and i.status is not IncidentStatus.SILENCED
        ]
        return sorted(found, key=lambda i: i.id)[:limit]

    async def prune_history(self, resolved_before: datetime) -> Pruned:
        # as the SQL store, for incidents' alerts (events here carry no arrival time,
        # so alerts of no incident are kept)
        data = self._data
        ended = {
            i.id
            for i in data.incidents.values()
            if not i.is_open and (i.resolved_at or i.updated_at) < resolved_before
        }
        events = [(alert, owner) for alert, owner in data.events if owner not in ended]
        states = {
            fp: state
            for fp, state in data.states.items()
            if not (state.incident_id in ended and state.alert.status is AlertStatus.RESOLVED)
        }
        pruned = Pruned(
            alerts=len(data.events) - len(events), states=len(data.states) - len(states)
        )
        data.events, data.states = events, states
        return pruned

    async def unpublished(self, *, limit: int) -> list[int]:
        return self._owed(self._data.incidents)[:limit]

    async def owed(self, incident_ids: Collection[int], *, limit: int) -> list[OwedCard]:
        found: list[OwedCard] = []
        for incident_id in self._owed(incident_ids)[:limit]:
            view = await self.get(incident_id)
            assert view is not None
            version, published = self.version(incident_id)
            found.append(OwedCard(view=view, version=version, first=published == 0))
        return found

    async def publish(self, cards: Sequence[PublishedCard]) -> PublishResult:
        queued = 0
        for published in cards:
            if self._data.published_versions[published.incident_id] >= published.version:
                continue  # someone published this version or a newer one first
            self._data.published_versions[published.incident_id] = published.version
            card = published.card
            if card is None:
                continue
            last = self._last_content.get(card.key)
            if last is not None and last.content == card.content:
                continue  # the chat shows this already
            self._last_content[card.key] = card
            self.cards.append((published.incident_id, card))
            queued += 1
        return PublishResult(queued=queued)

    def _owed(self, ids: Collection[int]) -> list[int]:
        data = self._data
        behind = [
            i
            for i in set(ids)
            if i in data.versions and data.published_versions[i] < data.versions[i]
        ]
        # as the SQL store: first cards first, then the most severe, then the oldest
        return sorted(
            behind,
            key=lambda i: (data.published_versions[i] > 0, -data.incidents[i].severity.rank, i),
        )
