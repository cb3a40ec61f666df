"""step commits in place: a step's update of its run changes no indexed column (HOT updates)

Every step commit updates its run's row (the context, the heartbeat, the lease's expiry). PostgreSQL can
write such an update beside the old version on the same page without touching any index (a heap-only
tuple) only when no indexed column changes and the page has room. ``ix_test_runs_active_lease`` indexed
``lease_expires_at``, which every step renews, so every step's update inserted an entry into each of the
run table's indexes (21 of them by now, 12 holding a run in progress) and left as many dead ones behind.

The reaper does not need that index: it takes back the runs in progress whose lease expired or whose
executor's session ended (``orchestra_sys_reap_expired``, migration 0011), a condition with an OR that no
range on the expiry serves, over the runs in progress, which are as many as the executors work on at once.
``ix_test_runs_in_progress`` holds those runs by their executor's presence key (set when a run is taken,
cleared when it ends: never by a step), which also serves the reaper's look-up of the executors that hold
runs. A fill factor of 90 leaves room on each page of runs written from now on for their next versions.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

_IN_PROGRESS = sa.text("status = 'IN_PROGRESS'")


def upgrade() -> None:
    op.drop_index("ix_test_runs_active_lease", table_name="test_runs")
    op.create_index(
        "ix_test_runs_in_progress", "test_runs", ["lease_presence_key"], postgresql_where=_IN_PROGRESS
    )
    op.execute("ALTER TABLE test_runs SET (fillfactor = 90)")


def downgrade() -> None:
    op.execute("ALTER TABLE test_runs RESET (fillfactor)")
    op.drop_index("ix_test_runs_in_progress", table_name="test_runs")
    op.create_index(
        "ix_test_runs_active_lease", "test_runs", ["lease_expires_at"], postgresql_where=_IN_PROGRESS
    )
