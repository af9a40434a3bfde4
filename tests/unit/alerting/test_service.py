"""The incident service over an in-memory store: dedup, grouping, counts, commands, audit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from core.alerting.grouping import Grouping
from core.alerting.lifecycle import Command
from core.alerting.models import (
    Actor,
    Alert,
    AlertStatus,
    Incident,
    IncidentStatus,
    IngestResult,
    Severity,
)
from core.alerting.payloads import parse_generic
from core.alerting.service import IncidentService, is_repeat, is_stale
from core.errors import ConflictError, InvalidInputError, NotFoundError
from tests.unit.alerting.fakes import START, FakeClock, FakeIncidentStore

HTTP = Actor(id="http", name="Alertmanager")
ALICE = Actor(id="tg:1", name="Alice")
BOB = Actor(id="tg:2", name="Bob")
T0 = START - timedelta(minutes=5)


class Changes:
    """Records `on_change` calls, with what the store had committed at the time."""

    def __init__(self, store: FakeIncidentStore) -> None:
        self.store = store
        self.calls: list[list[int]] = []
        self.commits_seen: list[int] = []

    def __call__(self, ids: Iterable[int]) -> None:
        self.calls.append(sorted(ids))
        self.commits_seen.append(self.store.commits)


@pytest.fixture
def changes(store: FakeIncidentStore) -> Changes:
    return Changes(store)


@pytest.fixture
def service(store: FakeIncidentStore, clock: FakeClock, changes: Changes) -> IncidentService:
    return IncidentService(store, clock, on_change=changes)


def alert(
    fp: str = "fp-api-1",
    *,
    name: str = "Down",
    status: AlertStatus = AlertStatus.FIRING,
    severity: Severity = Severity.HIGH,
    starts: datetime = T0,
    namespace: str = "prod",
    **labels: str,
) -> Alert:
    return Alert(
        fingerprint=fp,
        status=status,
        severity=severity,
        name=name,
        labels={"alertname": name, "namespace": namespace, **labels},
        starts_at=starts,
        ends_at=None if status is AlertStatus.FIRING else starts + timedelta(minutes=1),
        source="alertmanager",
    )


def resolved(fp: str = "fp-api-1", **fields: object) -> Alert:
    return alert(fp, status=AlertStatus.RESOLVED, **fields)  # type: ignore[arg-type]


def counts(incident: Incident) -> tuple[IncidentStatus, int, int]:
    return incident.status, incident.alert_count, incident.firing_count


# --- intake -------------------------------------------------------------------------


async def test_first_firing_alert_opens_an_incident(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock, changes: Changes
) -> None:
    result = await service.ingest([alert(pod="api-1")], actor=HTTP)

    assert result == IngestResult(accepted=1, new=1, incidents=[1])
    incident = store.incidents[1]
    assert incident.title == "Down"
    assert incident.group_key == "alertname=Down|namespace=prod"
    assert incident.labels == {"alertname": "Down", "namespace": "prod"}
    assert incident.severity is Severity.HIGH
    assert incident.source == "alertmanager"
    assert incident.created_at == incident.updated_at == clock.now()
    assert counts(incident) == (IncidentStatus.FIRING, 1, 1)
    assert [(a.fingerprint, i) for a, i in store.events] == [("fp-api-1", 1)]
    assert store.states["fp-api-1"].incident_id == 1
    [entry] = store.audit
    assert (entry.action, entry.actor, entry.subject, entry.at) == (
        "incident.opened",
        "http",
        "incident:1",
        clock.now(),
    )
    assert entry.detail == {"by": "Alertmanager", "status": "firing", "title": "Down"}
    assert changes.calls == [[1]]


async def test_the_same_alert_again_changes_nothing(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock, changes: Changes
) -> None:
    await service.ingest([alert()], actor=HTTP)
    version = store.version(1)
    clock.advance(minutes=5)  # Alertmanager re-sends every group interval

    again = await service.ingest([alert()], actor=HTTP)

    assert again == IngestResult(accepted=1, new=0, incidents=[1])
    assert len(store.events) == 1
    assert len(store.audit) == 1
    assert store.version(1) == version, "no card is owed for a repeat"
    assert store.incidents[1].updated_at == START
    assert changes.calls == [[1], []]


async def test_two_alerts_of_one_group_are_one_incident(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    result = await service.ingest(
        [alert("fp-1", pod="api-1"), alert("fp-2", pod="api-2")], actor=HTTP
    )
    assert result == IngestResult(accepted=2, new=2, incidents=[1])
    assert list(store.incidents) == [1]
    assert counts(store.incidents[1]) == (IncidentStatus.FIRING, 2, 2)
    assert [e.action for e in store.audit] == ["incident.opened"]


async def test_a_later_alert_of_the_group_joins_the_open_incident(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    await service.ingest([alert("fp-1")], actor=HTTP)
    result = await service.ingest([alert("fp-2", pod="api-2")], actor=HTTP)
    assert result == IngestResult(accepted=1, new=1, incidents=[1])
    assert counts(store.incidents[1]) == (IncidentStatus.FIRING, 2, 2)


async def test_another_namespace_is_another_incident(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    result = await service.ingest(
        [alert("fp-1", namespace="prod"), alert("fp-2", namespace="staging")], actor=HTTP
    )
    assert result.incidents == [1, 2]
    assert {i.group_key for i in store.incidents.values()} == {
        "alertname=Down|namespace=prod",
        "alertname=Down|namespace=staging",
    }
    assert [counts(i) for i in store.incidents.values()] == [(IncidentStatus.FIRING, 1, 1)] * 2


async def test_configured_grouping_is_used(store: FakeIncidentStore, clock: FakeClock) -> None:
    service = IncidentService(store, clock, grouping=Grouping(("alertname",)))
    await service.ingest(
        [alert("fp-1", namespace="prod"), alert("fp-2", namespace="staging")], actor=HTTP
    )
    assert [i.group_key for i in store.incidents.values()] == ["alertname=Down"]


async def test_all_alerts_resolved_resolves_the_incident(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest([alert("fp-1"), alert("fp-2")], actor=HTTP)
    clock.advance(minutes=1)
    half = await service.ingest([resolved("fp-1")], actor=HTTP)
    assert half == IngestResult(accepted=1, new=1, incidents=[1])
    assert counts(store.incidents[1]) == (IncidentStatus.FIRING, 2, 1)

    clock.advance(minutes=1)
    await service.ingest([resolved("fp-2")], actor=HTTP)

    incident = store.incidents[1]
    assert counts(incident) == (IncidentStatus.RESOLVED, 2, 0)
    assert (incident.resolved_by, incident.resolved_at) == ("Howl", clock.now())
    entry = store.audit[-1]
    assert (entry.action, entry.actor, entry.subject) == (
        "incident.resolved",
        "system",
        "incident:1",
    )
    assert entry.detail == {"by": "Howl", "status": "resolved", "reason": "all alerts resolved"}
    assert [e.action for e in store.audit] == ["incident.opened", "incident.resolved"]


async def test_auto_resolve_overrides_a_silence_or_an_ack(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest([alert()], actor=HTTP)
    await service.act(1, Command.SILENCE, actor=ALICE, until=clock.now() + timedelta(hours=1))
    await service.ingest([resolved()], actor=HTTP)
    incident = store.incidents[1]
    assert incident.status is IncidentStatus.RESOLVED
    assert (incident.silenced_until, incident.prior_status) == (None, None)


async def test_fire_and_resolve_in_one_payload(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    result = await service.ingest([alert(), resolved()], actor=HTTP)
    assert result == IngestResult(accepted=2, new=2, incidents=[1])
    assert counts(store.incidents[1]) == (IncidentStatus.RESOLVED, 1, 0)
    assert [e.action for e in store.audit] == ["incident.opened", "incident.resolved"]
    assert [a.status for a, _ in store.events] == [AlertStatus.FIRING, AlertStatus.RESOLVED]


async def test_a_resolution_of_an_unknown_alert_joins_no_incident(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    result = await service.ingest([resolved("fp-unknown")], actor=HTTP)
    assert result == IngestResult(accepted=1, new=1, incidents=[])
    assert store.incidents == {}
    assert store.states["fp-unknown"].incident_id is None


async def test_a_resolution_of_an_unknown_alert_joins_its_groups_open_incident(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    await service.ingest([alert("fp-1")], actor=HTTP)
    result = await service.ingest([resolved("fp-2")], actor=HTTP)
    assert result.incidents == [1]
    assert counts(store.incidents[1]) == (IncidentStatus.FIRING, 2, 1)


async def test_a_resolved_group_firing_again_opens_a_new_incident(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock, changes: Changes
) -> None:
    await service.ingest([alert()], actor=HTTP)
    await service.ingest([resolved()], actor=HTTP)
    clock.advance(minutes=30)

    result = await service.ingest([alert(starts=T0 + timedelta(minutes=30))], actor=HTTP)

    assert result == IngestResult(accepted=1, new=1, incidents=[2])
    assert store.incidents[1].status is IncidentStatus.RESOLVED
    new = store.incidents[2]
    assert counts(new) == (IncidentStatus.FIRING, 1, 1)
    assert new.group_key == store.incidents[1].group_key
    assert new.created_at == clock.now()
    assert store.states["fp-api-1"].incident_id == 2
    # the ended incident keeps its alerts as they were, and is not touched again
    assert counts(store.incidents[1]) == (IncidentStatus.RESOLVED, 1, 0)
    assert 1 not in changes.calls[-1]
    assert [(e.action, e.subject) for e in store.audit] == [
        ("incident.opened", "incident:1"),
        ("incident.resolved", "incident:1"),
        ("incident.opened", "incident:2"),
    ]


async def test_a_resolved_incident_is_not_reopened_by_another_alert_of_its_group(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    await service.ingest([alert("fp-1")], actor=HTTP)
    await service.act(1, Command.RESOLVE, actor=ALICE)
    result = await service.ingest([alert("fp-2")], actor=HTTP)
    assert result.incidents == [2]
    assert store.incidents[1].status is IncidentStatus.RESOLVED


async def test_an_alert_still_firing_after_a_manual_resolve_is_a_repeat(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    await service.ingest([alert(starts=T0)], actor=HTTP)
    await service.act(1, Command.RESOLVE, actor=ALICE)
    # the same firing state again is a repeat: it stays where it was
    assert (await service.ingest([alert(starts=T0)], actor=HTTP)).incidents == [1]
    assert len(store.incidents) == 1


@pytest.mark.parametrize("late_start", [T0, T0 - timedelta(minutes=1)])
async def test_a_stale_firing_after_a_resolution_is_ignored(
    service: IncidentService, store: FakeIncidentStore, changes: Changes, late_start: datetime
) -> None:
    await service.ingest([alert(starts=T0)], actor=HTTP)
    await service.ingest([resolved(starts=T0)], actor=HTTP)
    events, audit = len(store.events), len(store.audit)

    late = await service.ingest([alert(starts=late_start)], actor=HTTP)

    assert late == IngestResult(accepted=1, new=0, incidents=[1])
    assert store.incidents[1].status is IncidentStatus.RESOLVED
    assert list(store.incidents) == [1], "a late retry cannot open what has ended"
    assert (len(store.events), len(store.audit)) == (events, audit)
    assert store.states["fp-api-1"].alert.status is AlertStatus.RESOLVED
    assert changes.calls[-1] == []


def test_repeat_and_stale_rules() -> None:
    firing, later = alert(starts=T0), alert(starts=T0 + timedelta(minutes=1))
    assert is_repeat(firing, alert(starts=T0))
    assert not is_repeat(firing, later), "a new start is a new firing episode"
    assert not is_repeat(firing, resolved(starts=T0))
    stamped = later.model_copy(update={"sender_start": False})
    assert is_repeat(firing, stamped), "Howl-stamped times say nothing"
    done = resolved(starts=T0)
    assert is_stale(done, alert(starts=T0))
    assert not is_stale(done, later)
    assert not is_stale(done, alert(starts=T0).model_copy(update={"sender_start": False}))
    assert not is_stale(firing, alert(starts=T0 - timedelta(hours=1)))


async def test_generic_alerts_reposted_later_are_repeats(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    first = await service.ingest(parse_generic({"title": "Disk full"}, now=clock.now()), actor=HTTP)
    clock.advance(minutes=10)
    again = await service.ingest(parse_generic({"title": "Disk full"}, now=clock.now()), actor=HTTP)
    assert (first.new, again.new) == (1, 0)
    assert again.incidents == first.incidents == [1]
    assert len(store.events) == 1


async def test_generic_resolution_keeps_the_first_seen_start(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest(parse_generic({"title": "Disk full"}, now=clock.now()), actor=HTTP)
    clock.advance(minutes=10)
    body = {"title": "Disk full", "status": "resolved"}
    result = await service.ingest(parse_generic(body, now=clock.now()), actor=HTTP)
    assert result.new == 1
    state = store.states[parse_generic(body, now=clock.now())[0].fingerprint].alert
    assert (state.starts_at, state.ends_at) == (START, clock.now())
    assert store.incidents[1].status is IncidentStatus.RESOLVED


async def test_generic_alert_firing_again_after_a_resolution_opens_a_new_incident(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest(parse_generic({"title": "Disk full"}, now=clock.now()), actor=HTTP)
    clock.advance(minutes=10)
    body = {"title": "Disk full", "status": "resolved"}
    await service.ingest(parse_generic(body, now=clock.now()), actor=HTTP)
    clock.advance(minutes=10)
    result = await service.ingest(
        parse_generic({"title": "Disk full"}, now=clock.now()), actor=HTTP
    )
    assert result == IngestResult(accepted=1, new=1, incidents=[2])
    assert counts(store.incidents[2]) == (IncidentStatus.FIRING, 1, 1)


async def test_generic_refire_starts_when_it_fires_again(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest(parse_generic({"title": "Disk full"}, now=clock.now()), actor=HTTP)
    clock.advance(minutes=10)
    body = {"title": "Disk full", "status": "resolved"}
    await service.ingest(parse_generic(body, now=clock.now()), actor=HTTP)
    clock.advance(minutes=10)
    await service.ingest(parse_generic({"title": "Disk full"}, now=clock.now()), actor=HTTP)
    refire, incident_id = store.events[-1]
    assert incident_id == 2
    assert refire.starts_at == clock.now()  # actually START, twenty minutes before #2 opened


async def test_severity_rises_to_the_worst_firing_alert(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    await service.ingest([alert("fp-1", severity=Severity.WARNING)], actor=HTTP)
    assert store.incident(1).severity is Severity.WARNING
    await service.ingest([resolved("fp-2", severity=Severity.CRITICAL)], actor=HTTP)
    assert store.incident(1).severity is Severity.WARNING, "a resolved alert does not raise it"
    await service.ingest(
        [alert("fp-3", severity=Severity.CRITICAL), alert("fp-4", severity=Severity.HIGH)],
        actor=HTTP,
    )
    assert store.incident(1).severity is Severity.CRITICAL
    await service.ingest([resolved("fp-3", severity=Severity.CRITICAL)], actor=HTTP)
    assert store.incident(1).severity is Severity.CRITICAL, "severity never falls back"


async def test_a_new_incident_takes_its_first_alerts_severity(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    await service.ingest(
        [alert("fp-1", severity=Severity.INFO), alert("fp-2", severity=Severity.CRITICAL)],
        actor=HTTP,
    )
    assert store.incidents[1].severity is Severity.CRITICAL


async def test_counts_stay_exact_through_fire_resolve_refire(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    steps: list[tuple[list[Alert], tuple[IncidentStatus, int, int]]] = [
        ([alert("a")], (IncidentStatus.FIRING, 1, 1)),
        ([alert("b")], (IncidentStatus.FIRING, 2, 2)),
        ([alert("a"), alert("b")], (IncidentStatus.FIRING, 2, 2)),  # repeats
        ([resolved("a")], (IncidentStatus.FIRING, 2, 1)),
        ([resolved("a")], (IncidentStatus.FIRING, 2, 1)),  # repeat
        ([alert("a", starts=T0)], (IncidentStatus.FIRING, 2, 1)),  # stale
        ([alert("a", starts=T0 + timedelta(minutes=9))], (IncidentStatus.FIRING, 2, 2)),
        ([alert("c"), resolved("b")], (IncidentStatus.FIRING, 3, 2)),
        ([resolved("a"), resolved("c")], (IncidentStatus.RESOLVED, 3, 0)),
    ]
    for number, (alerts, expected) in enumerate(steps):
        await service.ingest(alerts, actor=HTTP)
        assert counts(store.incidents[1]) == expected, f"step {number}"
    assert list(store.incidents) == [1]


async def test_a_failing_write_commits_nothing(
    service: IncidentService, store: FakeIncidentStore, changes: Changes
) -> None:
    store.fail_tx["audit"] = RuntimeError("disk I/O error")
    with pytest.raises(RuntimeError, match="disk I/O error"):
        await service.ingest([alert("fp-1"), alert("fp-2", namespace="dev")], actor=HTTP)
    assert (store.incidents, store.states, store.events, store.audit) == ({}, {}, [], [])
    assert changes.calls == [], "nobody is told about a change that did not happen"
    assert (store.commits, store.rollbacks) == (0, 1)

    del store.fail_tx["audit"]
    result = await service.ingest([alert("fp-1")], actor=HTTP)
    assert result == IngestResult(accepted=1, new=1, incidents=[1])


async def test_on_change_is_told_after_the_commit(
    service: IncidentService, store: FakeIncidentStore, changes: Changes
) -> None:
    await service.ingest([alert("fp-1"), alert("fp-2", namespace="dev")], actor=HTTP)
    assert changes.calls == [[1, 2]]
    assert changes.commits_seen == [1], "called once the transaction had committed"


async def test_ingest_many_answers_each_payload(
    service: IncidentService, store: FakeIncidentStore, changes: Changes
) -> None:
    results = await service.ingest_many(
        [
            [alert("fp-1")],
            [alert("fp-2", namespace="dev"), alert("fp-1")],
            [],
            [resolved("fp-3", namespace="nowhere")],
        ],
        actor=HTTP,
    )
    # new incidents are opened in group key order: dev's (#1) before prod's (#2)
    assert results == [
        IngestResult(accepted=1, new=1, incidents=[2]),
        IngestResult(accepted=2, new=1, incidents=[1, 2]),
        IngestResult(accepted=0, new=0, incidents=[]),
        IngestResult(accepted=1, new=1, incidents=[]),
    ]
    assert store.commits == 1, "one transaction for all of them"
    assert changes.calls == [[1, 2]]


# --- people -------------------------------------------------------------------------


async def test_open_manual(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock, changes: Changes
) -> None:
    incident = await service.open_manual("critical db down", actor=ALICE)

    assert incident == store.incidents[incident.id]
    assert (incident.title, incident.severity) == ("db down", Severity.CRITICAL)
    assert counts(incident) == (IncidentStatus.FIRING, 1, 1)
    assert incident.source == "telegram"
    assert incident.group_key.startswith("manual:manual-")
    [(event, incident_id)] = store.events
    assert incident_id == incident.id
    assert (event.name, event.starts_at, event.source) == ("db down", clock.now(), "telegram")
    assert event.labels == {"reported_by": "Alice"}
    assert event.annotations == {"summary": "db down"}
    assert incident.labels == {}, "a typed incident has no group labels to show"
    [entry] = store.audit
    assert (entry.action, entry.actor, entry.subject) == (
        "incident.opened",
        "tg:1",
        f"incident:{incident.id}",
    )
    assert entry.detail == {"by": "Alice", "status": "firing", "title": "db down"}
    assert changes.calls == [[incident.id]]


@pytest.mark.parametrize(
    ("text", "title", "severity"),
    [
        ("checkout is failing", "checkout is failing", Severity.WARNING),
        ("P2 checkout is failing", "checkout is failing", Severity.HIGH),
        ("INFO  backups  slow ", "backups slow", Severity.INFO),
        ("critical", "critical", Severity.WARNING),  # a lone word is the title
    ],
)
async def test_open_manual_reads_a_leading_severity_word(
    service: IncidentService, text: str, title: str, severity: Severity
) -> None:
    incident = await service.open_manual(text, actor=ALICE)
    assert (incident.title, incident.severity) == (title, severity)


async def test_each_manual_alert_is_its_own_incident(
    service: IncidentService, store: FakeIncidentStore
) -> None:
    first = await service.open_manual("db down", actor=ALICE)
    second = await service.open_manual("db down", actor=BOB)
    assert first.id != second.id
    assert first.group_key != second.group_key
    assert len(store.incidents) == 2


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_open_manual_needs_text(
    service: IncidentService, store: FakeIncidentStore, text: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await service.open_manual(text, actor=ALICE)
    assert str(caught.value) == "Say what is wrong: /alert <text>, e.g. /alert checkout is failing"
    assert store.incidents == {}


async def test_ack_is_saved_and_audited(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock, changes: Changes
) -> None:
    await service.ingest([alert()], actor=HTTP)
    version = store.version(1)
    clock.advance(minutes=3)

    after = await service.act(1, Command.ACK, actor=ALICE)

    assert after == store.incidents[1]
    assert (after.status, after.acknowledged_by, after.acknowledged_at) == (
        IncidentStatus.ACKNOWLEDGED,
        "Alice",
        clock.now(),
    )
    assert store.version(1)[0] == version[0] + 1, "the card is owed again"
    entry = store.audit[-1]
    assert (entry.action, entry.actor, entry.subject, entry.at) == (
        "incident.ack",
        "tg:1",
        "incident:1",
        clock.now(),
    )
    assert entry.detail == {"by": "Alice", "status": "acknowledged", "from": "firing"}
    assert changes.calls[-1] == [1]


async def test_silence_and_resolve_are_audited_with_their_from_status(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest([alert()], actor=HTTP)
    until = clock.now() + timedelta(hours=1)
    await service.act(1, Command.SILENCE, actor=ALICE, until=until)
    await service.act(1, Command.RESOLVE, actor=BOB)

    silence, resolve = store.audit[-2:]
    assert (silence.action, silence.actor) == ("incident.silence", "tg:1")
    assert silence.detail == {
        "by": "Alice",
        "status": "silenced",
        "from": "firing",
        "until": until.isoformat(),
    }
    assert (resolve.action, resolve.actor) == ("incident.resolve", "tg:2")
    assert resolve.detail == {"by": "Bob", "status": "resolved", "from": "silenced"}
    incident = store.incidents[1]
    assert (incident.status, incident.resolved_by) == (IncidentStatus.RESOLVED, "Bob")


async def test_act_on_an_unknown_incident(
    service: IncidentService, store: FakeIncidentStore, changes: Changes
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await service.act(999, Command.ACK, actor=ALICE)
    assert str(caught.value) == "No incident #999."
    assert store.audit == [] and changes.calls == []


async def test_a_refused_command_changes_nothing(
    service: IncidentService, store: FakeIncidentStore, changes: Changes
) -> None:
    await service.ingest([alert()], actor=HTTP)
    await service.act(1, Command.ACK, actor=ALICE)
    before, audit, calls = store.incidents[1], len(store.audit), len(changes.calls)

    with pytest.raises(ConflictError) as caught:
        await service.act(1, Command.ACK, actor=BOB)

    assert str(caught.value) == "Incident #1 is already acknowledged."
    assert store.incidents[1] == before
    assert len(store.audit) == audit and len(changes.calls) == calls


async def test_a_change_from_a_status_seen_before_changes_nothing(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock, changes: Changes
) -> None:
    await service.ingest([alert()], actor=HTTP)
    until = clock.now() + timedelta(hours=1)
    await service.act(1, Command.SILENCE, actor=ALICE, until=until, expected=IncidentStatus.FIRING)
    before, audit, calls = store.incidents[1], list(store.audit), len(changes.calls)

    # a second "Silence 1h" from the same firing card: allowed by the lifecycle, but stale
    with pytest.raises(ConflictError) as caught:
        await service.act(
            1, Command.SILENCE, actor=BOB, until=until, expected=IncidentStatus.FIRING
        )

    assert str(caught.value) == "Incident #1 is silenced now; nothing changed."
    assert store.incidents[1] == before
    assert store.audit == audit and len(changes.calls) == calls


async def test_silence_in_the_past_is_refused(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest([alert()], actor=HTTP)
    with pytest.raises(ConflictError, match=r"^A silence needs an end in the future\.$"):
        await service.act(1, Command.SILENCE, actor=ALICE, until=clock.now())
    assert store.incidents[1].status is IncidentStatus.FIRING


async def test_expired_silences_are_lifted(
    service: IncidentService, store: FakeIncidentStore, clock: FakeClock
) -> None:
    await service.ingest([alert("a", namespace="one"), alert("b", namespace="two")], actor=HTTP)
    await service.ingest([alert("c", namespace="three")], actor=HTTP)
    await service.act(1, Command.SILENCE, actor=ALICE, until=clock.now() + timedelta(hours=1))
    await service.act(2, Command.ACK, actor=ALICE)
    await service.act(2, Command.SILENCE, actor=ALICE, until=clock.now() + timedelta(hours=2))
    await service.act(3, Command.SILENCE, actor=ALICE, until=clock.now() + timedelta(hours=3))

    clock.advance(minutes=59)
    assert await service.lift_expired_silences() == 0
    assert store.incident(1).status is IncidentStatus.SILENCED

    clock.advance(hours=1, minutes=1)  # exactly the end of #2's silence
    assert await service.lift_expired_silences() == 2
    assert store.incident(1).status is IncidentStatus.FIRING
    assert store.incident(2).status is IncidentStatus.ACKNOWLEDGED
    assert store.incident(3).status is IncidentStatus.SILENCED
    lifted = [e for e in store.audit if e.action == "incident.unsilence"]
    assert [(e.subject, e.actor, e.detail["from"]) for e in lifted] == [
        ("incident:1", "system", "silenced"),
        ("incident:2", "system", "silenced"),
    ]
    assert await service.lift_expired_silences() == 0


async def test_a_silence_someone_ended_first_is_skipped(
    store: FakeIncidentStore, clock: FakeClock
) -> None:
    class Racing(FakeIncidentStore):
        """Reports a silence ending that a person has since acknowledged."""

        async def silences_ending(self, before: datetime) -> list[int]:
            return [1, 404]

    racing = Racing()
    service = IncidentService(racing, clock)
    await service.ingest([alert()], actor=HTTP)
    await service.act(1, Command.ACK, actor=ALICE)
    assert await service.lift_expired_silences() == 0
    assert racing.incidents[1].status is IncidentStatus.ACKNOWLEDGED


# --- reading ------------------------------------------------------------------------


async def test_view_and_find(service: IncidentService) -> None:
    await service.ingest([alert("b"), resolved("a"), alert("c")], actor=HTTP)
    view = await service.view(1)
    assert view.incident.id == 1
    assert [a.fingerprint for a in view.alerts] == ["b", "c", "a"], "firing first"
    assert [a.fingerprint for a in view.firing] == ["b", "c"]
    assert await service.find(2) is None
    with pytest.raises(NotFoundError, match=r"^No incident #2\.$"):
        await service.view(2)


async def test_recent_is_newest_first(service: IncidentService) -> None:
    await service.ingest([alert("a", namespace="one"), alert("b", namespace="two")], actor=HTTP)
    await service.ingest([resolved("a", namespace="one")], actor=HTTP)
    assert [i.id for i in await service.recent()] == [2]
    assert [i.id for i in await service.recent(open_only=False)] == [2, 1]
    assert [i.id for i in await service.recent(open_only=False, limit=1)] == [2]


async def test_counts_cover_every_status(service: IncidentService) -> None:
    assert await service.counts() == dict.fromkeys(IncidentStatus, 0)
    await service.ingest([alert("a"), alert("b", namespace="dev")], actor=HTTP)
    await service.act(2, Command.ACK, actor=ALICE)
    counts = await service.counts()
    assert counts[IncidentStatus.FIRING] == 1 and counts[IncidentStatus.ACKNOWLEDGED] == 1
    assert counts[IncidentStatus.RESOLVED] == 0
