"""Runs: the run table (UUIDv7 ids, state, lease, attempts, traceparent), one per trigger.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(120), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(120), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("traceparent", sa.String(55), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name="fk_runs_incident_id_incidents",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("incident_id", "trigger", name="uq_runs_incident_id_trigger"),
    )
    op.create_index("ix_runs_state_lease_expires_at", "runs", ["state", "lease_expires_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_state_lease_expires_at", table_name="runs")
    op.drop_table("runs")
