"""retry once: a FAILED run can be run once more, as a new run linked to the first

``test_runs.retry_failed`` is the setting a run was created with (how many retries a FAILED verdict gets: 0
or 1); ``retry_of_id`` links a retry to the run it retries. The executor writes a FAILED verdict and, when
the run asks for it, creates its retry in the same statement (executor/lease.py), so a suite run never looks
ended between the two. At most one retry per run (a unique index, which is also what finds a run's retry).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "test_runs", sa.Column("retry_failed", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("test_runs", sa.Column("retry_of_id", sa.Uuid(), nullable=True))
    op.create_check_constraint(
        op.f("ck_test_runs_retry_failed_range"), "test_runs", "retry_failed BETWEEN 0 AND 1"
    )
    op.create_foreign_key(
        op.f("fk_test_runs_retry_of_id_test_runs"),
        "test_runs",
        "test_runs",
        ["retry_of_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        "ix_test_runs_retry_of",
        "test_runs",
        ["retry_of_id"],
        unique=True,
        postgresql_where=sa.text("retry_of_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_test_runs_retry_of", table_name="test_runs")
    op.drop_constraint(op.f("fk_test_runs_retry_of_id_test_runs"), "test_runs", type_="foreignkey")
    op.drop_constraint(op.f("ck_test_runs_retry_failed_range"), "test_runs", type_="check")
    op.drop_column("test_runs", "retry_of_id")
    op.drop_column("test_runs", "retry_failed")
