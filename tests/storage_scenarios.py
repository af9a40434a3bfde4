"""Scenarios run against every database Howl supports (SQLite here, PostgreSQL in e2e)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.alerting.lifecycle import Command
from core.alerting.models import Actor, Alert, AlertStatus, IncidentStatus, IncidentView, Severity
from core.alerting.ports import IncidentTx
from core.alerting.publisher import CardPublisher
from core.alerting.retention import Pruned
from core.alerting.service import IncidentService
from core.messages import Card, Priority, Rendered
from storage.db import session_factory
from storage.repositories import SqlIncidentStore, SqlOutbox

CHAT = -1001234567890
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


def alert(pod: str, *, status: AlertStatus = AlertStatus.FIRING, starts: datetime = T0) -> Alert:
    return Alert(
        fingerprint=f"fp-{pod}",
        status=status,
        severity=Severity.CRITICAL if pod.endswith("1") else Severity.WARNING,
        name="CheckoutDown",
        labels={"alertname": "CheckoutDown", "namespace": "prod", "pod": pod},
        starts_at=starts,
        source="alertmanager",
    )


def card_of(view: IncidentView) -> Card:
    incident = view.incident
    line = f"#{incident.id} {incident.status.value} {incident.firing_count}/{incident.alert_count}"
    return Card(key=f"incident:{incident.id}", chat_id=CHAT, content=Rendered(text=line))


async def exercise_incident_store(engine: AsyncEngine) -> None:
    """The incident store's whole contract on one database; raises AssertionError on a breach."""
    clock, sessions = Clock(), session_factory(engine)
    outbox = SqlOutbox.over(sessions, clock)
    store = SqlIncidentStore(sessions, outbox.cards, clock)
    publisher = CardPublisher(store, card_of)
    service = IncidentService(store, clock, on_change=publisher.poke)
    http = Actor(id="http", name="webhook")

    # two concurrent deliveries of a new group still make exactly one incident
    first, second = await asyncio.gather(
        service.ingest([alert("api-1")], actor=http), service.ingest([alert("api-2")], actor=http)
    )
    assert first.incidents == second.incidents == [1]
    repeat = await service.ingest([alert("api-1"), alert("api-2")], actor=http)
    assert (repeat.accepted, repeat.new, repeat.incidents) == (2, 0, [1])
    view = await service.view(1)
    assert (view.incident.alert_count, view.incident.firing_count) == (2, 2)
    assert view.incident.severity is Severity.CRITICAL
    assert [a.labels["pod"] for a in view.alerts] == ["api-1", "api-2"]
    assert await service.find_incident(1) == view.incident, "the incident alone, the same"
    assert await service.find_incident(999) is None

    await publisher.flush()
    [queued] = await outbox.queue.due(now=clock.now(), limit=10)
    assert (queued.card_key, queued.text) == ("incident:1", "#1 firing 2/2")

    clock.at += timedelta(minutes=1)
    acked = await service.act(1, Command.ACK, actor=Actor(id="tg:7", name="Ann"))
    assert acked.status is IncidentStatus.ACKNOWLEDGED and acked.acknowledged_by == "Ann"

    resolved = [alert(p, status=AlertStatus.RESOLVED) for p in ("api-1", "api-2")]
    await service.ingest(resolved, actor=http)
    view = await service.view(1)
    assert view.incident.status is IncidentStatus.RESOLVED
    assert (view.incident.alert_count, view.incident.firing_count) == (2, 0)

    # the group fires again: a new incident, the old one stays resolved
    again = await service.ingest([alert("api-1", starts=T0 + timedelta(hours=1))], actor=http)
    # PostgreSQL may have spent an id on the racing insert that lost: any new id will do
    [refired] = again.incidents
    assert refired > 1
    ended = await service.view(1)
    assert (ended.incident.alert_count, ended.incident.firing_count) == (2, 0)
    # its alerts as they were when it ended, though api-1 now belongs to the new incident
    assert [(a.labels["pod"], a.status) for a in ended.alerts] == [
        ("api-1", AlertStatus.RESOLVED), ("api-2", AlertStatus.RESOLVED),
    ]  # fmt: skip

    # a silence ends by itself
    await service.act(
        refired, Command.SILENCE, actor=http, until=clock.now() + timedelta(minutes=30)
    )
    clock.at += timedelta(minutes=31)
    assert await service.lift_expired_silences() == 1
    assert (await service.view(refired)).incident.status is IncidentStatus.FIRING

    # a crash between the change and its card: the next start catches up
    await publisher.flush()
    assert await store.unpublished(limit=10) == []
    forgetful = IncidentService(store, clock)  # nobody is told about the change
    await forgetful.act(refired, Command.ACK, actor=http)
    assert await store.unpublished(limit=10) == [refired]
    assert await CardPublisher(store, card_of).catch_up() == 1
    assert await store.unpublished(limit=10) == []

    counts = await service.counts()
    assert (counts[IncidentStatus.RESOLVED], counts[IncidentStatus.ACKNOWLEDGED]) == (1, 1)

    async with engine.connect() as conn:
        actions = (await conn.execute(text("SELECT action FROM audit_log ORDER BY id"))).all()
    assert [a for (a,) in actions] == [
        "incident.opened", "incident.ack", "incident.resolved", "incident.opened",
        "incident.silence", "incident.unsilence", "incident.ack",
    ]  # fmt: skip


async def exercise_full_view(engine: AsyncEngine) -> None:
    """A view holds as many alerts as asked for, and the senders' earliest start over all of
    them (not only the listed ones, and never a time Howl stamped itself)."""
    clock, sessions = Clock(), session_factory(engine)
    store = SqlIncidentStore(sessions, SqlOutbox.over(sessions, clock).cards, clock)
    service = IncidentService(store, clock)
    http = Actor(id="http", name="webhook")
    early = T0 - timedelta(hours=1)
    # the earliest alert fires and resolves: it sorts after every firing one
    await service.ingest([alert("api-00", starts=early)], actor=http)
    pods = [alert(f"api-{n:02}", starts=T0 + timedelta(minutes=n)) for n in range(1, 15)]
    stamped = alert("api-99", starts=early - timedelta(hours=1)).model_copy(
        update={"sender_start": False}
    )
    await service.ingest([*pods, stamped], actor=http)
    await service.ingest([alert("api-00", status=AlertStatus.RESOLVED, starts=early)], actor=http)

    card = await service.view(1)
    assert len(card.alerts) == 10 and "api-00" not in [a.labels["pod"] for a in card.alerts]
    assert card.started_at == early, "the earliest sender start, though its alert is not listed"
    full = await service.view(1, alerts=100)
    assert [a.labels["pod"] for a in full.alerts] == [
        "api-99", *(f"api-{n:02}" for n in range(1, 15)), "api-00",
    ]  # fmt: skip
    assert full.started_at == early

    # ended: every alert as it was, from the history, and the same start
    await service.ingest(
        [
            alert(a.labels["pod"], status=AlertStatus.RESOLVED, starts=a.starts_at)
            for a in full.alerts
        ],
        actor=http,
    )
    ended = await service.view(1, alerts=100)
    assert ended.incident.status is IncidentStatus.RESOLVED
    assert len(ended.alerts) == 16 and {a.status for a in ended.alerts} == {AlertStatus.RESOLVED}
    assert ended.started_at == early
    assert len((await service.view(1, alerts=5)).alerts) == 5


async def exercise_storm_digests(engine: AsyncEngine) -> None:
    """Folding, digest lines, the join rule and unfolding on one database."""
    clock = Clock()
    outbox = SqlOutbox.over(session_factory(engine), clock)
    far = T0 + timedelta(days=1)

    def storm_card(n: int, *, critical: bool = False, closed: bool = False) -> Card:
        return Card(
            key=f"incident:{n}",
            chat_id=CHAT,
            content=Rendered(text=f"card {n}" + (" closed" if closed else "")),
            priority=Priority.URGENT if critical else Priority.CARD_NEW,
            digest_line=f"line {n}" + (" closed" if closed else ""),
            closed=closed,
        )

    for n in range(4):
        await outbox.cards.put_card(storm_card(n, critical=n == 3))
    assert await outbox.digests.pending_new_cards(CHAT) == 4
    assert await outbox.digests.fold_new_cards(CHAT, keep=1) == 3
    kept, digest = await outbox.queue.due(now=far, limit=10)
    assert (kept.card_key, kept.priority) == ("incident:3", Priority.URGENT)
    claimed = await outbox.queue.claim(digest.id)
    assert claimed is not None and claimed.digest_lines == ("line 0", "line 1", "line 2")
    await outbox.queue.mark_sent(digest.id, message_id=1, at=clock.now())

    # the digest is on its way: a later fold starts a new one; a critical line leads it
    await outbox.cards.put_card(storm_card(5))
    assert await outbox.digests.fold_new_cards(CHAT) == 2
    [second] = await outbox.queue.due(now=far, limit=10)
    assert second.card_key != digest.card_key, second
    assert second.priority == Priority.URGENT, second
    claimed = await outbox.queue.claim(second.id)
    assert claimed is not None and claimed.digest_lines == ("line 3", "line 5")
    await outbox.queue.mark_sent(second.id, message_id=2, at=clock.now())

    # after the storm: open ones get their own card, a closed one stays a line
    await outbox.cards.put_card(storm_card(1, closed=True))
    assert await outbox.digests.folded_chats() == [CHAT]
    assert await outbox.digests.unfold(CHAT, limit=10) == 4
    owed = {(m.card_key, m.kind.value) for m in await outbox.queue.due(now=far, limit=10)}
    assert owed == {
        ("incident:0", "send"), ("incident:2", "send"), ("incident:3", "send"),
        ("incident:5", "send"), (digest.card_key, "edit"),
    }  # fmt: skip
    assert await outbox.digests.folded_chats() == []


async def exercise_notify_queries(engine: AsyncEngine) -> None:
    """Re-notify candidates and released Alertmanager silences, with their new columns."""
    clock, sessions = Clock(), session_factory(engine)
    store = SqlIncidentStore(sessions, SqlOutbox.over(sessions, clock).cards, clock)
    service = IncidentService(store, clock)
    http = Actor(id="http", name="webhook")
    firing = {
        ns: (await service.ingest([alert(f"{ns}-1").model_copy(update={
            "fingerprint": f"fp-{ns}", "labels": {"alertname": "Down", "namespace": ns},
        })], actor=http)).incidents[0]
        for ns in ("a", "b", "c")
    }  # fmt: skip
    await service.act(firing["b"], Command.ACK, actor=http)
    await service.act(firing["c"], Command.SILENCE, actor=http, until=T0 + timedelta(hours=1))
    assert [i.id for i in await store.firing_unacknowledged(limit=10)] == [firing["a"]]
    assert await store.firing_unacknowledged(limit=0) == []

    async def mark(incident_id: int, **fields: object) -> None:
        async def work(tx: IncidentTx) -> None:
            found = (await tx.incidents({incident_id}))[incident_id]
            await tx.save(found.model_copy(update=fields))

        await store.run(work)

    await mark(firing["a"], renotified_at=T0 + timedelta(minutes=30))
    await mark(firing["b"], alertmanager_silence_id="s-b", alertmanager_error="x" * 200)
    await mark(firing["c"], alertmanager_silence_id="s-c")
    [again] = await store.firing_unacknowledged(limit=10)
    assert again.renotified_at == T0 + timedelta(minutes=30)
    # only b: c is still silenced, so its Alertmanager silence is still wanted
    [released] = await store.released_silences(limit=10)
    assert (released.id, released.alertmanager_silence_id) == (firing["b"], "s-b")
    assert released.alertmanager_error == "x" * 200


def in_group(name: str, namespace: str, *, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    """A firing (or resolved) alert `name` of the group `CheckoutDown` in `namespace`."""
    base = alert(name, status=status)
    labels = {**base.labels, "namespace": namespace}
    return base.model_copy(update={"fingerprint": f"fp-{namespace}-{name}", "labels": labels})


async def exercise_retention(engine: AsyncEngine) -> None:
    """Retention removes the alert history of long-resolved incidents, and nothing else."""
    clock, sessions = Clock(), session_factory(engine)
    service = IncidentService(
        SqlIncidentStore(sessions, SqlOutbox.over(sessions, clock).cards, clock), clock
    )
    http, ann = Actor(id="http", name="webhook"), Actor(id="tg:7", name="Ann")
    ingest = service.ingest

    [ended] = (await ingest([in_group("a1", "a"), in_group("a2", "a")], actor=http)).incidents
    [still_open] = (await ingest([in_group("b1", "b")], actor=http)).incidents
    [by_hand] = (await ingest([in_group("c1", "c")], actor=http)).incidents
    clock.at += timedelta(hours=1)
    gone = [in_group(n, "a", status=AlertStatus.RESOLVED) for n in ("a1", "a2")]
    await ingest(gone, actor=http)
    await service.act(by_hand, Command.RESOLVE, actor=ann)  # c1 still fires
    assert (
        await ingest([in_group("o1", "o", status=AlertStatus.RESOLVED)], actor=http)
    ).incidents == []
    clock.at += timedelta(hours=1)
    refired = in_group("a1", "a").model_copy(update={"starts_at": clock.at})
    [reopened] = (await ingest([refired], actor=http)).incidents  # a1 moves on to a new incident
    clock.at += timedelta(days=35)
    [recent] = (await ingest([in_group("d1", "d")], actor=http)).incidents
    await ingest([in_group("d1", "d", status=AlertStatus.RESOLVED)], actor=http)
    clock.at += timedelta(days=1)

    assert await service.prune_history(timedelta(days=30)) == Pruned(alerts=6, states=2)

    async with engine.connect() as conn:
        events = (
            await conn.execute(text("SELECT incident_id, fingerprint FROM alerts ORDER BY id"))
        ).all()
        states = (
            await conn.execute(
                text("SELECT fingerprint, incident_id FROM alert_states ORDER BY fingerprint")
            )
        ).all()
    assert [tuple(e) for e in events] == [
        (still_open, "fp-b-b1"), (reopened, "fp-a-a1"), (recent, "fp-d-d1"), (recent, "fp-d-d1"),
    ]  # fmt: skip
    assert [tuple(s) for s in states] == [
        ("fp-a-a1", reopened), ("fp-b-b1", still_open), ("fp-c-c1", by_hand), ("fp-d-d1", recent),
    ]  # fmt: skip
    # the incidents stay, with their counts; a second run finds nothing more to remove
    view = await service.view(ended)
    assert (view.incident.status, view.incident.alert_count) == (IncidentStatus.RESOLVED, 2)
    assert (await service.view(still_open)).alerts[0].fingerprint == "fp-b-b1"
    assert await service.prune_history(timedelta(days=30)) == Pruned()
