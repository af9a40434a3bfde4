"""The signed callback codec and the incident-card keyboards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.keyboards import (
    INCIDENT_BUTTONS,
    INCIDENT_SCOPE,
    MAX_CALLBACK_DATA,
    MAX_INCIDENT_ID,
    STATUS_CODES,
    CallbackCodec,
    IncidentPress,
    InvalidCallback,
    incident_keyboard,
    incident_press,
)
from bot.render.incident import incident_card, render_incident
from core.alerting.lifecycle import ALLOWED, Command
from core.alerting.models import Incident, IncidentStatus, IncidentView, Severity

KEY = bytes(range(32))
CODEC = CallbackCodec(KEY)
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def incident(status: IncidentStatus, incident_id: int = 12) -> Incident:
    return Incident(
        id=incident_id,
        group_key="alertname=Down",
        title="Down",
        severity=Severity.HIGH,
        status=status,
        source="alertmanager",
        created_at=AT,
        updated_at=AT,
    )


def all_data(incident_id: int = 12) -> list[str]:
    """Every callback data an incident card can carry, over every status."""
    return [
        button.callback_data or ""
        for status in IncidentStatus
        for row in incident_keyboard(incident(status, incident_id), CODEC) or ()
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
    ("status", "labels"),
    [
        (IncidentStatus.FIRING, ["Ack", "Silence 1h", "Resolve"]),
        (IncidentStatus.ACKNOWLEDGED, ["Unack", "Silence 1h", "Resolve"]),
        (IncidentStatus.SILENCED, ["Ack", "Silence 1h", "Resolve"]),
    ],
)
def test_buttons_by_status(status: IncidentStatus, labels: list[str]) -> None:
    keyboard = incident_keyboard(incident(status), CODEC)
    assert keyboard is not None
    [row] = keyboard
    assert [b.text for b in row] == labels
    assert all(b.url is None for b in row)


def test_a_resolved_card_has_no_buttons() -> None:
    assert incident_keyboard(incident(IncidentStatus.RESOLVED), CODEC) is None


@pytest.mark.parametrize("status", list(INCIDENT_BUTTONS))
def test_every_button_reads_back_as_an_allowed_change_from_its_status(
    status: IncidentStatus,
) -> None:
    keyboard = incident_keyboard(incident(status, 77), CODEC)
    assert keyboard is not None
    presses = [incident_press(CODEC.decode(b.callback_data)[1]) for b in keyboard[0]]
    assert [p.command for p in presses] == list(INCIDENT_BUTTONS[status])
    for press in presses:
        assert (press.incident_id, press.seen) == (77, status)
        assert press.seen in ALLOWED[press.command]
    silence = next(p for p in presses if p.command is Command.SILENCE)
    assert silence.silence_for == timedelta(hours=1)
    assert all(p.silence_for is None for p in presses if p is not silence)


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


@pytest.mark.parametrize("status", list(IncidentStatus))
def test_the_incident_card_carries_the_keyboard_of_its_status(status: IncidentStatus) -> None:
    view = IncidentView(incident=incident(status), alerts=[])
    card = incident_card(view, chat_id=-100, buttons=CODEC)
    assert card.content.keyboard == incident_keyboard(view.incident, CODEC)
    assert card.content.text == render_incident(view).text
    assert incident_card(view, chat_id=-100).content.keyboard is None, "no codec, no buttons"
