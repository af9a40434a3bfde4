"""Inline keyboards, and the one signed callback codec every Howl button uses.

Guarantee: Howl acts only on callback data it made itself. A button's data is
`<scope>:<field>:…:<mac>`; the MAC is HMAC-SHA256 under the signing key (32
random bytes generated on first run and kept in the database, see
storage/repositories/signing_keys.py) over the scope and fields, cut to 128
bits and base64url-encoded (22 characters). Data that was edited, truncated,
made under another key or names a scope nobody handles is `InvalidCallback`,
and a press carrying it changes nothing. Scope and fields are short ASCII
tokens, so the whole string fits Telegram's 64 bytes; `encode` refuses
anything longer, so no button can be built that Telegram would reject.

Scopes, each with its builder and its parser below:
- `i` incident-card buttons: `i:<incident id>:<action>:<status seen>:<mac>`;
- `a` decision-card approvals: `a:<y|n>:<approval id>:<mac>`, the approval
  request's single-use id (a fresh UUID, not the run's) as the 22-character
  unpadded base64url of its 16 bytes (49 bytes in all).
- `k` runbook reviews: `k:<p|r>:<entry id>:<mac>` (Publish / Reject; at most
  48 bytes with the largest id).
- `d` drift-report buttons: `d:<r|a|i>:<report id>:<object index>:<mac>`
  (Roll back / Adopt / Ignore of the report's object; at most 52 bytes).
Each scope's data names what is acted on (a short id) and the key vouches
that Howl offered it; single use and expiry belong to what the id names (an
approval request, a draft runbook), not to the codec.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal
from uuid import UUID

from core.alerting.lifecycle import ALLOWED, Command
from core.alerting.models import Incident, IncidentStatus
from core.drift.models import DriftReport
from core.messages import Button, Keyboard

#: Telegram's limit for `callback_data`, in bytes
MAX_CALLBACK_DATA = 64
MAC_BYTES = 16
MAC_CHARS = 22  # base64url of 16 bytes, unpadded
SEPARATOR = ":"
#: scope and fields: what a separator can never be part of
TOKEN = re.compile(r"[0-9A-Za-z_-]{1,24}")
#: signing input starts with this, so a MAC made for something else never verifies here
DOMAIN = b"howl-callback-v1\x00"
KEY_BYTES = 32


class InvalidCallback(Exception):
    """Callback data Howl did not sign, or no longer understands."""


@dataclass(frozen=True)
class CallbackCodec:
    """Sign and verify callback data under one key (see the module docstring)."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) < KEY_BYTES:
            raise ValueError(f"a signing key needs at least {KEY_BYTES} bytes")

    def encode(self, scope: str, *fields: str) -> str:
        """Signed data for a button; ValueError if it could not fit in 64 bytes."""
        parts = (scope, *fields)
        bad = [p for p in parts if not TOKEN.fullmatch(p)]
        if bad:
            raise ValueError(f"callback tokens must match {TOKEN.pattern}: {bad!r}")
        payload = SEPARATOR.join(parts)
        data = f"{payload}{SEPARATOR}{self._mac(payload)}"
        if len(data.encode()) > MAX_CALLBACK_DATA:
            raise ValueError(f"callback data over {MAX_CALLBACK_DATA} bytes: {payload!r}")
        return data

    def decode(self, data: str | None) -> tuple[str, tuple[str, ...]]:
        """(scope, fields) of data this codec signed; InvalidCallback for anything else."""
        if not data or len(data.encode()) > MAX_CALLBACK_DATA:
            raise InvalidCallback("empty or too long")
        payload, separator, mac = data.rpartition(SEPARATOR)
        # compared as bytes, in constant time whatever the length or characters sent
        if not separator or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            raise InvalidCallback("bad signature")
        scope, *fields = payload.split(SEPARATOR)
        return scope, tuple(fields)

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self.key, DOMAIN + payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:MAC_BYTES]).rstrip(b"=").decode()


# --- incident cards ----------------------------------------------------------------

INCIDENT_SCOPE = "i"
SILENCE_FOR = timedelta(hours=1)
#: largest incident id a button can carry (the BIGINT primary key)
MAX_INCIDENT_ID = 2**63 - 1


@dataclass(frozen=True)
class _Action:
    code: str
    label: str
    command: Command
    silence_for: timedelta | None = None


ACTIONS = (
    _Action("a", "Ack", Command.ACK),
    _Action("u", "Unack", Command.UNACK),
    _Action("s", "Silence 1h", Command.SILENCE, SILENCE_FOR),
    _Action("r", "Resolve", Command.RESOLVE),
)
_BY_CODE = {a.code: a for a in ACTIONS}
_BY_COMMAND = {a.command: a for a in ACTIONS}
STATUS_CODES: dict[IncidentStatus, str] = {
    IncidentStatus.FIRING: "f",
    IncidentStatus.ACKNOWLEDGED: "a",
    IncidentStatus.SILENCED: "s",
    IncidentStatus.RESOLVED: "r",
}
_STATUS_BY_CODE = {code: status for status, code in STATUS_CODES.items()}


def incident_commands(incident: Incident) -> tuple[Command, ...]:
    """The buttons a card shows: what is still open to a person, never what is done.

    A resolved card has none: the lifecycle has no way back from resolved (new
    alerts of the group open a new incident). A silenced incident that was
    acknowledged before offers no second Ack (the card's hints say the same).
    """
    status = incident.status
    if status is IncidentStatus.FIRING:
        return (Command.ACK, Command.SILENCE, Command.RESOLVE)
    if status is IncidentStatus.ACKNOWLEDGED:
        return (Command.UNACK, Command.SILENCE, Command.RESOLVE)
    if status is IncidentStatus.SILENCED:
        acked = incident.acknowledged_at is not None
        return (Command.RESOLVE,) if acked else (Command.ACK, Command.RESOLVE)
    return ()


@dataclass(frozen=True)
class IncidentPress:
    """A press on an incident card: what to do, and the status the card showed."""

    incident_id: int
    command: Command
    seen: IncidentStatus
    silence_for: timedelta | None


def incident_keyboard(incident: Incident, codec: CallbackCodec) -> Keyboard | None:
    """One row of buttons for the card's status; None when there is nothing to do."""
    commands = incident_commands(incident)
    if not commands:
        return None
    status = STATUS_CODES[incident.status]
    return (
        tuple(
            Button(
                text=_BY_COMMAND[command].label,
                callback_data=codec.encode(
                    INCIDENT_SCOPE, str(incident.id), _BY_COMMAND[command].code, status
                ),
            )
            for command in commands
        ),
    )


def incident_press(fields: tuple[str, ...]) -> IncidentPress:
    """The fields of a signed `i` button, read back; InvalidCallback if they make no sense."""
    if len(fields) != 3:
        raise InvalidCallback("incident button: wrong field count")
    raw_id, code, status_code = fields
    action, seen = _BY_CODE.get(code), _STATUS_BY_CODE.get(status_code)
    if not (raw_id.isascii() and raw_id.isdigit()) or action is None or seen is None:
        raise InvalidCallback("incident button: unknown field")
    incident_id = int(raw_id)
    if not 0 < incident_id <= MAX_INCIDENT_ID or seen not in ALLOWED[action.command]:
        raise InvalidCallback("incident button: out of range")
    return IncidentPress(incident_id, action.command, seen, action.silence_for)


# --- approvals (decision cards) -------------------------------------------------------

APPROVAL_SCOPE = "a"
Verdict = Literal["approve", "reject"]
#: verb code -> (what the press means, the button's label); approve first, as shown
APPROVAL_VERBS: dict[str, tuple[Verdict, str]] = {
    "y": ("approve", "Approve"),
    "n": ("reject", "Reject"),
}
_VERDICTS: dict[str, Verdict] = {code: verdict for code, (verdict, _) in APPROVAL_VERBS.items()}
UUID_CHARS = 22  # base64url of 16 bytes, unpadded


def short_uuid(value: UUID) -> str:
    """The UUID's 16 bytes as 22 base64url characters (a callback token).

    >>> short_uuid(UUID(int=0))
    'AAAAAAAAAAAAAAAAAAAAAA'
    """
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


def uuid_of(token: str) -> UUID:
    """`short_uuid` read back; InvalidCallback unless `token` is exactly what it makes.

    >>> uuid_of(short_uuid(UUID(int=7))) == UUID(int=7)
    True
    """
    if len(token) != UUID_CHARS:
        raise InvalidCallback("approval button: bad id")
    try:
        raw = base64.b64decode(token + "==", altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCallback("approval button: bad id") from exc
    # 22 characters carry 132 bits: the 4 spare ones must be zero, so one id has one spelling
    if len(raw) != 16 or short_uuid(UUID(bytes=raw)) != token:
        raise InvalidCallback("approval button: bad id")
    return UUID(bytes=raw)


def approval_keyboard(codec: CallbackCodec, approval_id: UUID) -> Keyboard:
    """Approve / Reject for an approval request's waiting action, one row."""
    token = short_uuid(approval_id)
    return (
        tuple(
            Button(text=label, callback_data=codec.encode(APPROVAL_SCOPE, verb, token))
            for verb, (_, label) in APPROVAL_VERBS.items()
        ),
    )


def parse_approval(codec: CallbackCodec, data: str | None) -> tuple[Verdict, UUID]:
    """(approve or reject, approval id) of a signed `a` button; InvalidCallback otherwise.

    That the press may still count (approver, single use, expiry) is the approval's
    business, not the button's.
    """
    scope, fields = codec.decode(data)
    if scope != APPROVAL_SCOPE:
        raise InvalidCallback("not an approval button")
    return approval_press(fields)


def approval_press(fields: tuple[str, ...]) -> tuple[Verdict, UUID]:
    """The fields of a signed `a` button, read back; InvalidCallback if they make no sense."""
    if len(fields) != 2:
        raise InvalidCallback("approval button: wrong field count")
    verb, token = fields
    verdict = _VERDICTS.get(verb)
    if verdict is None:
        raise InvalidCallback("approval button: unknown verb")
    return verdict, uuid_of(token)


# --- runbook reviews ---------------------------------------------------------------

KNOWLEDGE_SCOPE = "k"
Review = Literal["publish", "reject"]
#: verb code -> (what the press means, the button's label); publish first, as shown
REVIEW_VERBS: dict[str, tuple[Review, str]] = {
    "p": ("publish", "Publish"),
    "r": ("reject", "Reject"),
}
_REVIEWS: dict[str, Review] = {code: review for code, (review, _) in REVIEW_VERBS.items()}


def review_keyboard(codec: CallbackCodec, entry_id: int) -> Keyboard:
    """Publish / Reject for a draft runbook, one row."""
    return (
        tuple(
            Button(text=label, callback_data=codec.encode(KNOWLEDGE_SCOPE, verb, str(entry_id)))
            for verb, (_, label) in REVIEW_VERBS.items()
        ),
    )


def review_press(fields: tuple[str, ...]) -> tuple[Review, int]:
    """(publish or reject, entry id) of a signed `k` button; InvalidCallback if they make no sense.

    >>> review_press(("p", "12"))
    ('publish', 12)
    """
    if len(fields) != 2:
        raise InvalidCallback("runbook button: wrong field count")
    verb, raw_id = fields
    review = _REVIEWS.get(verb)
    if review is None or not (raw_id.isascii() and raw_id.isdigit()):
        raise InvalidCallback("runbook button: unknown field")
    entry_id = int(raw_id)
    if not 0 < entry_id <= MAX_INCIDENT_ID:
        raise InvalidCallback("runbook button: out of range")
    return review, entry_id


# --- drift reports ------------------------------------------------------------------

DRIFT_SCOPE = "d"
DriftVerb = Literal["rollback", "adopt", "ignore"]
#: verb code -> (what the press asks for, the button's label), in the order shown
DRIFT_VERBS: dict[str, tuple[DriftVerb, str]] = {
    "r": ("rollback", "↩️ Roll back"),
    "a": ("adopt", "📥 Adopt"),
    "i": ("ignore", "🔕 Ignore"),
}
_DRIFT_VERBS: dict[str, DriftVerb] = {code: verb for code, (verb, _) in DRIFT_VERBS.items()}
#: objects a card offers buttons for (a row each); the rest are listed, not offered
DRIFT_BUTTON_ROWS = 5
MAX_DRIFT_INDEX = 99


@dataclass(frozen=True)
class DriftPress:
    """A press on a drift card: which operation, on which object of which stored report.

    The press handler (wired with approvals) loads the report with
    `DriftStore.get_report(report_id)`, asks for approval, records it in the audit
    log, then calls `core.drift.operations.roll_back` / `adopt` / `ignore` with
    `index`.
    """

    verb: DriftVerb
    report_id: UUID
    index: int


def drift_keyboard(codec: CallbackCodec, report: DriftReport) -> Keyboard | None:
    """A row per drifted object (up to DRIFT_BUTTON_ROWS): what can be done with it.

    Roll back needs a desired file (an extra object has none); Adopt needs the live
    object (a missing one, or a Secret whose values Howl never keeps, has none).
    """
    rows: list[tuple[Button, ...]] = []
    token = short_uuid(report.id)
    several = len(report.objects) > 1
    for index, obj in enumerate(report.objects[:DRIFT_BUTTON_ROWS]):
        offered = {
            "r": obj.desired_file is not None,
            "a": obj.live is not None,
            "i": True,
        }
        rows.append(
            tuple(
                Button(
                    text=f"{label} #{index + 1}" if several else label,
                    callback_data=codec.encode(DRIFT_SCOPE, code, token, str(index)),
                )
                for code, (_, label) in DRIFT_VERBS.items()
                if offered[code]
            )
        )
    return tuple(rows) or None


def drift_press(fields: tuple[str, ...]) -> DriftPress:
    """The fields of a signed `d` button, read back; InvalidCallback if they make no sense."""
    if len(fields) != 3:
        raise InvalidCallback("drift button: wrong field count")
    code, token, raw_index = fields
    verb = _DRIFT_VERBS.get(code)
    if verb is None:
        raise InvalidCallback("drift button: unknown verb")
    if not (raw_index.isascii() and raw_index.isdigit()) or len(raw_index) > 2:
        raise InvalidCallback("drift button: bad object index")
    index = int(raw_index)
    if str(index) != raw_index or index > MAX_DRIFT_INDEX:
        raise InvalidCallback("drift button: bad object index")
    return DriftPress(verb, uuid_of(token), index)


def parse_drift(codec: CallbackCodec, data: str | None) -> DriftPress:
    """The press a signed `d` button asks for; InvalidCallback for anything else."""
    scope, fields = codec.decode(data)
    if scope != DRIFT_SCOPE:
        raise InvalidCallback("not a drift button")
    return drift_press(fields)
