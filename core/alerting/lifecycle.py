"""The incident lifecycle: which person-made change is allowed from which status.

firing ──ack──▶ acknowledged ──resolve──▶ resolved
firing ◀──unack── acknowledged
firing, acknowledged ──silence──▶ silenced ──(expiry)──▶ the status it had before
silenced ──silence──▶ silenced (a new end)
silenced ──ack──▶ acknowledged;  firing, silenced ──resolve──▶ resolved

A resolved incident stays resolved: new alerts of its group open a new one.
(That is why there is no "reopen": a reopened incident would be a second open
incident for a group that may already have a new one.)

A change made from what a person saw (a button on a card) names the status it
was shown in (`expected`): if the incident has moved on since, nothing changes.
That also makes two presses at the same instant change it once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.alerting.models import Actor, Incident, IncidentStatus
from core.errors import ConflictError


class Command(StrEnum):
    ACK = "ack"
    UNACK = "unack"
    RESOLVE = "resolve"
    SILENCE = "silence"
    UNSILENCE = "unsilence"


_S = IncidentStatus

#: command -> statuses it may be applied in
ALLOWED: dict[Command, frozenset[IncidentStatus]] = {
    Command.ACK: frozenset({_S.FIRING, _S.SILENCED}),
    Command.UNACK: frozenset({_S.ACKNOWLEDGED}),
    Command.RESOLVE: frozenset({_S.FIRING, _S.ACKNOWLEDGED, _S.SILENCED}),
    Command.SILENCE: frozenset({_S.FIRING, _S.ACKNOWLEDGED, _S.SILENCED}),
    Command.UNSILENCE: frozenset({_S.SILENCED}),
}

_REFUSALS: dict[IncidentStatus, str] = {
    _S.RESOLVED: "is already resolved",
    _S.ACKNOWLEDGED: "is already acknowledged",
}
#: commands that undo something: refused, while open, because it is not there to undo
_NOTHING_TO_UNDO: dict[Command, str] = {
    Command.UNSILENCE: "is not silenced",
    Command.UNACK: "is not acknowledged",
}


def apply(
    incident: Incident,
    command: Command,
    *,
    actor: Actor,
    at: datetime,
    until: datetime | None = None,
    expected: IncidentStatus | None = None,
) -> Incident:
    """The incident after `command`, or ConflictError saying why not (one line).

    With `expected`, the incident must still be in that status (see the module docstring).
    """
    if expected is not None and incident.status is not expected:
        raise ConflictError(
            f"Incident #{incident.id} is {incident.status.value} now; nothing changed."
        )
    if incident.status not in ALLOWED[command]:
        reason = _REFUSALS.get(incident.status, f"is {incident.status.value}")
        if command in _NOTHING_TO_UNDO and incident.status is not _S.RESOLVED:
            reason = _NOTHING_TO_UNDO[command]
        raise ConflictError(f"Incident #{incident.id} {reason}.")
    changes: dict[str, object] = {"updated_at": at}
    if command is Command.ACK:
        changes |= _lift_silence() | {
            "status": _S.ACKNOWLEDGED,
            "acknowledged_by": actor.name,
            "acknowledged_at": at,
        }
    elif command is Command.UNACK:
        changes |= {"status": _S.FIRING, "acknowledged_by": None, "acknowledged_at": None}
    elif command is Command.RESOLVE:
        changes |= _lift_silence() | {
            "status": _S.RESOLVED,
            "resolved_by": actor.name,
            "resolved_at": at,
        }
    elif command is Command.SILENCE:
        if until is None or until <= at:
            raise ConflictError("A silence needs an end in the future.")
        prior = incident.prior_status if incident.status is _S.SILENCED else incident.status
        changes |= {
            "status": _S.SILENCED,
            "silenced_until": until,
            "silenced_by": actor.name,
            "prior_status": prior,
        }
    else:
        changes |= _lift_silence() | {"status": incident.prior_status or _S.FIRING}
    return incident.model_copy(update=changes)


def _lift_silence() -> dict[str, object]:
    return {"silenced_until": None, "silenced_by": None, "prior_status": None}


def auto_resolve(incident: Incident, *, at: datetime) -> Incident:
    """Every alert of the incident resolved: so does the incident, whatever a person did."""
    return incident.model_copy(
        update={
            "status": _S.RESOLVED,
            "resolved_by": Actor.system().name,
            "resolved_at": at,
            "updated_at": at,
            **_lift_silence(),
        }
    )
