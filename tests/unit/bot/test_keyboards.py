"""The signed callback codec and the incident-card keyboards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from bot.keyboards import (
    APPROVAL_SCOPE,
    INCIDENT_SCOPE,
    MAX_CALLBACK_DATA,
    MAX_INCIDENT_ID,
    STATUS_CODES,
    CallbackCodec,
    IncidentPress,
    InvalidCallback,
    approval_keyboard,
    incident_commands,
    incident_keyboard,
    incident_press,
    parse_approval,
    short_uuid,
    uuid_of,
)
from bot.render.incident import incident_card, next_steps, render_incident
from core.alerting.lifecycle import ALLOWED, Command
from core.alerting.models import Incident, IncidentStatus, IncidentView, Severity

KEY = bytes(range(32))
CODEC = CallbackCodec(KEY)
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def incident(status: IncidentStatus, incident_id: int = 12, *, acked: bool = False) -> Incident:
    return Incident(
        id=incident_id,
        group_key="alertname=Down",
        title="Down",
        severity=Severity.HIGH,
        status=status,
        source="alertmanager",
        created_at=AT,
        updated_at=AT,
        acknowledged_by="Bob" if acked or status is IncidentStatus.ACKNOWLEDGED else None,
        acknowledged_at=AT if acked or status is IncidentStatus.ACKNOWLEDGED else None,
    )


#: every kind of card: each status, and a silence over an acknowledged incident
CARDS = [incident(s) for s in IncidentStatus] + [incident(IncidentStatus.SILENCED, acked=True)]


def all_data(incident_id: int = 12) -> list[str]:
    """Every callback data an incident card can carry, over every status."""
    return [
        button.callback_data or ""
        for card in CARDS
        for row in incident_keyboard(card.model_copy(update={"id": incident_id}), CODEC) or ()
        for button in row
    ]


# --- the codec ----------------------------------------------------------------------


def test_decode_gives_back_what_was_encoded() -> None:
    data = CODEC.encode("i", "12", "a", "f")
    assert data.startswith("i:12:a:f:")
    assert CODEC.decode(data) == ("i", ("12", "a", "f"))


def test_the_longest_incident_button_fits_in_64_bytes() -> None:
    longest = max(all_data(MAX_INCIDENT_ID), key=lambda d: len(d.encode()))
    assert longest.startswith(f"i:{MAX_INCIDENT_ID}:")
    assert len(longest.encode()) == 48 <= MAX_CALLBACK_DATA
    assert CODEC.decode(longest)[0] == INCIDENT_SCOPE


def test_encode_refuses_what_would_not_fit() -> None:
    fits = "x" * 24
    CODEC.encode("a", fits)  # 2 + 24 + 1 + 22 = 49 bytes
    with pytest.raises(ValueError, match="over 64 bytes"):
        CODEC.encode("a", fits, "y" * 16)  # 66 bytes


@pytest.mark.parametrize("token", ["", "a:b", "ü", "a b", "x" * 25])
def test_encode_refuses_tokens_that_could_be_misread(token: str) -> None:
    with pytest.raises(ValueError, match="callback tokens must match"):
        CODEC.encode("i", token)


def test_every_single_character_changed_is_rejected() -> None:
    data = CODEC.encode("i", "12", "r", "a")
    for index in range(len(data)):
        for other in "0aZ:-_é":
            if data[index] == other:
                continue
            forged = data[:index] + other + data[index + 1 :]
            with pytest.raises(InvalidCallback):
                CODEC.decode(forged)


def test_every_truncation_is_rejected() -> None:
    data = CODEC.encode("i", "12", "r", "a")
    for end in range(len(data)):
        with pytest.raises(InvalidCallback):
            CODEC.decode(data[:end])


def test_another_key_does_not_verify() -> None:
    other = CallbackCodec(bytes(32))
    with pytest.raises(InvalidCallback, match="bad signature"):
        CODEC.decode(other.encode("i", "12", "a", "f"))


def test_a_real_mac_moved_onto_other_fields_is_rejected() -> None:
    _, _, mac = CODEC.encode("i", "12", "a", "f").rpartition(":")
    with pytest.raises(InvalidCallback, match="bad signature"):
        CODEC.decode(f"i:13:a:f:{mac}")


@pytest.mark.parametrize(
    "data",
    [None, "", "ack:12", "i:12:a:f", "x" * 65, "é" * 40, "i:12:a:f:" + "A" * 22, "🙂:🙂"],
)
def test_unsigned_or_odd_data_is_rejected(data: str | None) -> None:
    with pytest.raises(InvalidCallback):
        CODEC.decode(data)


def test_the_key_is_long_and_never_shown() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        CallbackCodec(b"short")
    assert KEY.hex() not in repr(CODEC) and str(KEY) not in repr(CODEC)


# --- incident keyboards ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "labels"),
    [
        (incident(IncidentStatus.FIRING), ["Ack", "Silence 1h", "Resolve"]),
        (incident(IncidentStatus.ACKNOWLEDGED), ["Unack", "Silence 1h", "Resolve"]),
        (incident(IncidentStatus.SILENCED), ["Ack", "Resolve"]),
        (incident(IncidentStatus.SILENCED, acked=True), ["Resolve"]),
    ],
)
def test_buttons_by_status(card: Incident, labels: list[str]) -> None:
    keyboard = incident_keyboard(card, CODEC)
    assert keyboard is not None
    [row] = keyboard
    assert [b.text for b in row] == labels
    assert all(b.url is None for b in row)


def test_a_resolved_card_has_no_buttons() -> None:
    assert incident_keyboard(incident(IncidentStatus.RESOLVED), CODEC) is None


@pytest.mark.parametrize("card", CARDS)
def test_the_buttons_are_the_cards_next_steps(card: Incident) -> None:
    """The hint line and the buttons never disagree (Unack has no command, so no hint)."""
    hinted = [step.split()[0].removeprefix("/") for step in next_steps(card)]
    shown = [c.value for c in incident_commands(card) if c is not Command.UNACK]
    assert shown == hinted


@pytest.mark.parametrize("card", [c for c in CARDS if incident_commands(c)])
def test_every_button_reads_back_as_an_allowed_change_from_its_status(card: Incident) -> None:
    keyboard = incident_keyboard(card.model_copy(update={"id": 77}), CODEC)
    assert keyboard is not None
    presses = [incident_press(CODEC.decode(b.callback_data)[1]) for b in keyboard[0]]
    assert [p.command for p in presses] == list(incident_commands(card))
    for press in presses:
        assert (press.incident_id, press.seen) == (77, card.status)
        assert press.seen in ALLOWED[press.command]
        silence_for = timedelta(hours=1) if press.command is Command.SILENCE else None
        assert press.silence_for == silence_for


def test_incident_press_reads_the_fields() -> None:
    assert incident_press(("9", "u", "a")) == IncidentPress(
        9, Command.UNACK, IncidentStatus.ACKNOWLEDGED, None
    )


@pytest.mark.parametrize(
    "fields",
    [
        (),
        ("12", "a"),
        ("12", "a", "f", "x"),
        ("x", "a", "f"),
        ("0", "a", "f"),
        ("-1", "a", "f"),
        ("²", "a", "f"),
        (str(MAX_INCIDENT_ID + 1), "a", "f"),
        ("12", "z", "f"),
        ("12", "a", "z"),
        ("12", "a", "a"),  # Ack from acknowledged: no card ever offers it
        ("12", "u", "f"),
        ("12", "r", STATUS_CODES[IncidentStatus.RESOLVED]),
    ],
)
def test_fields_no_card_could_carry_are_rejected(fields: tuple[str, ...]) -> None:
    with pytest.raises(InvalidCallback, match=r"^incident button"):
        incident_press(fields)


@pytest.mark.parametrize("card", CARDS)
def test_the_incident_card_carries_the_keyboard_of_its_status(card: Incident) -> None:
    view = IncidentView(incident=card, alerts=[])
    card = incident_card(view, chat_id=-100, buttons=CODEC)
    assert card.content.keyboard == incident_keyboard(view.incident, CODEC)
    assert card.content.text == render_incident(view).text
    assert incident_card(view, chat_id=-100).content.keyboard is None, "no codec, no buttons"


# --- approval keyboards ---------------------------------------------------------------

RUN = UUID("019b76da-7c4e-7a31-9f2b-3c5d8e1f0a42")
#: the ids whose base64url spelling is all `-`/`_` or all `A`, and an ordinary one
RUNS = [UUID(int=0), UUID(int=2**128 - 1), RUN]


def approval_data(run_id: UUID = RUN) -> tuple[str, str]:
    [row] = approval_keyboard(CODEC, run_id)
    approve, reject = (button.callback_data or "" for button in row)
    return approve, reject


def test_the_approval_row_is_approve_then_reject() -> None:
    [row] = approval_keyboard(CODEC, RUN)
    assert [b.text for b in row] == ["Approve", "Reject"]
    assert all(b.url is None for b in row)


@pytest.mark.parametrize("run_id", RUNS)
def test_approval_buttons_read_back_as_what_they_offer(run_id: UUID) -> None:
    approve, reject = approval_data(run_id)
    assert parse_approval(CODEC, approve) == ("approve", run_id)
    assert parse_approval(CODEC, reject) == ("reject", run_id)


@pytest.mark.parametrize("run_id", RUNS)
def test_approval_data_is_its_documented_shape_within_64_bytes(run_id: UUID) -> None:
    for data, verb in zip(approval_data(run_id), "yn", strict=True):
        scope, got_verb, token, mac = data.split(":")
        assert (scope, got_verb) == (APPROVAL_SCOPE, verb)
        assert len(token) == 22 and uuid_of(token) == run_id
        assert len(mac) == 22
        # every UUID has 16 bytes, so every approval button is exactly this long
        assert len(data.encode()) == 1 + 1 + 1 + 1 + 22 + 1 + 22 == 49 <= MAX_CALLBACK_DATA


def test_every_single_character_changed_in_an_approval_is_rejected() -> None:
    approve, _ = approval_data()
    for index in range(len(approve)):
        for other in "0aZ:-_éy":
            if approve[index] == other:
                continue
            with pytest.raises(InvalidCallback):
                parse_approval(CODEC, approve[:index] + other + approve[index + 1 :])


def test_every_truncated_approval_is_rejected() -> None:
    approve, _ = approval_data()
    for end in range(len(approve)):
        with pytest.raises(InvalidCallback):
            parse_approval(CODEC, approve[:end])


def test_an_approval_under_another_key_is_rejected() -> None:
    [row] = approval_keyboard(CallbackCodec(bytes(32)), RUN)
    with pytest.raises(InvalidCallback, match="bad signature"):
        parse_approval(CODEC, row[0].callback_data)


def test_turning_a_reject_into_an_approve_is_rejected() -> None:
    _, reject = approval_data()
    _, _, mac = reject.rpartition(":")
    with pytest.raises(InvalidCallback, match="bad signature"):
        parse_approval(CODEC, f"a:y:{short_uuid(RUN)}:{mac}")


def test_another_scopes_signed_data_is_not_an_approval() -> None:
    [row] = incident_keyboard(incident(IncidentStatus.FIRING), CODEC) or ()
    with pytest.raises(InvalidCallback, match="not an approval button"):
        parse_approval(CODEC, row[0].callback_data)
    # nor is an approval an incident press
    approve, _ = approval_data()
    scope, fields = CODEC.decode(approve)
    assert scope != INCIDENT_SCOPE
    with pytest.raises(InvalidCallback):
        incident_press(fields)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        (("y",), "wrong field count"),
        (("y", short_uuid(RUN), "x"), "wrong field count"),
        (("approve", short_uuid(RUN)), "unknown verb"),
        (("Y", short_uuid(RUN)), "unknown verb"),
        (("y", short_uuid(RUN)[:21]), "bad id"),
        (("y", short_uuid(RUN) + "A"), "bad id"),
        (("y", RUN.hex[:22]), "bad id"),  # 22 hex digits are not its base64url
        (("y", "AAAAAAAAAAAAAAAAAAAAAB"), "bad id"),  # spare bits set: a second spelling
    ],
)
def test_signed_approval_fields_no_card_could_carry_are_rejected(
    fields: tuple[str, ...], why: str
) -> None:
    """Signed by our key, yet not what `approval_keyboard` makes: still refused."""
    with pytest.raises(InvalidCallback, match=why):
        parse_approval(CODEC, CODEC.encode(APPROVAL_SCOPE, *fields))


@pytest.mark.parametrize("data", [None, "", "a:y", "a:y:" + "A" * 22, "🙂"])
def test_unsigned_approval_data_is_rejected(data: str | None) -> None:
    with pytest.raises(InvalidCallback):
        parse_approval(CODEC, data)


def test_short_uuid_is_the_ids_bytes() -> None:
    assert short_uuid(UUID(int=2**128 - 1)) == "_" * 21 + "w"
    assert uuid_of(short_uuid(RUN)) == RUN
