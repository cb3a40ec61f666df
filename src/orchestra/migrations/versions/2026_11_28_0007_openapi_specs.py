"""the SUT's imported OpenAPI descriptions, one per environment

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_VISIBLE = (
    "tenant_id = orchestra_tenant() AND (orchestra_project_scope() IS NULL "
    "OR project_id = orchestra_project_scope())"
)


def _foreign_key(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_api_specs_{column}_{table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "api_specs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("spec_hash", sa.String(length=64), nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("catalogue", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("operation_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _foreign_key("tenant_id", "tenants"),
        _foreign_key("project_id", "projects"),
        _foreign_key("environment_id", "environments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_specs")),
        sa.UniqueConstraint("environment_id", name=op.f("uq_api_specs_environment_id")),
    )
    op.create_index(op.f("ix_api_specs_tenant_id"), "api_specs", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_api_specs_project_id"), "api_specs", ["project_id"], unique=False)
    op.execute("ALTER TABLE api_specs ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE api_specs FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON api_specs USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")


def downgrade() -> None:
    op.execute("DROP POLICY tenant_isolation ON api_specs")
    op.drop_index(op.f("ix_api_specs_project_id"), table_name="api_specs")
    op.drop_index(op.f("ix_api_specs_tenant_id"), table_name="api_specs")
    op.drop_table("api_specs")
