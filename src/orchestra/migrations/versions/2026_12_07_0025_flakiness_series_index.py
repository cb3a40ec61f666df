"""flakiness series index: a project's runs with a verdict in series order, with what flakiness reads

Flakiness compares each run with the previous run of its series (one test-case version on one environment)
in SQL, with window functions. Along this index the window's runs come out already in series order and
without a visit to the table (index only), so nothing is sorted; on a million runs the scoring of every test
case of a 30-day window went from reading half a million rows into Python to one query (bench/
insights_indexes.py).

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-07 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_test_runs_flakiness_series",
        "test_runs",
        ["project_id", "test_case_id", "environment_id", "test_case_version_id", "created_at", "id"],
        postgresql_include=["status", "retry_of_id", "tenant_id"],
        postgresql_where=sa.text(
            "status IN ('PASSED', 'FAILED', 'ERROR', 'TIMED_OUT') AND test_case_id IS NOT NULL "
            "AND test_case_version_id IS NOT NULL"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_test_runs_flakiness_series", table_name="test_runs")
