"""The incident lifecycle: which person-made change is allowed from which status.

firing ──ack──▶ acknowledged ──resolve──▶ resolved
  │  ╲                │
  │   silence ──▶ silenced ──(expiry)──▶ the status it had before
  └──resolve──▶ resolved

A resolved incident stays resolved: new alerts of its group open a new one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.alerting.models import Actor, Incident, IncidentStatus
from core.errors import ConflictError


class Command(StrEnum):
    ACK = "ack"
    RESOLVE = "resolve"
    SILENCE = "silence"
    UNSILENCE = "unsilence"


_S = IncidentStatus

#: command -> statuses it may be applied in
ALLOWED: dict[Command, frozenset[IncidentStatus]] = {
    Command.ACK: frozenset({_S.FIRING, _S.SILENCED}),
    Command.RESOLVE: frozenset({_S.FIRING, _S.ACKNOWLEDGED, _S.SILENCED}),
    Command.SILENCE: frozenset({_S.FIRING, _S.ACKNOWLEDGED, _S.SILENCED}),
    Command.UNSILENCE: frozenset({_S.SILENCED}),
}

_REFUSALS: dict[IncidentStatus, str] = {
    _S.RESOLVED: "is already resolved",
    _S.ACKNOWLEDGED: "is already acknowledged",
    _S.FIRING: "is not silenced",
}


def apply(
    incident: Incident,
    command: Command,
    *,
    actor: Actor,
    at: datetime,
    until: datetime | None = None,
) -> Incident:
    """The incident after `command`, or ConflictError saying why not (one line)."""
    if incident.status not in ALLOWED[command]:
        reason = _REFUSALS.get(incident.status, f"is {incident.status.value}")
        if command is Command.UNSILENCE and incident.status is not _S.RESOLVED:
            reason = "is not silenced"
        raise ConflictError(f"Incident #{incident.id} {reason}.")
    changes: dict[str, object] = {"updated_at": at}
    if command is Command.ACK:
        changes |= _lift_silence() | {
            "status": _S.ACKNOWLEDGED,
            "acknowledged_by": actor.name,
            "acknowledged_at": at,
        }
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
