"""rollups off the step path: no rollup trigger fires when a step result is written

Migration 0028 kept the flakiness and operation rollups current on every insert into ``step_results``,
for steps written to a run that already has its verdict. No writer does that: the executor writes a step
only under its lease, to a run in progress (its fenced commit, executor/lease.py), and a run's steps are
counted when it gets its verdict (the ``test_runs`` update triggers of 0028 recompute the run's day with
its steps and add its calls). The two statement-level triggers, each a function call and a query over the
new rows, ran on every step commit of every run and counted nothing: they are dropped. Deleting steps
(retention) still subtracts them, and a run's verdict still counts its steps.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_TRIGGERS = {
    "flakiness_days_steps_insert": (
        "AFTER INSERT ON step_results REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
        "EXECUTE FUNCTION orchestra_flakiness_days_of_steps()"
    ),
    "operation_days_steps_insert": (
        "AFTER INSERT ON step_results REFERENCING NEW TABLE AS added_steps FOR EACH STATEMENT "
        "EXECUTE FUNCTION orchestra_operation_days_steps_added()"
    ),
}


def upgrade() -> None:
    # The functions stay (0028's downgrade drops them): the downgrade puts the triggers back as they were.
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON step_results")


def downgrade() -> None:
    for name, definition in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")
