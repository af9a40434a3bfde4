"""The incident lifecycle: every command from every status, and the one-line refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.alerting.lifecycle import ALLOWED, Command, apply, auto_resolve
from core.alerting.models import Actor, Incident, IncidentStatus, Severity
from core.errors import ConflictError

S = IncidentStatus
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNTIL = AT + timedelta(hours=1)
ALICE = Actor(id="tg:1", name="Alice")


def incident(status: IncidentStatus, **fields: object) -> Incident:
    values: dict[str, object] = {
        "id": 3,
        "group_key": "alertname=Down",
        "title": "Down",
        "severity": Severity.HIGH,
        "status": status,
        "source": "alertmanager",
        "created_at": OPENED,
        "updated_at": OPENED,
        "alert_count": 2,
        "firing_count": 1,
    }
    if status is S.SILENCED:
        values |= {
            "silenced_until": AT + timedelta(minutes=5),
            "silenced_by": "Bob",
            "prior_status": S.FIRING,
        }
    if status is S.ACKNOWLEDGED:
        values |= {"acknowledged_by": "Bob", "acknowledged_at": OPENED}
    if status is S.RESOLVED:
        values |= {"resolved_by": "Bob", "resolved_at": OPENED}
    values |= fields
    return Incident.model_validate(values)


#: (command, status) -> the status it leads to, or the refusal
TABLE: dict[tuple[Command, IncidentStatus], IncidentStatus | str] = {
    (Command.ACK, S.FIRING): S.ACKNOWLEDGED,
    (Command.ACK, S.ACKNOWLEDGED): "Incident #3 is already acknowledged.",
    (Command.ACK, S.SILENCED): S.ACKNOWLEDGED,
    (Command.ACK, S.RESOLVED): "Incident #3 is already resolved.",
    (Command.UNACK, S.FIRING): "Incident #3 is not acknowledged.",
    (Command.UNACK, S.ACKNOWLEDGED): S.FIRING,
    (Command.UNACK, S.SILENCED): "Incident #3 is not acknowledged.",
    (Command.UNACK, S.RESOLVED): "Incident #3 is already resolved.",
    (Command.RESOLVE, S.FIRING): S.RESOLVED,
    (Command.RESOLVE, S.ACKNOWLEDGED): S.RESOLVED,
    (Command.RESOLVE, S.SILENCED): S.RESOLVED,
    (Command.RESOLVE, S.RESOLVED): "Incident #3 is already resolved.",
    (Command.SILENCE, S.FIRING): S.SILENCED,
    (Command.SILENCE, S.ACKNOWLEDGED): S.SILENCED,
    (Command.SILENCE, S.SILENCED): S.SILENCED,
    (Command.SILENCE, S.RESOLVED): "Incident #3 is already resolved.",
    (Command.UNSILENCE, S.FIRING): "Incident #3 is not silenced.",
    (Command.UNSILENCE, S.ACKNOWLEDGED): "Incident #3 is not silenced.",
    (Command.UNSILENCE, S.SILENCED): S.FIRING,
    (Command.UNSILENCE, S.RESOLVED): "Incident #3 is already resolved.",
}


def test_the_table_covers_every_command_and_status() -> None:
    assert set(TABLE) == {(c, s) for c in Command for s in IncidentStatus}
    for command in Command:
        allowed = {s for s in IncidentStatus if isinstance(TABLE[command, s], IncidentStatus)}
        assert allowed == ALLOWED[command]


@pytest.mark.parametrize(("command", "status"), sorted(TABLE))
def test_transition(command: Command, status: IncidentStatus) -> None:
    before = incident(status)
    expected = TABLE[command, status]
    if not isinstance(expected, IncidentStatus):  # (a StrEnum is a str too)
        with pytest.raises(ConflictError) as caught:
            apply(before, command, actor=ALICE, at=AT, until=UNTIL)
        assert str(caught.value) == expected
        return
    after = apply(before, command, actor=ALICE, at=AT, until=UNTIL)
    assert after.status is expected
    assert after.updated_at == AT
    assert before.status is status, "apply returns a new incident and leaves the old one"
    # what a command never touches
    same = ("id", "group_key", "title", "severity", "alert_count", "firing_count", "created_at")
    assert after.model_dump(include=set(same)) == before.model_dump(include=set(same))


def test_ack_records_who_and_when() -> None:
    after = apply(incident(S.FIRING), Command.ACK, actor=ALICE, at=AT)
    assert (after.acknowledged_by, after.acknowledged_at) == ("Alice", AT)
    assert after.resolved_by is None and after.resolved_at is None


def test_unack_forgets_who_acknowledged() -> None:
    after = apply(incident(S.ACKNOWLEDGED), Command.UNACK, actor=ALICE, at=AT)
    assert after.status is S.FIRING
    assert (after.acknowledged_by, after.acknowledged_at) == (None, None)


@pytest.mark.parametrize(("command", "status"), sorted(TABLE))
def test_a_change_from_a_status_no_longer_current_is_refused(
    command: Command, status: IncidentStatus
) -> None:
    for seen in IncidentStatus:
        if seen is status:
            continue
        with pytest.raises(ConflictError) as caught:
            apply(incident(status), command, actor=ALICE, at=AT, until=UNTIL, expected=seen)
        assert str(caught.value) == f"Incident #3 is {status.value} now; nothing changed."


@pytest.mark.parametrize(("command", "status"), sorted(TABLE))
def test_a_change_from_the_current_status_is_the_plain_change(
    command: Command, status: IncidentStatus
) -> None:
    def outcome(**expected: IncidentStatus) -> object:
        try:
            return apply(incident(status), command, actor=ALICE, at=AT, until=UNTIL, **expected)
        except ConflictError as exc:
            return str(exc)

    assert outcome(expected=status) == outcome()


def test_ack_lifts_a_silence() -> None:
    after = apply(incident(S.SILENCED), Command.ACK, actor=ALICE, at=AT)
    assert after.status is S.ACKNOWLEDGED
    assert (after.silenced_until, after.silenced_by, after.prior_status) == (None, None, None)
    assert after.acknowledged_by == "Alice"


def test_resolve_records_who_and_lifts_a_silence() -> None:
    after = apply(incident(S.SILENCED), Command.RESOLVE, actor=ALICE, at=AT)
    assert (after.status, after.resolved_by, after.resolved_at) == (S.RESOLVED, "Alice", AT)
    assert (after.silenced_until, after.silenced_by, after.prior_status) == (None, None, None)
    assert not after.is_open


def test_resolve_keeps_the_acknowledgement() -> None:
    after = apply(incident(S.ACKNOWLEDGED), Command.RESOLVE, actor=ALICE, at=AT)
    assert (after.acknowledged_by, after.acknowledged_at) == ("Bob", OPENED)


@pytest.mark.parametrize("status", [S.FIRING, S.ACKNOWLEDGED])
def test_silence_remembers_the_status_to_return_to(status: IncidentStatus) -> None:
    after = apply(incident(status), Command.SILENCE, actor=ALICE, at=AT, until=UNTIL)
    assert (after.status, after.silenced_until, after.silenced_by) == (S.SILENCED, UNTIL, "Alice")
    assert after.prior_status is status


def test_silencing_again_extends_and_keeps_the_first_prior_status() -> None:
    silenced = incident(S.SILENCED, prior_status=S.ACKNOWLEDGED)
    later = UNTIL + timedelta(hours=3)
    after = apply(silenced, Command.SILENCE, actor=ALICE, at=AT, until=later)
    assert (after.silenced_until, after.silenced_by) == (later, "Alice")
    assert after.prior_status is S.ACKNOWLEDGED


@pytest.mark.parametrize("until", [None, AT, AT - timedelta(seconds=1)])
@pytest.mark.parametrize("status", [S.FIRING, S.ACKNOWLEDGED, S.SILENCED])
def test_silence_needs_an_end_in_the_future(status: IncidentStatus, until: datetime | None) -> None:
    with pytest.raises(ConflictError) as caught:
        apply(incident(status), Command.SILENCE, actor=ALICE, at=AT, until=until)
    assert str(caught.value) == "A silence needs an end in the future."


def test_silencing_a_resolved_incident_says_it_is_resolved_before_checking_the_end() -> None:
    with pytest.raises(ConflictError) as caught:
        apply(incident(S.RESOLVED), Command.SILENCE, actor=ALICE, at=AT, until=None)
    assert str(caught.value) == "Incident #3 is already resolved."


@pytest.mark.parametrize("prior", [S.FIRING, S.ACKNOWLEDGED])
def test_unsilence_returns_to_the_prior_status(prior: IncidentStatus) -> None:
    silenced = apply(incident(prior), Command.SILENCE, actor=ALICE, at=AT, until=UNTIL)
    after = apply(silenced, Command.UNSILENCE, actor=Actor.system(), at=UNTIL)
    assert after.status is prior
    assert (after.silenced_until, after.silenced_by, after.prior_status) == (None, None, None)
    assert after.updated_at == UNTIL
    if prior is S.ACKNOWLEDGED:
        assert after.acknowledged_by == "Bob", "the acknowledgement survives the silence"


def test_unsilence_without_a_prior_status_fires() -> None:
    after = apply(incident(S.SILENCED, prior_status=None), Command.UNSILENCE, actor=ALICE, at=AT)
    assert after.status is S.FIRING


def test_refusal_names_the_incident() -> None:
    with pytest.raises(ConflictError) as caught:
        apply(incident(S.RESOLVED, id=42), Command.ACK, actor=ALICE, at=AT)
    assert str(caught.value) == "Incident #42 is already resolved."


@pytest.mark.parametrize("status", list(IncidentStatus))
def test_auto_resolve_from_any_status(status: IncidentStatus) -> None:
    after = auto_resolve(incident(status), at=AT)
    assert after.status is S.RESOLVED
    assert (after.resolved_by, after.resolved_at, after.updated_at) == ("Howl", AT, AT)
    assert (after.silenced_until, after.silenced_by, after.prior_status) == (None, None, None)
