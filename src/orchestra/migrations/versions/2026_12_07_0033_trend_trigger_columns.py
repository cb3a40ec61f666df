"""trend trigger columns: the trends rollup's update trigger on runs names the columns it looks at

``trend_days_runs_update`` (migration 0029) fired on every update of a run and decided in its WHEN clause
whether the update concerned it. Every step commit updates its run (context, heartbeat, lease), so
PostgreSQL read that clause from the catalogue's text form and evaluated it in every step commit, for
nothing: a step changes none of the columns the clause compares. Named as ``UPDATE OF`` those columns, the
trigger is skipped before its clause is even read for any update that sets none of them. The same updates as
before fire it: the clause already required one of these columns to change, and no BEFORE UPDATE trigger on
``test_runs`` changes a column its statement did not set (an UPDATE OF trigger looks at the statement's SET
list). The trigger of ``run_verdicts`` (rows written once, never by a step) stays as it is.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 14:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

_VERDICTS = "('PASSED', 'FAILED', 'ERROR', 'TIMED_OUT')"
_COLUMNS = ("status", "created_at", "started_at", "finished_at", "environment_id", "project_id")
_CHANGED = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in _COLUMNS)
_RELEVANT = f"(OLD.status IN {_VERDICTS} OR NEW.status IN {_VERDICTS}) AND ({_CHANGED})"
_NAME = "trend_days_runs_update"


def _recreate(event: str) -> None:
    op.execute(f"DROP TRIGGER {_NAME} ON test_runs")
    op.execute(
        f"CREATE TRIGGER {_NAME} AFTER {event} ON test_runs FOR EACH ROW WHEN ({_RELEVANT}) "
        "EXECUTE FUNCTION orchestra_trend_days_updated()"
    )


def upgrade() -> None:
    _recreate(f"UPDATE OF {', '.join(_COLUMNS)}")


def downgrade() -> None:
    _recreate("UPDATE")
