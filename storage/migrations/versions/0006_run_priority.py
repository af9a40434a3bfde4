"""Runs: a priority (debates queue by severity in a storm) and the debate's stage (card
progress); outbox.reply_to_card (a decision card answers its incident's card).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("stage", sa.String(20), nullable=True))
        batch.add_column(sa.Column("stage_at", UTCDateTime(), nullable=True))
    op.create_index("ix_runs_state_priority", "runs", ["state", "priority"])
    op.create_index("ix_runs_incident_id", "runs", ["incident_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reply_to_card", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("reply_to_card")
    op.drop_index("ix_runs_incident_id", table_name="runs")
    op.drop_index("ix_runs_state_priority", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("stage_at")
        batch.drop_column("stage")
        batch.drop_column("priority")
