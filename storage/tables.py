"""SQLAlchemy rows. They never leave storage/: repositories turn them into core models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import BigId, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class ProcessedUpdate(Base):
    """A Telegram update already handled; its id is the idempotency key."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    seen_at: Mapped[datetime]


class OutboxRow(Base):
    """A delivery owed to a chat: pending, sending, sent or dead."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))
    card_key: Mapped[str | None] = mapped_column(String(120), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    keyboard: Mapped[Any | None] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger)
    #: a card's first send answers this card: resolved to its message id when claimed
    reply_to_card: Mapped[str | None] = mapped_column(String(120))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class CardRow(Base):
    """Where a card lives in the chat: its own message, or a line of a storm digest."""

    __tablename__ = "cards"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64))
    #: set when the card was folded into a digest card during a storm
    digest_key: Mapped[str | None] = mapped_column(String(120), index=True)
    digest_line: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AuditRow(Base):
    """One append-only audit line."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(120), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SigningKeyRow(Base):
    """A secret Howl made for itself on first run (e.g. the key that signs button data)."""

    __tablename__ = "signing_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class IncidentRow(Base):
    """An incident; at most one open (not resolved) incident per group key."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index(
            "uq_incidents_open_group_key",
            "group_key",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        Index("ix_incidents_status_silenced_until", "status", "silenced_until"),
        Index(
            "ix_incidents_alertmanager_silence",
            "id",
            sqlite_where=text("alertmanager_silence_id IS NOT NULL"),
            postgresql_where=text("alertmanager_silence_id IS NOT NULL"),
        ),
        Index(
            "ix_incidents_unpublished",
            "id",
            sqlite_where=text("published_version < version"),
            postgresql_where=text("published_version < version"),
        ),
        Index("ix_incidents_symptoms_hash", "symptoms_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    group_key: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(14))
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    acknowledged_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None]
    silenced_until: Mapped[datetime | None]
    silenced_by: Mapped[str | None] = mapped_column(String(120))
    prior_status: Mapped[str | None] = mapped_column(String(14))
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    firing_count: Mapped[int] = mapped_column(Integer, default=0)
    renotified_at: Mapped[datetime | None]
    alertmanager_silence_id: Mapped[str | None] = mapped_column(String(64))
    alertmanager_error: Mapped[str | None] = mapped_column(String(200))
    #: bumped by every change; the card is owed while published_version lags behind
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int] = mapped_column(Integer, default=0)
    #: core.knowledge.symptoms of its title and labels: where its knowledge is filed
    symptoms_hash: Mapped[str | None] = mapped_column(String(16))


class _AlertColumns:
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    generator_url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64))
    sender_start: Mapped[bool] = mapped_column(default=True)


class AlertRow(_AlertColumns, Base):
    """Every alert state Howl accepted, in arrival order (append-only history)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime]


class AlertStateRow(_AlertColumns, Base):
    """The current state of each fingerprint: what dedup and auto-resolution read."""

    __tablename__ = "alert_states"
    #: a card lists an incident's alerts firing first, oldest first, without sorting them all
    __table_args__ = (
        Index(
            "ix_alert_states_incident_order", "incident_id", "status", "starts_at", "fingerprint"
        ),
    )

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime]


class RunRow(Base):
    """A run of work for an incident (see core/runs.py); one per (incident, trigger)."""

    __tablename__ = "runs"
    __table_args__ = (
        # the idempotency key: a second create for the same trigger finds this row
        UniqueConstraint("incident_id", "trigger"),
        Index("ix_runs_state_lease_expires_at", "state", "lease_expires_at"),
        # claims take the most urgent pending run first
        Index("ix_runs_state_priority", "state", "priority"),
        Index("ix_runs_incident_id", "incident_id"),
    )

    #: a UUIDv7 in canonical text form: sorting by id sorts by creation time
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE")
    )
    trigger: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
    traceparent: Mapped[str] = mapped_column(String(55))
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: higher is claimed first (a critical incident's debate before a warning's)
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: where the debate stands ("diagnosing", ...), for the incident card; None before it starts
    stage: Mapped[str | None] = mapped_column(String(20))
    stage_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DebateTurnRow(Base):
    """One agent's turn; insert-only: triggers refuse UPDATE and DELETE (migration 0007)."""

    __tablename__ = "debate_turns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: no ON DELETE: a run that has turns cannot be deleted
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("runs.id"), index=True)
    incident_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(20))
    input_hash: Mapped[str] = mapped_column(String(64))
    output: Mapped[dict[str, Any]]
    latency_s: Mapped[float] = mapped_column(Float)
    vote: Mapped[str | None] = mapped_column(String(10))
    degraded: Mapped[bool]
    provider: Mapped[str] = mapped_column(String(120))
    model: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class DecisionRow(Base):
    """A run's decision package, as its public JSON; one per run, its approval updated in place."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_incident_id_created_at", "incident_id", "created_at"),)

    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("runs.id"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(BigInteger)
    package: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ApprovalRow(Base):
    """A run's approval request: its JSON, plus the columns the conditional writes and the
    expiry job select on."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_state_expires_at", "state", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), ForeignKey("runs.id"), unique=True)
    incident_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]
    request: Mapped[dict[str, Any]]


class KnowledgeEntryRow(Base):
    """A runbook (draft, published, rejected) or an anti-pattern, under its symptoms hash."""

    __tablename__ = "knowledge_entries"
    __table_args__ = (
        Index("ix_knowledge_entries_symptoms_hash", "symptoms_hash", "kind", "status"),
        Index("ix_knowledge_entries_kind_status_created_at", "kind", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    symptoms_hash: Mapped[str] = mapped_column(String(16))
    symptoms: Mapped[dict[str, Any]]
    incident_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str | None] = mapped_column(String(120))
    arguments: Mapped[dict[str, Any]]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    minimal: Mapped[bool]
    created_at: Mapped[datetime]
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None]


class DriftReportRow(Base):
    """One drift scan's report, as its JSON (what a drift card's buttons name by id)."""

    __tablename__ = "drift_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scanned_at: Mapped[datetime] = mapped_column(index=True)
    summary: Mapped[str] = mapped_column(Text)
    report: Mapped[dict[str, Any]]


class DriftMarkRow(Base):
    """A drift subject marked `announced` or `ignored` at a fingerprint.

    `subject` is the sha256 of the difference's subject (object and field), so a
    long field path never outgrows the key.
    """

    __tablename__ = "drift_marks"

    mark: Mapped[str] = mapped_column(String(12), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
