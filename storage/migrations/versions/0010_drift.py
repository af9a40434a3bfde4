"""Drift: stored scan reports (what a card's buttons act on) and drift marks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

`drift_reports` keeps each scan's report as its JSON, found by the id a drift
card's buttons carry. `drift_marks` holds two kinds of marks by subject (an
object and a field): `announced`, the fingerprints the last posted card showed
(no repeated card for the same drift), and `ignored`, the fingerprint a
difference had when a person chose Ignore (quiet until it changes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drift_reports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("scanned_at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_reports"),
    )
    op.create_index("ix_drift_reports_scanned_at", "drift_reports", ["scanned_at"])
    op.create_table(
        "drift_marks",
        sa.Column("mark", sa.String(12), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("mark", "subject", name="pk_drift_marks"),
    )


def downgrade() -> None:
    op.drop_table("drift_marks")
    op.drop_index("ix_drift_reports_scanned_at", table_name="drift_reports")
    op.drop_table("drift_reports")
