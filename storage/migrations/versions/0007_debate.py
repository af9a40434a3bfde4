"""Debate: the insert-only turn log (refused UPDATE and DELETE by trigger) and one decision per run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

`debate_turns` is insert-only by the database itself, not by convention: a
trigger aborts every UPDATE and DELETE (and, on PostgreSQL, TRUNCATE, which
row triggers do not see) with the message in `APPEND_ONLY`, an IntegrityError on
both databases (PostgreSQL's SQLSTATE is 23001, restrict_violation). A later SQLite
migration that rebuilds the table (batch mode) must create the triggers again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import BigId, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

APPEND_ONLY = "debate_turns is append-only"

_SQLITE_TRIGGERS = {
    "debate_turns_no_update": "BEFORE UPDATE",
    "debate_turns_no_delete": "BEFORE DELETE",
}
_PG_FUNCTION = "debate_turns_append_only"
_PG_TRIGGERS = {
    "debate_turns_no_change": "BEFORE UPDATE OR DELETE ON debate_turns FOR EACH ROW",
    "debate_turns_no_truncate": "BEFORE TRUNCATE ON debate_turns FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.create_table(
        "debate_turns",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("latency_s", sa.Float(), nullable=False),
        sa.Column("vote", sa.String(10), nullable=True),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("provider", sa.String(120), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_debate_turns"),
        # no ON DELETE: a run with turns cannot be deleted, the log outlives nothing it names
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_debate_turns_run_id_runs"),
    )
    op.create_index("ix_debate_turns_run_id", "debate_turns", ["run_id"])
    op.create_table(
        "decisions",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("package", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_decisions"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_decisions_run_id_runs"),
    )
    op.create_index(
        "ix_decisions_incident_id_created_at", "decisions", ["incident_id", "created_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            # restrict_violation (23001): an IntegrityError, as SQLite's RAISE(ABORT) is
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'restrict_violation'; "
            "END $$"
        )
        for name, when in _PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {_PG_FUNCTION}()")
    else:
        for name, when in _SQLITE_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} ON debate_turns "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON debate_turns")
        op.execute(f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_decisions_incident_id_created_at", table_name="decisions")
    op.drop_table("decisions")
    op.drop_index("ix_debate_turns_run_id", table_name="debate_turns")
    op.drop_table("debate_turns")
