"""live notifications: a committed step or run status change NOTIFYs the processes serving live streams

Three triggers ``pg_notify('orchestra_changes', ...)`` with ids only: ``run:<id>`` when a step result of the
run is inserted or the run's status changes, and ``suite:<id>`` when a run of that suite run is created or
changes status. A NOTIFY is part of the transaction that makes it, delivered only when it commits, so a
stream woken by one always finds the row it announces; identical ones of one transaction are sent once.
Every writer (the executor's step commit and verdict, the scheduler's admission and reaper, a cancel through
the API) notifies without a line of its own. The payload names no tenant's data: a stream woken by it reads
through row-level security like any request (kit/live_changes.py, runs/events.py).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_STEP = "orchestra_notify_step()"
_RUN = "orchestra_notify_run()"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION {_STEP} RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('orchestra_changes', 'run:' || NEW.test_run_id);
            RETURN NULL;
        END $$"""
    )
    op.execute(
        f"""
        CREATE FUNCTION {_RUN} RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('orchestra_changes', 'run:' || NEW.id);
            IF NEW.suite_run_id IS NOT NULL THEN
                PERFORM pg_notify('orchestra_changes', 'suite:' || NEW.suite_run_id);
            END IF;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        f"CREATE TRIGGER step_results_notify AFTER INSERT ON step_results FOR EACH ROW EXECUTE FUNCTION {_STEP}"
    )
    op.execute(
        "CREATE TRIGGER test_runs_notify_status AFTER UPDATE OF status ON test_runs FOR EACH ROW "
        f"WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION {_RUN}"
    )
    op.execute(
        "CREATE TRIGGER test_runs_notify_created AFTER INSERT ON test_runs FOR EACH ROW "
        f"WHEN (NEW.suite_run_id IS NOT NULL) EXECUTE FUNCTION {_RUN}"
    )
    for function in (_STEP, _RUN):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")  # only ever called by its triggers


def downgrade() -> None:
    op.execute("DROP TRIGGER test_runs_notify_created ON test_runs")
    op.execute("DROP TRIGGER test_runs_notify_status ON test_runs")
    op.execute("DROP TRIGGER step_results_notify ON step_results")
    op.execute(f"DROP FUNCTION {_RUN}")
    op.execute(f"DROP FUNCTION {_STEP}")
