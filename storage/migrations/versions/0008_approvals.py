"""Approvals: one request per run whose action waits for a person (or ran on autopilot).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

`version` makes every change a conditional UPDATE (`WHERE id = ? AND version = ?`),
so two presses at the same instant cannot both count, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_approvals_run_id_runs"),
        sa.UniqueConstraint("run_id", name="uq_approvals_run_id"),
    )
    op.create_index("ix_approvals_state_expires_at", "approvals", ["state", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_approvals_state_expires_at", table_name="approvals")
    op.drop_table("approvals")
