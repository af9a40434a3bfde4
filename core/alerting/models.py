"""Alerts and incidents as values."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse."""
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class Alert(BaseModel):
    """One alert state as a sender reported it, normalised."""

    fingerprint: str = Field(min_length=1, max_length=64)
    status: AlertStatus
    severity: Severity
    name: str = Field(min_length=1, max_length=200)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str | None = None
    source: str
    #: the sender stated `starts_at`; false when Howl stamped it on receipt, so two
    #: posts of the same status are the same state whatever their times
    sender_start: bool = True

    @property
    def summary(self) -> str:
        """The one line a person reads first."""
        for key in ("summary", "message", "description", "title"):
            # str.strip() also removes separators (\x1c-\x1f) a sender may think are text
            lines = self.annotations.get(key, "").strip().splitlines()
            if lines and lines[0].strip():
                return lines[0].strip()
        return self.name


class IncidentStatus(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    SILENCED = "silenced"
    RESOLVED = "resolved"


class Incident(BaseModel):
    """A group of alerts that one on-call person handles as one thing."""

    id: int
    group_key: str
    title: str
    severity: Severity
    status: IncidentStatus
    labels: dict[str, str] = Field(default_factory=dict)
    source: str
    created_at: datetime
    updated_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    silenced_until: datetime | None = None
    silenced_by: str | None = None
    #: the status a silence returns to when it ends
    prior_status: IncidentStatus | None = None
    #: distinct alerts (fingerprints) in the incident, and how many of them fire
    alert_count: int = 0
    firing_count: int = 0
    #: when the incident was last announced again while firing unacknowledged (re-notify)
    renotified_at: datetime | None = None
    #: the silence mirrored in Alertmanager; kept until Alertmanager has expired it
    alertmanager_silence_id: str | None = None
    #: why the last silence could not be mirrored in Alertmanager (the card says so)
    alertmanager_error: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED


class DebateProgress(BaseModel):
    """Where the incident's latest debate stands, for its card's progress line."""

    run_id: str
    #: "queued" until its Diagnostician is asked, then its stage: diagnosing, solving,
    #: reviewing, deciding, and at the end posted, timeout or failed
    stage: str
    #: when the debate was asked for, and when the stage was last written
    since: datetime
    at: datetime

    @property
    def elapsed_s(self) -> float:
        return max(0.0, (self.at - self.since).total_seconds())


class IncidentView(BaseModel):
    """An incident with the latest state of its alerts (firing first, as many as were asked for)."""

    incident: Incident
    alerts: list[Alert] = Field(default_factory=list)
    #: the earliest start a sender stated for any alert that fired in the incident (all of
    #: them, not only those listed); None when no sender stated one
    started_at: datetime | None = None
    #: the latest debate of the incident; None before one was asked for
    debate: DebateProgress | None = None

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == AlertStatus.FIRING]


class AlertState(BaseModel):
    """The current state of one fingerprint, and the incident it belongs to."""

    alert: Alert
    incident_id: int | None


class IngestResult(BaseModel):
    """What an intake call did: alerts taken (new or known), new ones, their incidents."""

    accepted: int
    new: int
    incidents: list[int]


class Actor(BaseModel):
    """Who did something: `tg:<id>`, `http`, `system`; `name` is what a card shows."""

    id: str
    name: str

    @classmethod
    def system(cls) -> Actor:
        return cls(id="system", name="Howl")
