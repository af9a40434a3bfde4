"""Knowledge: runbooks and anti-patterns under their symptoms hash; incidents carry theirs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Incidents opened before this revision get their symptoms hash computed here
(the same function the store uses for new ones), so past incidents count as
related incidents of a runbook.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from core.knowledge.symptoms import incident_symptoms
from storage.types import BigId, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("symptoms_hash", sa.String(16), nullable=True))
    op.create_index("ix_incidents_symptoms_hash", "incidents", ["symptoms_hash"])
    _backfill()
    op.create_table(
        "knowledge_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("symptoms_hash", sa.String(16), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(120), nullable=True),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("minimal", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(120), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_knowledge_entries"),
    )
    op.create_index(
        "ix_knowledge_entries_symptoms_hash",
        "knowledge_entries",
        ["symptoms_hash", "kind", "status"],
    )
    op.create_index(
        "ix_knowledge_entries_kind_status_created_at",
        "knowledge_entries",
        ["kind", "status", "created_at"],
    )


def _backfill() -> None:
    bind = op.get_bind()
    incidents = sa.table(
        "incidents",
        sa.column("id", sa.BigInteger()),
        sa.column("title", sa.String()),
        sa.column("labels", sa.JSON()),
        sa.column("symptoms_hash", sa.String()),
    )
    rows = bind.execute(sa.select(incidents.c.id, incidents.c.title, incidents.c.labels)).all()
    for incident_id, title, labels in rows:
        found: Any = json.loads(labels) if isinstance(labels, str) else labels
        named = {str(k): str(v) for k, v in (found or {}).items()}
        bind.execute(
            sa.update(incidents)
            .where(incidents.c.id == incident_id)
            .values(symptoms_hash=incident_symptoms(named, title or "").hash)
        )


def downgrade() -> None:
    op.drop_index("ix_knowledge_entries_kind_status_created_at", table_name="knowledge_entries")
    op.drop_index("ix_knowledge_entries_symptoms_hash", table_name="knowledge_entries")
    op.drop_table("knowledge_entries")
    op.drop_index("ix_incidents_symptoms_hash", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("symptoms_hash")
