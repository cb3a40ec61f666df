"""the data ledger (entities runs created in a SUT, with their undo calls) and the run's DataPlan

The ledger is tenant-owned and project-scoped (row-level security as in 0006). The scheduler's periodic
sweep finds the tenants with something to undo through ``orchestra_sys_ledger_tenants``, which sees only
the tenant, status and run of entries and the status of runs; the sweep itself then works per tenant.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_VISIBLE = (
    "tenant_id = orchestra_tenant() AND (orchestra_project_scope() IS NULL "
    "OR project_id = orchestra_project_scope())"
)
_OPEN = "status IN ('pending', 'failed')"
_SWEEP_TENANTS = "orchestra_sys_ledger_tenants(max_attempts integer)"
# Tenants with entries left to undo whose run is over (or deleted): the periodic sweep's work list.
_SWEEP_TENANTS_BODY = """
    RETURNS SETOF uuid
    LANGUAGE sql STABLE AS $$
        SELECT DISTINCT l.tenant_id FROM data_ledger l LEFT JOIN test_runs r ON r.id = l.test_run_id
        WHERE l.status IN ('pending', 'failed') AND l.attempts < max_attempts
            AND (r.id IS NULL OR r.status IN ('PASSED', 'FAILED', 'ERROR', 'CANCELLED', 'TIMED_OUT'))
    $$"""


def _foreign_key(column: str, table: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_data_ledger_{column}_{table}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.add_column("test_runs", sa.Column("data_plan", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_table(
        "data_ledger",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("test_run_id", sa.Uuid(), nullable=True),
        sa.Column("step_seq", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("undo", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        _foreign_key("tenant_id", "tenants"),
        _foreign_key("project_id", "projects"),
        _foreign_key("environment_id", "environments"),
        _foreign_key("test_run_id", "test_runs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_ledger")),
    )
    op.create_index(op.f("ix_data_ledger_tenant_id"), "data_ledger", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_data_ledger_project_id"), "data_ledger", ["project_id"], unique=False)
    op.create_index("ix_data_ledger_test_run_id", "data_ledger", ["test_run_id", "step_seq"], unique=False)
    op.create_index(
        "ix_data_ledger_environment_status", "data_ledger", ["environment_id", "status"], unique=False
    )
    op.create_index(
        "ix_data_ledger_open", "data_ledger", ["tenant_id"], unique=False, postgresql_where=sa.text(_OPEN)
    )
    op.execute("ALTER TABLE data_ledger ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE data_ledger FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON data_ledger USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")

    op.execute("GRANT SELECT (tenant_id, test_run_id, status, attempts) ON data_ledger TO orchestra_system")
    op.execute("CREATE POLICY system_select ON data_ledger FOR SELECT TO orchestra_system USING (true)")
    op.execute(f"CREATE FUNCTION {_SWEEP_TENANTS} {_SWEEP_TENANTS_BODY}")
    op.execute(f"ALTER FUNCTION {_SWEEP_TENANTS} SECURITY DEFINER SET search_path = public, pg_temp")
    op.execute(f"ALTER FUNCTION {_SWEEP_TENANTS} OWNER TO orchestra_system")
    op.execute(f"REVOKE ALL ON FUNCTION {_SWEEP_TENANTS} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_SWEEP_TENANTS} TO orchestra_app")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {_SWEEP_TENANTS}")
    op.execute("DROP POLICY system_select ON data_ledger")
    op.execute("DROP POLICY tenant_isolation ON data_ledger")
    op.execute("REVOKE ALL ON data_ledger FROM orchestra_system")
    op.drop_index("ix_data_ledger_open", table_name="data_ledger", postgresql_where=sa.text(_OPEN))
    op.drop_index("ix_data_ledger_environment_status", table_name="data_ledger")
    op.drop_index("ix_data_ledger_test_run_id", table_name="data_ledger")
    op.drop_index(op.f("ix_data_ledger_project_id"), table_name="data_ledger")
    op.drop_index(op.f("ix_data_ledger_tenant_id"), table_name="data_ledger")
    op.drop_table("data_ledger")
    op.drop_column("test_runs", "data_plan")
