"""Incidents, alert history and alert states: implements `core.alerting.ports.IncidentStore`."""

from __future__ import annotations

import functools
import operator
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import structlog
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.alerting.models import (
    Alert,
    AlertState,
    AlertStatus,
    DebateProgress,
    Incident,
    IncidentStatus,
    IncidentView,
    Severity,
)
from core.alerting.ports import VIEW_ALERTS, IncidentTx, OwedCard, PublishedCard, PublishResult
from core.alerting.retention import Pruned
from core.audit import AuditEntry
from core.knowledge.symptoms import incident_symptoms
from core.ports import Clock
from storage.db import read_session
from storage.repositories.outbox import SqlCards
from storage.tables import AlertRow, AlertStateRow, AuditRow, IncidentRow, RunRow

log = structlog.get_logger(__name__)

T = TypeVar("T")

ATTEMPTS = 3
#: PostgreSQL: serialization failure, deadlock — the transaction can simply run again
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

_ALERT_FIELDS = (
    "fingerprint", "status", "severity", "name", "labels", "annotations",
    "starts_at", "ends_at", "generator_url", "source", "sender_start",
)  # fmt: skip
ALERTS_TABLE = cast(Table, AlertRow.__table__)
STATES_TABLE = cast(Table, AlertStateRow.__table__)
INCIDENTS_TABLE = cast(Table, IncidentRow.__table__)
AUDIT_TABLE = cast(Table, AuditRow.__table__)
_INCIDENT_FIELDS = tuple(name for name in Incident.model_fields if name != "id")


_ALERT_GETTER = operator.attrgetter(*_ALERT_FIELDS)


def _alert_values(alert: Alert) -> dict[str, Any]:
    # the model's own values, as model_dump(mode="python") gives them, without its
    # per-call include set and copies (1.0 against 1.8 us an alert)
    return dict(zip(_ALERT_FIELDS, _ALERT_GETTER(alert), strict=True))


def _to_alert(row: AlertStateRow | AlertRow) -> Alert:
    return Alert.model_validate({name: getattr(row, name) for name in _ALERT_FIELDS})


def _to_incident(row: IncidentRow) -> Incident:
    return Incident.model_validate(
        {"id": row.id, **{name: getattr(row, name) for name in _INCIDENT_FIELDS}}
    )


def _incident_values(incident: Incident) -> dict[str, Any]:
    values = incident.model_dump(include=set(_INCIDENT_FIELDS), mode="python")
    for name in ("severity", "status", "prior_status"):
        if values[name] is not None:
            values[name] = str(values[name])
    return values


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # another writer opened the same group's incident first
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


#: an incident whose card is behind its latest change
_CARD_BEHIND = IncidentRow.published_version < IncidentRow.version
#: first cards first (a new incident is never behind updates of known ones), then the
#: most severe, then the oldest
_PUBLISH_ORDER = (
    case((IncidentRow.published_version == 0, 0), else_=1),
    case({s.value: -s.rank for s in Severity}, value=IncidentRow.severity, else_=0),
    IncidentRow.id,
)


async def _ended_alerts(session: AsyncSession, incident_id: int, limit: int) -> list[Alert]:
    """The last state each alert had in this incident, from the history.

    An ended incident's alerts may have moved on (fired again into a new
    incident); the history still says how they were here.
    """
    latest = (
        select(func.max(AlertRow.id))
        .where(AlertRow.incident_id == incident_id)
        .group_by(AlertRow.fingerprint)
    )
    query = (
        select(AlertRow)
        .where(AlertRow.id.in_(latest))
        .order_by(AlertRow.status, AlertRow.starts_at, AlertRow.fingerprint)
        .limit(limit)
    )
    return [_to_alert(event) for event in (await session.scalars(query)).all()]


async def _started_at(session: AsyncSession, incident_id: int) -> datetime | None:
    """The earliest start a sender stated for an alert that fired in the incident."""
    query = (
        select(func.min(AlertRow.starts_at))
        .where(AlertRow.incident_id == incident_id)
        .where(AlertRow.status == AlertStatus.FIRING.value)
        .where(AlertRow.sender_start.is_(True))
    )
    return cast(datetime | None, await session.scalar(query))


async def _view(
    session: AsyncSession, incident_id: int, *, alerts: int = VIEW_ALERTS, debate: bool = True
) -> IncidentView | None:
    """The incident as its card shows it; without `debate`, the progress line is not read."""
    row = await session.get(IncidentRow, incident_id, populate_existing=True)
    if row is None:
        return None
    incident, since = _to_incident(row), await _started_at(session, incident_id)
    progress = await _debate_progress(session, incident_id) if debate else None
    if row.status == IncidentStatus.RESOLVED.value:
        ended = await _ended_alerts(session, row.id, alerts)
        return IncidentView(incident=incident, alerts=ended, started_at=since, debate=progress)
    query = (
        select(AlertStateRow)
        .where(AlertStateRow.incident_id == incident_id)
        .order_by(AlertStateRow.status, AlertStateRow.starts_at, AlertStateRow.fingerprint)
        .limit(alerts)
    )
    listed = [_to_alert(state) for state in (await session.scalars(query)).all()]
    return IncidentView(incident=incident, alerts=listed, started_at=since, debate=progress)


async def _debate_progress(session: AsyncSession, incident_id: int) -> DebateProgress | None:
    """The incident's latest run, as its card's progress line reads it."""
    query = (
        select(RunRow.id, RunRow.stage, RunRow.created_at, RunRow.stage_at)
        .where(RunRow.incident_id == incident_id)
        .order_by(RunRow.id.desc())
        .limit(1)
    )
    found = (await session.execute(query)).first()
    if found is None:
        return None
    run_id, stage, created_at, stage_at = found
    return DebateProgress(
        run_id=run_id, stage=stage or "queued", since=created_at, at=stage_at or created_at
    )


@functools.cache
def _upsert_states(dialect: str) -> Any:
    """INSERT … ON CONFLICT (fingerprint) DO UPDATE, built once per dialect."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = make(STATES_TABLE)
    replaced = {
        name: getattr(statement.excluded, name)
        for name in (*_ALERT_FIELDS, "incident_id", "updated_at")
        if name != "fingerprint"
    }
    return statement.on_conflict_do_update(index_elements=["fingerprint"], set_=replaced)


#: UPDATE incidents SET <every field> = :b_<field>, version = version + 1 WHERE id = :b_id
_SAVE_INCIDENTS = (
    update(INCIDENTS_TABLE)
    .where(INCIDENTS_TABLE.c.id == bindparam("b_id", type_=INCIDENTS_TABLE.c.id.type))
    .values(
        {
            **{
                name: bindparam(f"b_{name}", type_=INCIDENTS_TABLE.c[name].type)
                for name in _INCIDENT_FIELDS
            },
            "version": INCIDENTS_TABLE.c.version + 1,
        }
    )
)


class _SqlTx:
    """`IncidentTx` over one session; see core/alerting/ports.py for the contract."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        #: audit lines, written together when the work is done (`finish`)
        self._audits: list[dict[str, Any]] = []

    async def states(self, fingerprints: Collection[str]) -> dict[str, AlertState]:
        if not fingerprints:
            return {}
        # every writer locks alert states in fingerprint order, before any incident
        query = (
            select(AlertStateRow)
            .where(AlertStateRow.fingerprint.in_(fingerprints))
            .order_by(AlertStateRow.fingerprint)
            .with_for_update()
        )
        rows = (await self._session.scalars(query)).all()
        return {
            row.fingerprint: AlertState(alert=_to_alert(row), incident_id=row.incident_id)
            for row in rows
        }

    async def incidents(
        self, ids: Collection[int], *, open_groups: Collection[str] = ()
    ) -> dict[int, Incident]:
        if not ids and not open_groups:
            return {}
        # one statement, rows locked in id order: the order the publisher and every other
        # writer lock incidents in, so two transactions never wait on each other in a cycle
        wanted: ColumnElement[bool] = IncidentRow.id.in_(ids)
        if open_groups:
            wanted |= IncidentRow.group_key.in_(open_groups) & (
                IncidentRow.status != IncidentStatus.RESOLVED.value
            )
        query = select(IncidentRow).where(wanted).order_by(IncidentRow.id).with_for_update()
        return {row.id: _to_incident(row) for row in (await self._session.scalars(query)).all()}

    async def add_incident(self, incident: Incident) -> Incident:
        [added] = await self.add_incidents([incident])
        return added

    async def add_incidents(self, incidents: Sequence[Incident]) -> list[Incident]:
        if not incidents:
            return []
        # the symptoms are those it opened with: its knowledge stays filed under them
        rows = [
            {
                **_incident_values(incident),
                "symptoms_hash": incident_symptoms(incident.labels, incident.title).hash,
            }
            for incident in incidents
        ]
        # one multi-row INSERT … RETURNING; SQLite returns the rows in no set order, so the
        # ids are matched by group key (a batch opens at most one incident per group)
        table = INCIDENTS_TABLE
        returned = await self._session.execute(
            insert(table).returning(table.c.id, table.c.group_key), rows
        )
        ids = {key: incident_id for incident_id, key in returned.all()}
        return [
            incident.model_copy(update={"id": ids[incident.group_key]}) for incident in incidents
        ]

    async def record(self, alerts: list[tuple[Alert, int | None]]) -> None:
        now = self._clock.now()
        values = [(_alert_values(alert), incident_id) for alert, incident_id in alerts]
        events = [
            {**alert, "incident_id": incident_id, "received_at": now}
            for alert, incident_id in values
        ]
        # Core statements: the ORM's bulk machinery costs more than the insert itself
        await self._session.execute(insert(ALERTS_TABLE), events)
        # one upsert per fingerprint: PostgreSQL refuses to touch a row twice in one statement
        latest = {alert["fingerprint"]: (alert, incident_id) for alert, incident_id in values}
        # in fingerprint order, like `states`: new rows wait on each other's unique keys
        states = [
            {**alert, "incident_id": incident_id, "updated_at": now}
            for _, (alert, incident_id) in sorted(latest.items())
        ]
        await self._session.execute(self._upsert_states(), states)

    def _upsert_states(self) -> Any:
        return _upsert_states(self._session.get_bind().dialect.name)

    async def save(self, incident: Incident) -> None:
        await self.save_many([incident])

    async def save_many(self, incidents: Sequence[Incident]) -> None:
        if not incidents:
            return
        rows = [
            {"b_id": incident.id, **{f"b_{k}": v for k, v in _incident_values(incident).items()}}
            for incident in sorted(incidents, key=lambda i: i.id)
        ]
        # one statement for the whole batch (executemany), not one ORM UPDATE per incident
        await self._session.execute(_SAVE_INCIDENTS, rows)

    async def audit(self, entry: AuditEntry) -> None:
        self._audits.append(entry.model_dump())

    async def finish(self) -> None:
        """Write the audit lines in one statement: a storm's post opens 50 incidents at once."""
        if self._audits:
            await self._session.execute(insert(AUDIT_TABLE), self._audits)
            self._audits.clear()


#: incidents whose history one retention transaction removes
PRUNE_BATCH = 200


def _belongs_to(ids: Sequence[int]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(alert events, alert states) of these incidents."""
    return AlertRow.incident_id.in_(ids), AlertStateRow.incident_id.in_(ids)


def _no_incident(before: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(alert events, alert states) older than `before` that belong to no incident."""
    return (
        AlertRow.incident_id.is_(None) & (AlertRow.received_at < before),
        AlertStateRow.incident_id.is_(None) & (AlertStateRow.updated_at < before),
    )


async def _prune(
    session: AsyncSession,
    which: tuple[ColumnElement[bool], ColumnElement[bool]],
) -> tuple[int, int]:
    """Delete the alert events and the ended alert states `which` selects.

    A state whose alert still fires stays, though its incident ended (a person
    resolved it): it is what keeps Alertmanager's re-sends of that alert quiet.
    """
    events, states = which
    locked = (
        select(AlertStateRow.fingerprint)
        .where(states)
        .where(AlertStateRow.status == AlertStatus.RESOLVED.value)
        .order_by(AlertStateRow.fingerprint)
        .with_for_update()
    )
    fingerprints = list((await session.scalars(locked)).all())
    removed_states = 0
    for start in range(0, len(fingerprints), PRUNE_BATCH):
        chunk = fingerprints[start : start + PRUNE_BATCH]
        done = await session.execute(
            delete(AlertStateRow)
            .where(AlertStateRow.fingerprint.in_(chunk))
            .where(states)  # still so: intake may have moved one on before the lock
            .where(AlertStateRow.status == AlertStatus.RESOLVED.value)
            .execution_options(synchronize_session=False)
        )
        removed_states += _rowcount(done)
    removed = await session.execute(
        delete(AlertRow).where(events).execution_options(synchronize_session=False)
    )
    return _rowcount(removed), removed_states


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class SqlIncidentStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cards: SqlCards, clock: Clock
    ) -> None:
        self._sessions = sessions
        self._cards = cards
        self._clock = clock

    async def run(self, work: Callable[[IncidentTx], Awaitable[T]]) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self._sessions.begin() as session:
                    tx = _SqlTx(session, self._clock)
                    result = await work(tx)
                    await tx.finish()
            except DBAPIError as exc:
                if attempt == ATTEMPTS or not _retryable(exc):
                    raise
                log.info("incident_tx_retry", attempt=attempt, error=type(exc.orig).__name__)
                continue
            return result
        raise AssertionError("unreachable")

    async def get(self, incident_id: int, *, alerts: int = VIEW_ALERTS) -> IncidentView | None:
        async with read_session(self._sessions) as session:
            return await _view(session, incident_id, alerts=alerts)

    async def find_incident(self, incident_id: int) -> Incident | None:
        async with read_session(self._sessions) as session:
            row = await session.get(IncidentRow, incident_id)
            return _to_incident(row) if row is not None else None

    async def recent(self, *, open_only: bool, limit: int) -> list[Incident]:
        query: Select[IncidentRow] = (
            select(IncidentRow).order_by(IncidentRow.id.desc()).limit(limit)
        )
        if open_only:
            query = query.where(IncidentRow.status != IncidentStatus.RESOLVED.value)
        async with read_session(self._sessions) as session:
            return [_to_incident(row) for row in (await session.scalars(query)).all()]

    async def silences_ending(self, before: datetime) -> list[int]:
        query = (
            select(IncidentRow.id)
            .where(IncidentRow.status == IncidentStatus.SILENCED.value)
            .where(IncidentRow.silenced_until <= before)
            .order_by(IncidentRow.id)
        )
        async with read_session(self._sessions) as session:
            return list((await session.scalars(query)).all())

    async def firing_unacknowledged(self, *, limit: int) -> list[Incident]:
        query = (
            select(IncidentRow)
            .where(IncidentRow.status == IncidentStatus.FIRING.value)
            .order_by(IncidentRow.id)
            .limit(limit)
        )
        async with read_session(self._sessions) as session:
            return [_to_incident(row) for row in (await session.scalars(query)).all()]

    async def released_silences(self, *, limit: int) -> list[Incident]:
        query = (
            select(IncidentRow)
            .where(IncidentRow.alertmanager_silence_id.is_not(None))
            .where(IncidentRow.status != IncidentStatus.SILENCED.value)
            .order_by(IncidentRow.id)
            .limit(limit)
        )
        async with read_session(self._sessions) as session:
            return [_to_incident(row) for row in (await session.scalars(query)).all()]

    async def unpublished(self, *, limit: int) -> list[int]:
        query = select(IncidentRow.id).where(_CARD_BEHIND).order_by(*_PUBLISH_ORDER).limit(limit)
        async with read_session(self._sessions) as session:
            return list((await session.scalars(query)).all())

    async def owed(self, incident_ids: Collection[int], *, limit: int) -> list[OwedCard]:
        # A snapshot read: nothing here waits for intake or makes intake wait.
        query = (
            select(IncidentRow.id, IncidentRow.version, IncidentRow.published_version)
            .where(IncidentRow.id.in_(incident_ids), _CARD_BEHIND)
            .order_by(*_PUBLISH_ORDER)
            .limit(limit)
        )
        found: list[OwedCard] = []
        async with read_session(self._sessions) as session:
            for incident_id, version, published in (await session.execute(query)).all():
                view = await _view(session, incident_id)
                if view is not None:
                    found.append(OwedCard(view=view, version=version, first=published == 0))
        return found

    async def publish(self, cards: Sequence[PublishedCard]) -> PublishResult:
        if not cards:
            return PublishResult()
        queued = 0
        async with self._sessions.begin() as session:
            claimed = await self._claim(session, [c.incident_id for c in cards])
            versions = {c.incident_id: c.version for c in cards if c.incident_id in claimed}
            won = await self._mark_published(session, versions) if versions else set()
            for published in cards:
                card = published.card
                if card is not None and published.incident_id in won:
                    queued += await self._cards.put_in(session, card)
        if queued:
            self._cards.notify()
        skipped = sorted({c.incident_id for c in cards} - claimed)
        return PublishResult(queued=queued, skipped=skipped)

    @staticmethod
    async def _claim(session: AsyncSession, incident_ids: list[int]) -> set[int]:
        """Lock the incidents nobody else holds (PostgreSQL; SQLite has one writer anyway).

        One held by intake is changing again: it stays owed and is published next time,
        so the publisher never waits for a lock intake has, and never deadlocks with it.
        """
        query = (
            select(IncidentRow.id)
            .where(IncidentRow.id.in_(incident_ids))
            .order_by(IncidentRow.id)
            .with_for_update(skip_locked=True)
        )
        return set((await session.scalars(query)).all())

    @staticmethod
    async def _mark_published(session: AsyncSession, versions: dict[int, int]) -> set[int]:
        """One statement for the batch; returns the incidents whose version was newer."""
        version = case(versions, value=IncidentRow.id)
        marked = await session.scalars(
            update(IncidentRow)
            .where(IncidentRow.id.in_(versions), IncidentRow.published_version < version)
            .values(published_version=version)
            .returning(IncidentRow.id)
            .execution_options(synchronize_session=False)
        )
        # missing: another worker published this version (or a newer one) first
        return set(marked.all())

    async def prune_history(self, resolved_before: datetime) -> Pruned:
        """Remove the alert history of incidents resolved before then, a batch at a time.

        Each batch is its own short transaction, locking what it removes the way
        intake does (alert states by fingerprint), so intake never waits long.
        """
        alerts = states = 0
        while ids := await self._ended_with_history(resolved_before):
            async with self._sessions.begin() as session:
                a, s = await _prune(session, _belongs_to(ids))
            alerts, states = alerts + a, states + s
        # alerts that never belonged to an incident (a resolution of an unknown alert)
        async with self._sessions.begin() as session:
            a, s = await _prune(session, _no_incident(resolved_before))
        return Pruned(alerts=alerts + a, states=states + s)

    async def _ended_with_history(self, resolved_before: datetime) -> list[int]:
        ended = func.coalesce(IncidentRow.resolved_at, IncidentRow.updated_at)
        has_alerts = select(AlertRow.id).where(AlertRow.incident_id == IncidentRow.id).exists()
        has_states = (
            select(AlertStateRow.fingerprint)
            .where(AlertStateRow.incident_id == IncidentRow.id)
            .where(AlertStateRow.status == AlertStatus.RESOLVED.value)
            .exists()
        )
        query = (
            select(IncidentRow.id)
            .where(IncidentRow.status == IncidentStatus.RESOLVED.value)
            .where(ended < resolved_before)
            .where(has_alerts | has_states)
            .order_by(IncidentRow.id)
            .limit(PRUNE_BATCH)
        )
        async with read_session(self._sessions) as session:
            return list((await session.scalars(query)).all())

    async def counts_by_status(self) -> dict[str, int]:
        """For /status and metrics."""
        query = select(IncidentRow.status, func.count()).group_by(IncidentRow.status)
        async with read_session(self._sessions) as session:
            return {status: int(n) for status, n in (await session.execute(query)).all()}
