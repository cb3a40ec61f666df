"""retention of finished runs: a policy per project and the compact verdict rows of deleted runs

``retention_policies`` holds a project's rule (keep N days and/or the last N finished runs per test case);
``run_verdicts`` keeps one compact row per deleted test run (test case, version, environment, suite, status,
timings) so insights still see its verdict. The scheduler leader finds the tenants with a policy through
``orchestra_sys_retention_tenants`` (ids only) and sweeps each tenant in its own transactions.
``ix_test_runs_test_case_created`` finds a test case's N-th newest finished run.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# As every policy since migration 0012: the verified tenant and project scope, read once per statement.
_VISIBLE = (
    "tenant_id = (SELECT orchestra_tenant()) AND ((SELECT orchestra_project_scope()) IS NULL "
    "OR project_id = (SELECT orchestra_project_scope()))"
)
_TENANTS = "orchestra_sys_retention_tenants()"
_TENANTS_BODY = """
    RETURNS SETOF uuid
    LANGUAGE sql STABLE AS $$
        SELECT DISTINCT tenant_id FROM retention_policies
        WHERE keep_days IS NOT NULL OR keep_last IS NOT NULL
    $$"""


def _foreign_key(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete="CASCADE"
    )


def _secure(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=True),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _foreign_key("retention_policies", "tenant_id", "tenants"),
        _foreign_key("retention_policies", "project_id", "projects"),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_retention_policies")),
    )
    op.create_index(
        op.f("ix_retention_policies_tenant_id"), "retention_policies", ["tenant_id"], unique=False
    )
    _secure("retention_policies")
    op.create_table(
        "run_verdicts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_version_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("suite_id", sa.Uuid(), nullable=True),
        sa.Column("failure_group_id", sa.Uuid(), nullable=True),
        sa.Column("retry_of_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        _foreign_key("run_verdicts", "tenant_id", "tenants"),
        _foreign_key("run_verdicts", "project_id", "projects"),
        _foreign_key("run_verdicts", "test_case_id", "test_cases"),
        _foreign_key("run_verdicts", "environment_id", "environments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_verdicts")),
    )
    op.create_index(op.f("ix_run_verdicts_tenant_id"), "run_verdicts", ["tenant_id"], unique=False)
    op.create_index("ix_run_verdicts_project_created", "run_verdicts", ["project_id", "created_at"])
    op.create_index("ix_run_verdicts_test_case_created", "run_verdicts", ["test_case_id", "created_at"])
    _secure("run_verdicts")
    op.create_index("ix_test_runs_test_case_created", "test_runs", ["test_case_id", "created_at"])

    op.execute("GRANT SELECT (tenant_id, keep_days, keep_last) ON retention_policies TO orchestra_system")
    op.execute(
        "CREATE POLICY system_select ON retention_policies FOR SELECT TO orchestra_system USING (true)"
    )
    op.execute(f"CREATE FUNCTION {_TENANTS} {_TENANTS_BODY}")
    op.execute(f"ALTER FUNCTION {_TENANTS} SECURITY DEFINER SET search_path = public, pg_temp")
    op.execute(f"ALTER FUNCTION {_TENANTS} OWNER TO orchestra_system")
    op.execute(f"REVOKE ALL ON FUNCTION {_TENANTS} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_TENANTS} TO orchestra_app")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {_TENANTS}")
    op.execute("DROP POLICY system_select ON retention_policies")
    op.execute("REVOKE ALL ON retention_policies FROM orchestra_system")
    op.drop_index("ix_test_runs_test_case_created", table_name="test_runs")
    op.execute("DROP POLICY tenant_isolation ON run_verdicts")
    op.drop_index("ix_run_verdicts_test_case_created", table_name="run_verdicts")
    op.drop_index("ix_run_verdicts_project_created", table_name="run_verdicts")
    op.drop_index(op.f("ix_run_verdicts_tenant_id"), table_name="run_verdicts")
    op.drop_table("run_verdicts")
    op.execute("DROP POLICY tenant_isolation ON retention_policies")
    op.drop_index(op.f("ix_retention_policies_tenant_id"), table_name="retention_policies")
    op.drop_table("retention_policies")
