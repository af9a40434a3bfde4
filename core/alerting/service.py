"""The incident service: alerts in, incidents updated, cards queued — one transaction per call.

Dedup rule (Alertmanager re-sends every group interval until it gets a 2xx):
an alert whose fingerprint is already in the same status, with the same
`starts_at` when the sender states one, is a repeat and changes nothing. A
firing alert that is older than a resolution already recorded is stale and is
dropped too, so a late retry cannot re-open what has ended.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from core.alerting import lifecycle
from core.alerting.grouping import Grouping
from core.alerting.lifecycle import Command
from core.alerting.models import (
    Actor,
    Alert,
    AlertState,
    AlertStatus,
    Incident,
    IncidentStatus,
    IncidentView,
    IngestResult,
    Severity,
)
from core.alerting.payloads import SEVERITY_WORDS
from core.alerting.ports import VIEW_ALERTS, IncidentStore, IncidentTx
from core.alerting.retention import Pruned
from core.alerting.silences import SilenceMirror
from core.audit import AuditEntry
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.ports import Clock

log = structlog.get_logger(__name__)

MANUAL_SOURCE = "telegram"


def is_repeat(current: Alert, new: Alert) -> bool:
    """The same state again: nothing to record."""
    if current.status != new.status:
        return False
    return not new.sender_start or current.starts_at == new.starts_at


def is_stale(current: Alert, new: Alert) -> bool:
    """A firing report from before a resolution already recorded."""
    return (
        new.sender_start
        and current.status is AlertStatus.RESOLVED
        and new.status is AlertStatus.FIRING
        and new.starts_at <= current.starts_at
    )


@dataclass
class _Batch:
    """What one ingest call has done so far inside its transaction."""

    states: dict[str, AlertState]
    open_by_key: dict[str, Incident]
    incidents: dict[int, Incident]
    created: set[int] = field(default_factory=set)
    touched: set[int] = field(default_factory=set)
    #: incident id -> [change in alerts, change in firing alerts]
    deltas: dict[int, list[int]] = field(default_factory=dict)
    records: list[tuple[Alert, int | None]] = field(default_factory=list)
    #: incidents to open, under provisional (negative) ids until they are inserted together
    opening: list[Incident] = field(default_factory=list)

    def provisional_id(self) -> int:
        return -1 - len(self.opening)

    def renumber(self, real: dict[int, int]) -> None:
        """Put the inserted incidents' ids in place of their provisional ones."""

        def new(incident_id: int | None) -> int | None:
            return real.get(incident_id, incident_id) if incident_id is not None else None

        def moved(incident: Incident) -> Incident:
            return incident.model_copy(update={"id": real[incident.id]})

        self.incidents = {
            real.get(i, i): moved(inc) if i in real else inc for i, inc in self.incidents.items()
        }
        self.open_by_key = {
            k: moved(inc) if inc.id in real else inc for k, inc in self.open_by_key.items()
        }
        self.states = {
            fp: s.model_copy(update={"incident_id": new(s.incident_id)}) if s.incident_id in real
            else s
            for fp, s in self.states.items()
        }  # fmt: skip
        self.created = {real.get(i, i) for i in self.created}
        self.touched = {real.get(i, i) for i in self.touched}
        self.deltas = {real.get(i, i): d for i, d in self.deltas.items()}
        self.records = [(alert, new(i)) for alert, i in self.records]


def _by_group(alerts: list[Alert], keys: list[str]) -> list[int]:
    """Indexes of `alerts` grouped by incident key, in key order, so that new incidents are
    inserted in one order by every writer (their unique key is a lock too).

    The sort is stable and keyed by each fingerprint's first group key, so every
    fingerprint's alerts keep the order they came in.
    """
    first: dict[str, str] = {}
    for alert, key in zip(alerts, keys, strict=True):
        first.setdefault(alert.fingerprint, key)
    return sorted(range(len(alerts)), key=lambda i: first[alerts[i].fingerprint])


def incident_subject(incident_id: int) -> str:
    return f"incident:{incident_id}"


class IncidentService:
    def __init__(
        self,
        store: IncidentStore,
        clock: Clock,
        *,
        grouping: Grouping | None = None,
        on_change: Callable[[Iterable[int]], None] | None = None,
        on_open: Callable[[Sequence[Incident]], None] | None = None,
        silences: SilenceMirror | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._grouping = grouping or Grouping()
        #: mirrors silences in Alertmanager (HOWL_ALERTMANAGER_URL); None: Howl's own only
        self._silences = silences
        #: told which incidents changed, after each commit (the card publisher's poke)
        self._on_change = on_change or (lambda _ids: None)
        #: told which incidents were opened, after each commit (the debate scheduler)
        self._on_open = on_open or (lambda _incidents: None)

    # --- intake -----------------------------------------------------------------

    async def ingest(self, alerts: list[Alert], *, actor: Actor) -> IngestResult:
        """Store the alerts of one payload and update their incidents, all or nothing."""
        return (await self.ingest_many([alerts], actor=actor))[0]

    async def ingest_many(self, payloads: list[list[Alert]], *, actor: Actor) -> list[IngestResult]:
        """Several payloads in one transaction (group commit); one result per payload."""

        changed: set[int] = set()
        opened: list[Incident] = []

        async def work(tx: IncidentTx) -> list[IngestResult]:
            flat = [alert for alerts in payloads for alert in alerts]
            changed.clear()  # a retried transaction starts over
            opened.clear()
            outcomes = await self._ingest_in(tx, flat, actor=actor, changed=changed, opened=opened)
            results: list[IngestResult] = []
            start = 0
            for alerts in payloads:
                mine = outcomes[start : start + len(alerts)]
                start += len(alerts)
                results.append(
                    IngestResult(
                        accepted=len(alerts),
                        new=sum(1 for new, _ in mine if new),
                        incidents=sorted({i for _, i in mine if i is not None}),
                    )
                )
            return results

        results = await self._store.run(work)
        for incident in opened:  # one line per new incident; the rest is counted in /metrics
            log.info(
                "incident_opened",
                incident_id=incident.id,
                group=incident.group_key,
                severity=incident.severity.value,
                source=incident.source,
            )
        self._on_change(changed)
        if opened:
            self._on_open(list(opened))
        return results

    async def _ingest_in(
        self,
        tx: IncidentTx,
        alerts: list[Alert],
        *,
        actor: Actor,
        changed: set[int],
        opened: list[Incident],
    ) -> list[tuple[bool, int | None]]:
        now = self._clock.now()
        keys = [self._grouping.key(a) for a in alerts]
        # the lock order of IncidentTx: alert states, then every incident in one call
        states = await tx.states({a.fingerprint for a in alerts})
        attached = {s.incident_id for s in states.values() if s.incident_id is not None}
        incidents = await tx.incidents(attached, open_groups=set(keys))
        wanted = set(keys)
        batch = _Batch(
            states=states,
            open_by_key={
                i.group_key: i for i in incidents.values() if i.is_open and i.group_key in wanted
            },
            incidents=incidents,
        )
        outcomes: list[tuple[bool, int | None]] = [(False, None)] * len(alerts)
        for index in _by_group(alerts, keys):
            outcomes[index] = await self._take(tx, batch, alerts[index], now)
        if batch.opening:
            # one insert for every incident this batch opens, in group-key order (the
            # order every writer inserts in, as their unique key is a lock too)
            inserted = await tx.add_incidents([batch.incidents[i.id] for i in batch.opening])
            real = {i.id: added.id for i, added in zip(batch.opening, inserted, strict=True)}
            batch.renumber(real)
            outcomes = [(new, real.get(i, i) if i is not None else None) for new, i in outcomes]
        if batch.records:
            await tx.record(batch.records)
        await self._settle(tx, batch, now, actor=actor)
        changed.update(batch.touched)
        opened.extend(batch.incidents[i] for i in sorted(batch.created))
        return outcomes

    async def _take(
        self, tx: IncidentTx, batch: _Batch, alert: Alert, now: datetime
    ) -> tuple[bool, int | None]:
        """Decide one alert's incident; returns (new state?, incident id)."""
        current = batch.states.get(alert.fingerprint)
        if current is not None and (
            is_repeat(current.alert, alert) or is_stale(current.alert, alert)
        ):
            return False, current.incident_id
        incident_id = await self._incident_for(tx, batch, alert, current, now)
        if current is not None and not alert.sender_start and alert.status is AlertStatus.RESOLVED:
            # Howl stamped the time on receipt: the episode began when it was first seen firing
            alert = alert.model_copy(update={"starts_at": current.alert.starts_at})
        batch.states[alert.fingerprint] = AlertState(alert=alert, incident_id=incident_id)
        batch.records.append((alert, incident_id))
        self._count(batch, current, alert, incident_id)
        if incident_id is not None:
            incident = batch.incidents[incident_id]
            if alert.status is AlertStatus.FIRING and alert.severity.rank > incident.severity.rank:
                batch.incidents[incident_id] = incident.model_copy(
                    update={"severity": alert.severity}
                )
        return True, incident_id

    @staticmethod
    def _count(
        batch: _Batch, current: AlertState | None, alert: Alert, incident_id: int | None
    ) -> None:
        """Keep each incident's counts exact from the state change alone (no recount query)."""

        def add(target: int | None, alerts: int, firing: int) -> None:
            if target is None:
                return
            delta = batch.deltas.setdefault(target, [0, 0])
            delta[0] += alerts
            delta[1] += firing
            batch.touched.add(target)

        if current is not None:
            before = batch.incidents.get(current.incident_id) if current.incident_id else None
            # a resolved incident keeps its alerts as they were when it ended, even when
            # one of them fires again and moves on to a new incident
            leaving_closed = current.incident_id != incident_id and not (before and before.is_open)
            if not leaving_closed:
                add(current.incident_id, -1, -(current.alert.status is AlertStatus.FIRING))
        add(incident_id, 1, int(alert.status is AlertStatus.FIRING))

    async def _incident_for(
        self,
        tx: IncidentTx,
        batch: _Batch,
        alert: Alert,
        current: AlertState | None,
        now: datetime,
    ) -> int | None:
        previous = (
            batch.incidents.get(current.incident_id) if current and current.incident_id else None
        )
        if alert.status is AlertStatus.RESOLVED:
            # a resolution belongs where the alert fired, even if that incident has ended
            return current.incident_id if current else self._open_id(batch, alert)
        if previous is not None and previous.is_open:
            return previous.id
        found = self._open_id(batch, alert)
        if found is not None:
            return found
        incident = self._new_incident(alert, now).model_copy(update={"id": batch.provisional_id()})
        batch.opening.append(incident)
        batch.open_by_key[incident.group_key] = incident
        batch.incidents[incident.id] = incident
        batch.created.add(incident.id)
        return incident.id

    def _open_id(self, batch: _Batch, alert: Alert) -> int | None:
        incident = batch.open_by_key.get(self._grouping.key(alert))
        return incident.id if incident is not None and incident.is_open else None

    def _new_incident(
        self, alert: Alert, now: datetime, *, group_key: str | None = None
    ) -> Incident:
        return Incident(
            id=0,
            group_key=group_key or self._grouping.key(alert),
            title=alert.name,
            severity=alert.severity,
            status=IncidentStatus.FIRING,
            labels=self._grouping.labels(alert),
            source=alert.source,
            created_at=now,
            updated_at=now,
        )

    async def _settle(self, tx: IncidentTx, batch: _Batch, now: datetime, *, actor: Actor) -> None:
        """Recount touched incidents, resolve those with nothing firing, audit."""
        settled: list[Incident] = []
        entries: list[AuditEntry] = []
        for incident_id in sorted(batch.touched):
            before = batch.incidents[incident_id]
            alerts_delta, firing_delta = batch.deltas.get(incident_id, (0, 0))
            firing = max(0, before.firing_count + firing_delta)
            after = before.model_copy(
                update={
                    "alert_count": max(0, before.alert_count + alerts_delta),
                    "firing_count": firing,
                    "updated_at": now,
                }
            )
            if firing == 0 and after.is_open:
                after = lifecycle.auto_resolve(after, at=now)
            settled.append(after)
            if incident_id in batch.created:
                entries.append(self._entry(actor, "incident.opened", after, now, title=after.title))
            if before.is_open and not after.is_open:
                entries.append(
                    self._entry(
                        Actor.system(),
                        "incident.resolved",
                        after,
                        now,
                        reason="all alerts resolved",
                    )
                )
        await tx.save_many(settled)
        for entry in entries:
            await tx.audit(entry)

    @staticmethod
    def _entry(
        actor: Actor, action: str, incident: Incident, at: datetime, **detail: object
    ) -> AuditEntry:
        return AuditEntry(
            at=at,
            actor=actor.id,
            action=action,
            subject=incident_subject(incident.id),
            detail={"by": actor.name, "status": incident.status.value, **detail},
        )

    # --- people -----------------------------------------------------------------

    async def open_manual(self, text: str, *, actor: Actor) -> Incident:
        """`/alert <text>`: a new incident of its own, with one firing alert saying what was typed.

        A leading severity word sets the severity: `/alert critical payments down`.
        """
        words = text.split()
        if not words:
            raise InvalidInputError(
                "Say what is wrong: /alert <text>, e.g. /alert checkout is failing"
            )
        severity = Severity.WARNING
        if len(words) > 1 and words[0].lower() in SEVERITY_WORDS:
            severity = SEVERITY_WORDS[words.pop(0).lower()]
        title = " ".join(words)[:200]
        now = self._clock.now()
        fingerprint = f"manual-{uuid.uuid4().hex[:16]}"
        alert = Alert(
            fingerprint=fingerprint,
            status=AlertStatus.FIRING,
            severity=severity,
            name=title,
            labels={"reported_by": actor.name[:100]},
            annotations={"summary": " ".join(words)[:4000]},
            starts_at=now,
            source=MANUAL_SOURCE,
        )

        async def work(tx: IncidentTx) -> Incident:
            # typed by a person: no group labels, the title says it all
            manual = self._new_incident(alert, now, group_key=f"manual:{fingerprint}")
            incident = await tx.add_incident(manual.model_copy(update={"labels": {}}))
            await tx.record([(alert, incident.id)])
            incident = incident.model_copy(update={"alert_count": 1, "firing_count": 1})
            await tx.save(incident)
            await tx.audit(self._entry(actor, "incident.opened", incident, now, title=title))
            return incident

        opened = await self._store.run(work)
        self._on_change([opened.id])
        self._on_open([opened])
        return opened

    async def act(
        self,
        incident_id: int,
        command: Command,
        *,
        actor: Actor,
        until: datetime | None = None,
        expected: IncidentStatus | None = None,
    ) -> Incident:
        """A person's (or the silence job's) change: checked, saved, audited, card re-queued.

        `expected`: the status the person saw (a button); if it has moved on, nothing changes.
        With Alertmanager configured, its silence follows after the commit; the
        returned incident says whether that worked (`alertmanager_error`).
        """
        now = self._clock.now()

        async def work(tx: IncidentTx) -> tuple[Incident, Incident]:
            incident = (await tx.incidents({incident_id})).get(incident_id)
            if incident is None:
                raise NotFoundError(f"No incident #{incident_id}.")
            after = lifecycle.apply(
                incident, command, actor=actor, at=now, until=until, expected=expected
            )
            await tx.save(after)
            detail: dict[str, object] = {"from": incident.status.value}
            if until is not None:
                detail["until"] = until.isoformat()
            await tx.audit(self._entry(actor, f"incident.{command.value}", after, now, **detail))
            return incident, after

        before, changed = await self._store.run(work)
        self._on_change([changed.id])
        if self._silences is not None:
            # after the commit: Howl's silence holds whatever Alertmanager answers
            changed = await self._silences.follow(before, changed, actor=actor)
            self._on_change([changed.id])
        return changed

    async def lift_expired_silences(self) -> int:
        """End every silence whose time is up; returns how many ended.

        Also expires Alertmanager silences whose Howl silence ended elsewhere
        (every alert resolved) or whose expiry failed before.
        """
        if self._silences is not None:
            self._on_change(await self._silences.sweep())
        lifted = 0
        for incident_id in await self._store.silences_ending(self._clock.now()):
            try:
                await self.act(incident_id, Command.UNSILENCE, actor=Actor.system())
            except (ConflictError, NotFoundError):
                continue  # someone acted on it first
            lifted += 1
        return lifted

    # --- reading ----------------------------------------------------------------

    async def find(self, incident_id: int) -> IncidentView | None:
        return await self._store.get(incident_id)

    async def find_incident(self, incident_id: int) -> Incident | None:
        """The incident without its alerts (what a decision card names)."""
        return await self._store.find_incident(incident_id)

    async def view(self, incident_id: int, *, alerts: int = VIEW_ALERTS) -> IncidentView:
        """The incident with up to `alerts` of its alerts; NotFoundError when there is none."""
        found = await self._store.get(incident_id, alerts=alerts)
        if found is None:
            raise NotFoundError(f"No incident #{incident_id}.")
        return found

    async def counts(self) -> dict[IncidentStatus, int]:
        """Incidents per status, every status present (for /status)."""
        found = await self._store.counts_by_status()
        return {status: found.get(status.value, 0) for status in IncidentStatus}

    async def recent(self, *, open_only: bool = True, limit: int = 20) -> list[Incident]:
        return await self._store.recent(open_only=open_only, limit=limit)

    # --- retention --------------------------------------------------------------

    async def prune_history(self, keep: timedelta) -> Pruned:
        """Forget the alert history of incidents resolved more than `keep` ago."""
        return await self._store.prune_history(self._clock.now() - keep)
