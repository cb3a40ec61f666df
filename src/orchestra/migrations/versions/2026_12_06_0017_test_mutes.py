"""muted test cases: a test case muted on an environment with a reason and an expiry

``test_mutes`` holds the mutes (one per test case and environment); a run records the mute in force when
it was created (``test_runs.mute_id``, ``mute_reason``), so a muted failure does not fail its suite run or
the CLI, and deleting or expiring a mute later does not rewrite history.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# As every policy since migration 0012: the verified tenant and project scope, read once per statement.
_VISIBLE = (
    "tenant_id = (SELECT orchestra_tenant()) AND ((SELECT orchestra_project_scope()) IS NULL "
    "OR project_id = (SELECT orchestra_project_scope()))"
)


def _foreign_key(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_test_mutes_{column}_{table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "test_mutes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _foreign_key("tenant_id", "tenants"),
        _foreign_key("project_id", "projects"),
        _foreign_key("test_case_id", "test_cases"),
        _foreign_key("environment_id", "environments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_mutes")),
        sa.UniqueConstraint(
            "test_case_id", "environment_id", name=op.f("uq_test_mutes_test_case_id_environment_id")
        ),
    )
    op.create_index(op.f("ix_test_mutes_tenant_id"), "test_mutes", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_test_mutes_project_id"), "test_mutes", ["project_id"], unique=False)
    op.create_index(op.f("ix_test_mutes_environment_id"), "test_mutes", ["environment_id"], unique=False)
    op.execute("ALTER TABLE test_mutes ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE test_mutes FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON test_mutes USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")
    op.add_column("test_runs", sa.Column("mute_id", sa.Uuid(), nullable=True))
    op.add_column("test_runs", sa.Column("mute_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("test_runs", "mute_reason")
    op.drop_column("test_runs", "mute_id")
    op.execute("DROP POLICY tenant_isolation ON test_mutes")
    op.drop_index(op.f("ix_test_mutes_environment_id"), table_name="test_mutes")
    op.drop_index(op.f("ix_test_mutes_project_id"), table_name="test_mutes")
    op.drop_index(op.f("ix_test_mutes_tenant_id"), table_name="test_mutes")
    op.drop_table("test_mutes")
