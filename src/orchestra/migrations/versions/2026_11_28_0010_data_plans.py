"""DataPlans: cached per test-case version and spec hash, reviewed, edited and pinned

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_VISIBLE = (
    "tenant_id = orchestra_tenant() AND (orchestra_project_scope() IS NULL "
    "OR project_id = orchestra_project_scope())"
)


def _foreign_key(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_data_plans_{column}_{table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "data_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_version_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("plan", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("planner", sa.String(length=200), nullable=False),
        sa.Column(
            "notices", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False
        ),
        sa.Column("pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _foreign_key("tenant_id", "tenants"),
        _foreign_key("project_id", "projects"),
        _foreign_key("test_case_id", "test_cases"),
        _foreign_key("test_case_version_id", "test_case_versions"),
        _foreign_key("environment_id", "environments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_plans")),
    )
    op.create_index(op.f("ix_data_plans_tenant_id"), "data_plans", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_data_plans_project_id"), "data_plans", ["project_id"], unique=False)
    op.create_index(op.f("ix_data_plans_environment_id"), "data_plans", ["environment_id"], unique=False)
    op.create_index(
        "ix_data_plans_cache_key",
        "data_plans",
        ["test_case_version_id", "environment_id", "spec_hash"],
        unique=False,
    )
    op.create_index(
        "uq_data_plans_pinned",
        "data_plans",
        ["test_case_id", "environment_id"],
        unique=True,
        postgresql_where=sa.text("pinned"),
    )
    op.execute("ALTER TABLE data_plans ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE data_plans FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON data_plans USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")


def downgrade() -> None:
    op.execute("DROP POLICY tenant_isolation ON data_plans")
    op.drop_index("uq_data_plans_pinned", table_name="data_plans", postgresql_where=sa.text("pinned"))
    op.drop_index("ix_data_plans_cache_key", table_name="data_plans")
    op.drop_index(op.f("ix_data_plans_environment_id"), table_name="data_plans")
    op.drop_index(op.f("ix_data_plans_project_id"), table_name="data_plans")
    op.drop_index(op.f("ix_data_plans_tenant_id"), table_name="data_plans")
    op.drop_table("data_plans")
