"""failure groups: failures clustered by their normalised message and its embedding, linked to known issues

``failure_groups`` holds one row per group of a project (its fingerprint, normalised message, built-in
embedding, first run, counts, and the issue it is known as); ``test_runs.failure_group_id`` says which group
a failed run belongs to. Three partial indexes: a group's members by time, a project's grouped failures by
time (covering what the counts read), and the failures not grouped yet (bench/insights_indexes.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_VISIBLE = (
    "tenant_id = (SELECT orchestra_tenant()) AND ((SELECT orchestra_project_scope()) IS NULL "
    "OR project_id = (SELECT orchestra_project_scope()))"
)
_UNGROUPED = (
    "failure_group_id IS NULL AND status IN ('FAILED', 'ERROR', 'TIMED_OUT') AND test_case_id IS NOT NULL"
)


def upgrade() -> None:
    op.create_table(
        "failure_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(512), nullable=False),
        sa.Column("first_run_id", sa.Uuid(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("issue_url", sa.String(length=2000), nullable=True),
        sa.Column("issue_linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_failure_groups_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_failure_groups_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failure_groups")),
        sa.UniqueConstraint(
            "project_id", "fingerprint", name=op.f("uq_failure_groups_project_id_fingerprint")
        ),
    )
    op.create_index(op.f("ix_failure_groups_tenant_id"), "failure_groups", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_failure_groups_project_id"), "failure_groups", ["project_id"], unique=False)
    op.execute("ALTER TABLE failure_groups ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE failure_groups FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON failure_groups USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")
    op.add_column("test_runs", sa.Column("failure_group_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_test_runs_failure_group_id_failure_groups"),
        "test_runs",
        "failure_groups",
        ["failure_group_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_test_runs_failure_group",
        "test_runs",
        ["failure_group_id", "created_at"],
        postgresql_where=sa.text("failure_group_id IS NOT NULL"),
    )
    op.create_index(
        "ix_test_runs_grouped_failures",
        "test_runs",
        ["project_id", "created_at"],
        postgresql_include=["failure_group_id", "test_case_id", "environment_id"],
        postgresql_where=sa.text("failure_group_id IS NOT NULL"),
    )
    op.create_index(
        "ix_test_runs_ungrouped_failures",
        "test_runs",
        ["project_id", "created_at"],
        postgresql_where=sa.text(_UNGROUPED),
    )


def downgrade() -> None:
    op.drop_index("ix_test_runs_ungrouped_failures", table_name="test_runs")
    op.drop_index("ix_test_runs_grouped_failures", table_name="test_runs")
    op.drop_index("ix_test_runs_failure_group", table_name="test_runs")
    op.drop_constraint(op.f("fk_test_runs_failure_group_id_failure_groups"), "test_runs", type_="foreignkey")
    op.drop_column("test_runs", "failure_group_id")
    op.execute("DROP POLICY tenant_isolation ON failure_groups")
    op.drop_index(op.f("ix_failure_groups_project_id"), table_name="failure_groups")
    op.drop_index(op.f("ix_failure_groups_tenant_id"), table_name="failure_groups")
    op.drop_table("failure_groups")
