"""a suite run's setup and teardown: runs of the suite run that hold their own steps

A suite's ``setup:`` and ``teardown:`` run as runs of the suite run (``suite_phase`` 'setup' or 'teardown')
whose steps are in ``definition`` instead of a test-case version (so ``test_case_id`` and
``test_case_version_id`` are empty for them, and only for them). The admission pass leaves a suite run's
test runs PENDING while its setup has not ended, and its teardown while any other run of it has not ended:
``orchestra_sys_candidates`` is replaced with that condition (and ``orchestra_system`` may read
``suite_phase``). The new columns are on ``test_runs``, whose row-level security policies cover them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_CANDIDATES = (
    "orchestra_sys_candidates(tenants uuid[], environments uuid[], full_suite_runs uuid[], per_group integer, "
    "scan_window integer)"
)


def _candidates_body(waiting: str) -> str:
    return f"""
        RETURNS TABLE (id uuid, tenant_id uuid, project_id uuid, environment_id uuid, suite_run_id uuid,
                       queue_key double precision)
        LANGUAGE sql STABLE AS $$
            SELECT c.id, c.tenant_id, c.project_id, c.environment_id, c.suite_run_id, c.queue_key
            FROM unnest(tenants, environments) AS g(tenant_id, environment_id)
            CROSS JOIN LATERAL (
                SELECT * FROM (
                    SELECT r.id, r.tenant_id, r.project_id, r.environment_id, r.suite_run_id, r.queue_key
                    FROM test_runs r
                    WHERE r.status = 'PENDING' AND r.tenant_id = g.tenant_id
                      AND r.environment_id = g.environment_id{waiting}
                    ORDER BY r.queue_key LIMIT scan_window
                ) head
                WHERE head.suite_run_id IS NULL OR head.suite_run_id <> ALL(full_suite_runs)
                ORDER BY head.queue_key LIMIT per_group
            ) c
        $$"""


# A test run waits for its suite run's setup; a teardown waits for every other run of its suite run.
_WAITING = """
                      AND NOT EXISTS (
                          SELECT 1 FROM test_runs o
                          WHERE r.suite_run_id IS NOT NULL AND o.suite_run_id = r.suite_run_id
                            AND o.id <> r.id AND o.status IN ('PENDING', 'QUEUED', 'IN_PROGRESS')
                            AND (o.suite_phase = 'setup' OR r.suite_phase = 'teardown')
                      )"""


def _replace_candidates(body: str) -> None:
    # CREATE OR REPLACE keeps the owner (orchestra_system) and the grants; the other properties are set anew.
    op.execute(f"CREATE OR REPLACE FUNCTION {_CANDIDATES} {body}")
    op.execute(f"ALTER FUNCTION {_CANDIDATES} SECURITY DEFINER SET search_path = public, pg_temp")


def upgrade() -> None:
    op.add_column("test_runs", sa.Column("suite_phase", sa.String(length=10), nullable=True))
    op.add_column("test_runs", sa.Column("definition", sa.JSON(), nullable=True))
    op.alter_column("test_runs", "test_case_id", existing_type=sa.Uuid(), nullable=True)
    op.alter_column("test_runs", "test_case_version_id", existing_type=sa.Uuid(), nullable=True)
    op.create_check_constraint(
        op.f("ck_test_runs_suite_phase_or_test_case"),
        "test_runs",
        "(suite_phase IN ('setup', 'teardown') AND definition IS NOT NULL AND suite_run_id IS NOT NULL"
        " AND test_case_version_id IS NULL) OR (suite_phase IS NULL AND definition IS NULL"
        " AND test_case_id IS NOT NULL AND test_case_version_id IS NOT NULL)",
    )
    op.create_index(
        op.f("ix_test_runs_suite_phase"),
        "test_runs",
        ["suite_run_id", "suite_phase"],
        unique=True,
        postgresql_where=sa.text("suite_phase IS NOT NULL"),
    )
    op.execute("GRANT SELECT (suite_phase) ON test_runs TO orchestra_system")
    _replace_candidates(_candidates_body(_WAITING))


def downgrade() -> None:
    _replace_candidates(_candidates_body(""))
    op.execute("REVOKE SELECT (suite_phase) ON test_runs FROM orchestra_system")
    op.execute("DELETE FROM test_runs WHERE suite_phase IS NOT NULL")
    op.drop_index(op.f("ix_test_runs_suite_phase"), table_name="test_runs")
    op.drop_constraint(op.f("ck_test_runs_suite_phase_or_test_case"), "test_runs", type_="check")
    op.alter_column("test_runs", "test_case_version_id", existing_type=sa.Uuid(), nullable=False)
    op.alter_column("test_runs", "test_case_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_column("test_runs", "definition")
    op.drop_column("test_runs", "suite_phase")
