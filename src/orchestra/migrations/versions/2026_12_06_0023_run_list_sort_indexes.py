"""run list sort indexes: GET /runs?sort=name|status reads its page along (tenant, name|status, id)

Sorted by name or status, the list's first page sorted every run of the tenant before it could take 25
(with 100,000 runs: 65 and 73 ms against 27 ms newest first); along these indexes it costs what the default
order costs (27 and 31 ms, bench/runs_list.py). Duration, a difference of two columns, is left unindexed.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 23:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_test_runs_tenant_name", "test_runs", ["tenant_id", "name", "id"])
    op.create_index("ix_test_runs_tenant_status", "test_runs", ["tenant_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_test_runs_tenant_status", table_name="test_runs")
    op.drop_index("ix_test_runs_tenant_name", table_name="test_runs")
