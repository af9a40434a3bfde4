"""Incidents: when each was last re-announced, and the silence mirrored in Alertmanager.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_MIRRORED = sa.text("alertmanager_silence_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("renotified_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("alertmanager_silence_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("alertmanager_error", sa.String(200), nullable=True))
    # the lift job looks for mirrored silences to expire: few rows, so a partial index
    op.create_index(
        "ix_incidents_alertmanager_silence",
        "incidents",
        ["id"],
        sqlite_where=_MIRRORED,
        postgresql_where=_MIRRORED,
    )


def downgrade() -> None:
    op.drop_index("ix_incidents_alertmanager_silence", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("alertmanager_error")
        batch.drop_column("alertmanager_silence_id")
        batch.drop_column("renotified_at")
