"""the scrape-time run gauges: runs waiting and in progress per environment, across tenants

``orchestra_sys_run_gauges()`` counts the active runs (PENDING, QUEUED, IN_PROGRESS) by environment name and
status, for the ``/metrics`` endpoint (docs/operations.md). Like the scheduler's functions (migration 0006)
it is owned by ``orchestra_system`` and returns counts only; it reads one more column for that, the
environment's name. Only active runs are read (the status index), so a scrape costs the same whatever the
history holds.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_GAUGES = "orchestra_sys_run_gauges()"


def upgrade() -> None:
    op.execute("GRANT SELECT (name) ON environments TO orchestra_system")
    op.execute(
        f"""
        CREATE FUNCTION {_GAUGES}
        RETURNS TABLE (environment text, status text, n bigint)
        LANGUAGE sql STABLE AS $$
            SELECT e.name::text, r.status::text, count(*)
            FROM test_runs r JOIN environments e ON e.id = r.environment_id
            WHERE r.status IN ('PENDING', 'QUEUED', 'IN_PROGRESS')
            GROUP BY e.name, r.status
        $$"""
    )
    op.execute(f"ALTER FUNCTION {_GAUGES} SECURITY DEFINER SET search_path = public, pg_temp")
    op.execute(f"ALTER FUNCTION {_GAUGES} OWNER TO orchestra_system")
    op.execute(f"REVOKE ALL ON FUNCTION {_GAUGES} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_GAUGES} TO orchestra_app")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {_GAUGES}")
    op.execute("REVOKE SELECT (name) ON environments FROM orchestra_system")
