"""run list index: GET /runs reads its page backwards along (tenant, created_at, id)

With 100,000 runs the list's first page took seconds: the runs were joined to their versions and
environments before ordering, and under row-level security the planner re-scanned every run per version.
The page's ids now come from test_runs alone (runs/repository.py), read along this index (bench/web.py).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 21:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_test_runs_tenant_created", "test_runs", ["tenant_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_test_runs_tenant_created", table_name="test_runs")
