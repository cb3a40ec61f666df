"""suite run summary: a suite run's status, start and end kept on its row, for the suite-run list's filters,
orders and indexes (and one by suite); GET /runs?sort=duration reads its page along an index

A suite run's status derives from its runs (models/run_states.py's ``suite_status``, runs/service.py's
``get_suite_run``): a run that was retried counts through its retry, a muted failure counts as a pass, the
setup and teardown count like tests. Derived at query time, GET /suite-runs?status=… and its orders by status
or duration aggregated every run of the tenant (with 100,000 suite runs, seconds). Here the database keeps
that summary on ``suite_runs`` (``status``, ``started_at``: the first run's start, ``finished_at``: the last
one's end once the suite run has ended), as the trigger of migration 0021 decides a suite run's end:

- ``orchestra_summarise_suite_run(suite)`` recomputes one suite run's summary from its runs. It locks
  the suite run's row first (FOR NO KEY UPDATE: inserting its runs, which KEY SHARE-locks it, is not held
  up), so changes to the runs of one suite run are summarised one after another, each reading (READ
  COMMITTED: every statement its own snapshot) what the one before committed.
- statement-level triggers on ``test_runs`` inserted or deleted summarise each suite run the statement
  touched once, in id order (two statements touching the same suite runs lock them in the same order);
- a row-level trigger on ``test_runs`` updated summarises the run's suite run when its status, start, end
  or mute changed. Its condition is checked by PostgreSQL itself, before any function is called, so the
  updates that change none of them (a step's commit of the run's context, a heartbeat) cost nothing: a
  statement-level update trigger would copy every updated row, context and all, into its transition
  tables on every step.

Both belong to ``orchestra_system`` (SECURITY DEFINER: the scheduler's admission and the reaper move runs
across tenants), which may read of ``test_runs`` also ``started_at`` and ``finished_at`` (what 0006 and 0021
granted covers the rest) and may update of ``suite_runs`` only the summary. tests/integration/
test_suite_runs_list_api.py compares the stored summary with the derived one in every case they differ in.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_SYSTEM = "SECURITY DEFINER SET search_path = public, pg_temp"
_TERMINAL = "('PASSED', 'FAILED', 'ERROR', 'CANCELLED', 'TIMED_OUT')"
_MUTABLE = "('FAILED', 'ERROR', 'TIMED_OUT')"  # quarantine/service.py's MUTABLE

_SUMMARISE = "orchestra_summarise_suite_run(suite uuid)"
_SUMMARISE_BODY = f"""
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM suite_runs WHERE id = suite FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RETURN;  -- deleted (its runs go with it)
        END IF;
        UPDATE suite_runs s
           SET status = v.status, started_at = v.started_at, finished_at = v.finished_at
          FROM (
            SELECT CASE
                     WHEN a.unended THEN
                       CASE WHEN a.all_pending THEN 'PENDING' WHEN a.all_waiting THEN 'QUEUED'
                            ELSE 'IN_PROGRESS' END
                     -- as suite_status: the worst verdict, a muted failure counting as a pass
                     WHEN a.has_error THEN 'ERROR'
                     WHEN a.has_timed_out THEN 'TIMED_OUT'
                     WHEN a.has_failed THEN 'FAILED'
                     WHEN a.has_cancelled THEN 'CANCELLED'
                     ELSE 'PASSED'
                   END AS status,
                   a.started_at,
                   CASE WHEN a.unended THEN NULL ELSE a.finished_at END AS finished_at
              FROM (
                SELECT coalesce(bool_or(r.status NOT IN {_TERMINAL}) FILTER (WHERE r.counted), false) AS unended,
                       bool_and(r.status = 'PENDING') FILTER (WHERE r.counted) AS all_pending,
                       bool_and(r.status IN ('PENDING', 'QUEUED')) FILTER (WHERE r.counted) AS all_waiting,
                       coalesce(bool_or(r.effective = 'ERROR') FILTER (WHERE r.counted), false) AS has_error,
                       coalesce(bool_or(r.effective = 'TIMED_OUT') FILTER (WHERE r.counted), false)
                         AS has_timed_out,
                       coalesce(bool_or(r.effective = 'FAILED') FILTER (WHERE r.counted), false) AS has_failed,
                       coalesce(bool_or(r.effective = 'CANCELLED') FILTER (WHERE r.counted), false)
                         AS has_cancelled,
                       min(r.started_at) AS started_at,
                       max(r.finished_at) AS finished_at
                  FROM (
                    SELECT t.status, t.started_at, t.finished_at,
                           -- a run that was retried counts through its retry
                           NOT EXISTS (SELECT 1 FROM test_runs x WHERE x.retry_of_id = t.id) AS counted,
                           CASE WHEN t.mute_id IS NOT NULL AND t.status IN {_MUTABLE} THEN 'PASSED'
                                ELSE t.status END AS effective
                      FROM test_runs t WHERE t.suite_run_id = suite
                  ) r
              ) a
          ) v
         WHERE s.id = suite
           AND (s.status, s.started_at, s.finished_at) IS DISTINCT FROM (v.status, v.started_at, v.finished_at);
    END $$"""

_TRIGGER_FUNCTION = "orchestra_suite_run_summary()"
_TRIGGER_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        suite uuid;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            FOR suite IN SELECT DISTINCT suite_run_id FROM changed_runs
                         WHERE suite_run_id IS NOT NULL ORDER BY 1 LOOP
                PERFORM {_SUMMARISE.replace("suite uuid", "suite")};
            END LOOP;
        ELSE
            FOR suite IN SELECT DISTINCT suite_run_id FROM removed_runs
                         WHERE suite_run_id IS NOT NULL ORDER BY 1 LOOP
                PERFORM {_SUMMARISE.replace("suite uuid", "suite")};
            END LOOP;
        END IF;
        RETURN NULL;
    END $$"""
_ROW_FUNCTION = "orchestra_suite_run_summary_of_run()"
_ROW_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM {_SUMMARISE.replace("suite uuid", "NEW.suite_run_id")};
        RETURN NULL;
    END $$"""
_SUMMARISED = ("status", "started_at", "finished_at", "mute_id")  # what a suite run's summary reads of a run
_OLD = ", ".join(f"OLD.{column}" for column in _SUMMARISED)
_NEW = ", ".join(f"NEW.{column}" for column in _SUMMARISED)
_ROW_TRIGGER = (
    f"CREATE TRIGGER suite_run_summary_update AFTER UPDATE OF {', '.join(_SUMMARISED)} ON test_runs "
    f"FOR EACH ROW WHEN (NEW.suite_run_id IS NOT NULL AND ({_OLD}) IS DISTINCT FROM ({_NEW})) "
    f"EXECUTE FUNCTION {_ROW_FUNCTION}"
)
_TRIGGERS = {
    "suite_run_summary_insert": "AFTER INSERT ON test_runs REFERENCING NEW TABLE AS changed_runs",
    "suite_run_summary_delete": "AFTER DELETE ON test_runs REFERENCING OLD TABLE AS removed_runs",
}
_GRANTS = (
    "GRANT SELECT (started_at, finished_at) ON test_runs TO orchestra_system",
    "GRANT SELECT (status, started_at, finished_at), UPDATE (status, started_at, finished_at) "
    "ON suite_runs TO orchestra_system",
    "CREATE POLICY system_update ON suite_runs FOR UPDATE TO orchestra_system USING (true) WITH CHECK (true)",
)
_DURATION = sa.text("(finished_at - started_at)")


def upgrade() -> None:
    op.add_column(
        "suite_runs",
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "QUEUED",
                "IN_PROGRESS",
                "PASSED",
                "FAILED",
                "ERROR",
                "CANCELLED",
                "TIMED_OUT",
                name="run_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="PENDING",
            nullable=False,
        ),
    )
    op.add_column("suite_runs", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("suite_runs", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    for statement in _GRANTS:
        op.execute(statement)
    for signature, body in (
        (_SUMMARISE, _SUMMARISE_BODY),
        (_TRIGGER_FUNCTION, _TRIGGER_BODY),
        (_ROW_FUNCTION, _ROW_BODY),
    ):
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"ALTER FUNCTION {signature} {_SYSTEM}")
        op.execute(f"ALTER FUNCTION {signature} OWNER TO orchestra_system")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    for name, when in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION {_TRIGGER_FUNCTION}")
    op.execute(_ROW_TRIGGER)
    op.execute("SELECT orchestra_summarise_suite_run(id) FROM suite_runs ORDER BY id")

    # The list's pages: newest first, by name, by status, by duration (tenant, key, id; both directions).
    op.create_index("ix_suite_runs_tenant_created", "suite_runs", ["tenant_id", "created_at", "id"])
    op.create_index("ix_suite_runs_tenant_name", "suite_runs", ["tenant_id", "name", "id"])
    op.create_index("ix_suite_runs_tenant_status", "suite_runs", ["tenant_id", "status", "id"])
    # A suite's runs, newest first (GET /suite-runs?suite=…; also what a deleted suite's SET NULL looks up).
    op.create_index("ix_suite_runs_suite_created", "suite_runs", ["suite_id", "created_at", "id"])
    for table in ("suite_runs", "test_runs"):
        op.create_index(
            f"ix_{table}_tenant_duration", table, [sa.text("tenant_id"), _DURATION, sa.text("id")]
        )


def downgrade() -> None:
    for table in ("suite_runs", "test_runs"):
        op.drop_index(f"ix_{table}_tenant_duration", table_name=table)
    op.drop_index("ix_suite_runs_suite_created", table_name="suite_runs")
    for key in ("status", "name", "created"):
        op.drop_index(f"ix_suite_runs_tenant_{key}", table_name="suite_runs")
    for name in (*_TRIGGERS, "suite_run_summary_update"):
        op.execute(f"DROP TRIGGER {name} ON test_runs")
    op.execute(f"DROP FUNCTION {_ROW_FUNCTION}")
    op.execute(f"DROP FUNCTION {_TRIGGER_FUNCTION}")
    op.execute(f"DROP FUNCTION {_SUMMARISE}")
    op.execute("DROP POLICY system_update ON suite_runs")
    op.execute(
        "REVOKE SELECT (status, started_at, finished_at), UPDATE (status, started_at, finished_at) "
        "ON suite_runs FROM orchestra_system"
    )
    op.execute("REVOKE SELECT (started_at, finished_at) ON test_runs FROM orchestra_system")
    for column in ("finished_at", "started_at", "status"):
        op.drop_column("suite_runs", column)
