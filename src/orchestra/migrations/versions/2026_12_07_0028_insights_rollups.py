"""insights rollups: daily summaries of the flakiness series and of the SUT operations, kept by triggers

At a million runs the flakiness page and the per-operation trends re-read the whole window on every call
(seconds). Daily rollups (UTC days) hold what they need, kept current in the transaction that writes a
run, a verdict or a step (so a reader never sees them behind what it sees of the runs), and backfilled here
from the existing history. docs/insights.md says how the pages combine them.

``flakiness_days``: one row per (test case, version, environment, day) with the day's verdicts (PASSED,
FAILED, ERROR, TIMED_OUT) of the kept runs and of the compact verdicts of deleted ones (``run_verdicts``):
their count, passes, the flips, recoveries (fail → pass) and breaks (pass → fail) between consecutive runs
of the day, the passes on an automatic retry, and the day's first and last run (id, creation, status). A
flip across days is the last run of one day against the first of the series' next day.
``step_flakiness_days``: per such day and step (phase, name), the step's occurrences, failures, passes on a
later attempt, the transitions and flips between consecutive runs of the day, and for the comparisons
across days its occurrences and passes in the day's first run and its last verdict in the day's last run.

Whatever changes a day of a series (a run inserted, deleted, given a verdict or re-dated; a verdict kept or
dropped; a step written or deleted), the day's rows are recomputed from its runs and steps: the day's row
is created if missing, locked, and then recomputed by a new statement, which (READ COMMITTED) sees what a
concurrent writer of the same day committed before it; so two writers of one day take turns and the later
one counts both. The functions belong to ``orchestra_system`` (SECURITY DEFINER): the reaper's verdicts
(ERROR after the last attempt) are written by it. It may read of ``test_runs`` also the test case, version
and creation of a run, of ``run_verdicts`` the compact verdict, of ``step_results`` the step's verdict
(phase, name, status, attempts; never its request, response or error), and read, insert and update the two
rollups (never delete: a day whose runs are all gone keeps a row with no runs, which no page shows).

``operation_days``: one row per (environment, day of the run's creation, method, path template, latency
bucket) with the calls and the errors (no HTTP status below 500) of the steps of runs with a verdict.
Latency buckets are logarithmic (each 2 % wider than the one below; 0 ms and below in a bucket of their
own), so the percentiles read from them are within 1 % of the exact ones; counts are exact. It only ever
adds and subtracts: a run's steps are added when the run gets its verdict (or when a step is written to a
run that has one), subtracted when the run loses it, when its steps are deleted (retention) or when it is
deleted with them. These triggers run with the writer's rights (the API and the executors, in the
tenant's context), as step results are content ``orchestra_system`` must not read: a verdict given by the
reaper puts the run in ``operation_backlog`` instead (``orchestra_system`` may insert its id), whose runs
the operations page counts from their steps directly.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from orchestra.migrations.backfill import row_security_lifted

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_SYSTEM = "SECURITY DEFINER SET search_path = public, pg_temp"
_VERDICTS = "('PASSED', 'FAILED', 'ERROR', 'TIMED_OUT')"
_VISIBLE = (
    "tenant_id = (SELECT orchestra_tenant()) AND ((SELECT orchestra_project_scope()) IS NULL "
    "OR project_id = (SELECT orchestra_project_scope()))"
)
_DAY_START = "(k.day::timestamp AT TIME ZONE 'UTC')"
_KEY = "tenant_id, project_id, test_case_id, environment_id, test_case_version_id, day"

# One series-day's figures from its verdicts (kept runs, and the compact verdicts of deleted ones not
# kept any more; during retention both exist for a moment).
_DAY_RUNS = f"""
            SELECT r.id, r.status, r.created_at, r.retry_of_id FROM test_runs r
            WHERE r.project_id = k.project_id AND r.test_case_id = k.test_case_id
              AND r.environment_id = k.environment_id AND r.test_case_version_id = k.test_case_version_id
              AND r.created_at >= {_DAY_START} AND r.created_at < {_DAY_START} + interval '1 day'
              AND r.status IN {_VERDICTS}
            UNION ALL
            SELECT v.id, v.status, v.created_at, v.retry_of_id FROM run_verdicts v
            WHERE v.project_id = k.project_id AND v.test_case_id = k.test_case_id
              AND v.environment_id = k.environment_id AND v.test_case_version_id = k.test_case_version_id
              AND v.created_at >= {_DAY_START} AND v.created_at < {_DAY_START} + interval '1 day'
              AND v.status IN {_VERDICTS}
              AND NOT EXISTS (SELECT 1 FROM test_runs x WHERE x.id = v.id)
"""
_DAY_FIGURES = f"""
    SELECT count(*) AS runs,
           count(*) FILTER (WHERE passed) AS passes,
           count(*) FILTER (WHERE passed <> passed_before) AS flips,
           count(*) FILTER (WHERE passed AND NOT passed_before) AS recoveries,
           count(*) FILTER (WHERE passed_before AND NOT passed) AS breaks,
           count(*) FILTER (WHERE passed AND retry_of_id IS NOT NULL) AS passed_on_retry,
           (array_agg(id ORDER BY created_at, id))[1] AS first_run_id,
           min(created_at) AS first_at,
           (array_agg(status ORDER BY created_at, id))[1] AS first_status,
           (array_agg(id ORDER BY created_at DESC, id DESC))[1] AS last_run_id,
           max(created_at) AS last_at,
           (array_agg(status ORDER BY created_at DESC, id DESC))[1] AS last_status
    FROM (
        SELECT o.*, o.status = 'PASSED' AS passed,
               lag(o.status = 'PASSED') OVER (ORDER BY o.created_at, o.id) AS passed_before
        FROM ({_DAY_RUNS}
        ) o
    ) p"""
# The same day's steps, as flakiness_queries.step_scores compares them: a step's occurrence with the last
# occurrence of the same (phase, name) in the series' previous run, when that run has it. Within the day;
# the day's first run is compared across days from ``first_occurrences``/``first_passes`` and the previous
# day's ``last_passed`` (the step's last occurrence in that day's last run, NULL when it has none).
_STEP_FIGURES = f"""
    WITH observed AS (
        SELECT o.id, row_number() OVER (ORDER BY o.created_at, o.id) AS ordinal, count(*) OVER () AS runs
        FROM ({_DAY_RUNS}) o
    ),
    occurrences AS (
        SELECT o.ordinal, o.runs AS last_ordinal, s.seq, s.phase, s.name, s.status = 'passed' AS passed,
               s.attempts
        FROM observed o JOIN step_results s ON s.test_run_id = o.id
        WHERE s.status <> 'skipped'
    ),
    before AS (
        SELECT *, lag(ordinal) OVER occurrence_order AS ordinal_before,
               lag(passed) OVER occurrence_order AS passed_before
        FROM occurrences
        WINDOW occurrence_order AS (PARTITION BY phase, name ORDER BY ordinal, seq)
    ),
    compared AS (
        SELECT *, first_value(CASE WHEN ordinal_before = ordinal - 1 THEN passed_before END)
                      OVER (PARTITION BY phase, name, ordinal ORDER BY seq) AS previous_passed
        FROM before
    )
    SELECT phase, name,
           count(*) AS runs,
           count(*) FILTER (WHERE NOT passed) AS failures,
           count(previous_passed) AS transitions,
           count(*) FILTER (WHERE previous_passed <> passed) AS flips,
           count(*) FILTER (WHERE passed AND attempts > 1) AS retried_passes,
           count(*) FILTER (WHERE ordinal = 1) AS first_occurrences,
           count(*) FILTER (WHERE ordinal = 1 AND passed) AS first_passes,
           (array_agg(passed ORDER BY seq DESC) FILTER (WHERE ordinal = last_ordinal))[1] AS last_passed
    FROM compared
    GROUP BY phase, name"""
_STEP_COUNTS = (
    "runs",
    "failures",
    "transitions",
    "flips",
    "retried_passes",
    "first_occurrences",
    "first_passes",
)
_STEP_KEY = f"{_KEY}, phase, name"
_FIGURES = (
    "runs",
    "passes",
    "flips",
    "recoveries",
    "breaks",
    "passed_on_retry",
    "first_run_id",
    "first_at",
    "first_status",
    "last_run_id",
    "last_at",
    "last_status",
)
_COUNTS = ("runs", "passes", "flips", "recoveries", "breaks", "passed_on_retry")
_SET = ", ".join(
    f"{name} = coalesce(f.{name}, 0)" if name in _COUNTS else f"{name} = f.{name}" for name in _FIGURES
)

_RECOMPUTE = (
    "orchestra_flakiness_recompute(tenants uuid[], projects uuid[], cases uuid[], environments uuid[], "
    "versions uuid[], days date[])"
)
_KEYS = f"""unnest(tenants, projects, cases, environments, versions, days) AS k({_KEY})"""
_RECOMPUTE_BODY = f"""
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        -- a row for each day (while its project and tenant exist: not in their own deletion's cascade)
        INSERT INTO flakiness_days ({_KEY})
        SELECT DISTINCT k.* FROM {_KEYS}
        WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = k.project_id)
          AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = k.tenant_id)
        ORDER BY 2, 3, 4, 5, 6
        ON CONFLICT DO NOTHING;
        -- locked in key order: the writers of one day take turns
        PERFORM 1 FROM flakiness_days d
        WHERE (d.project_id, d.test_case_id, d.environment_id, d.test_case_version_id, d.day) IN (
            SELECT k.project_id, k.test_case_id, k.environment_id, k.test_case_version_id, k.day FROM {_KEYS})
        ORDER BY d.project_id, d.test_case_id, d.environment_id, d.test_case_version_id, d.day
        FOR NO KEY UPDATE;
        -- this statement's snapshot sees what the writers before committed
        UPDATE flakiness_days d SET {_SET}
        FROM (SELECT DISTINCT k.* FROM {_KEYS}) k CROSS JOIN LATERAL ({_DAY_FIGURES}) f
        WHERE (d.project_id, d.test_case_id, d.environment_id, d.test_case_version_id, d.day)
            = (k.project_id, k.test_case_id, k.environment_id, k.test_case_version_id, k.day);
        -- its steps (under the same lock): emptied, then what the day has now
        UPDATE step_flakiness_days d
           SET {", ".join(f"{name} = 0" for name in _STEP_COUNTS)}, last_passed = NULL
        FROM (SELECT DISTINCT k.* FROM {_KEYS}) k
        WHERE (d.project_id, d.test_case_id, d.environment_id, d.test_case_version_id, d.day)
            = (k.project_id, k.test_case_id, k.environment_id, k.test_case_version_id, k.day)
          AND d.runs > 0;
        INSERT INTO step_flakiness_days ({_STEP_KEY}, {", ".join(_STEP_COUNTS)}, last_passed)
        SELECT k.*, f.*
        FROM (SELECT DISTINCT k.* FROM {_KEYS}) k CROSS JOIN LATERAL ({_STEP_FIGURES}) f
        WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = k.project_id)
          AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = k.tenant_id)
        ORDER BY 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (project_id, test_case_id, environment_id, test_case_version_id, day, phase, name)
        DO UPDATE SET {", ".join(f"{name} = EXCLUDED.{name}" for name in _STEP_COUNTS)},
                      last_passed = EXCLUDED.last_passed;
    END $$"""

_DAY_OF = "(changed.created_at AT TIME ZONE 'UTC')::date"
_CHANGED = "orchestra_flakiness_days_of_statement()"
_CHANGED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM orchestra_flakiness_recompute(
            array_agg(tenant_id), array_agg(project_id), array_agg(test_case_id), array_agg(environment_id),
            array_agg(test_case_version_id), array_agg(day))
        FROM (
            SELECT DISTINCT changed.tenant_id, changed.project_id, changed.test_case_id, changed.environment_id,
                   changed.test_case_version_id, {_DAY_OF} AS day
            FROM changed
            WHERE changed.status IN {_VERDICTS} AND changed.test_case_id IS NOT NULL
              AND changed.test_case_version_id IS NOT NULL
        ) keys
        HAVING count(*) > 0;
        RETURN NULL;
    END $$"""
_STEPS_CHANGED = "orchestra_flakiness_days_of_steps()"
_STEPS_CHANGED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM orchestra_flakiness_recompute(
            array_agg(tenant_id), array_agg(project_id), array_agg(test_case_id), array_agg(environment_id),
            array_agg(test_case_version_id), array_agg(day))
        FROM (
            SELECT DISTINCT r.tenant_id, r.project_id, r.test_case_id, r.environment_id,
                   r.test_case_version_id, (r.created_at AT TIME ZONE 'UTC')::date AS day
            FROM test_runs r
            WHERE r.id IN (SELECT DISTINCT changed.test_run_id FROM changed)
              AND r.status IN {_VERDICTS} AND r.test_case_id IS NOT NULL AND r.test_case_version_id IS NOT NULL
        ) keys
        HAVING count(*) > 0;
        RETURN NULL;
    END $$"""
_UPDATED = "orchestra_flakiness_days_of_run()"
_UPDATED_BODY = """
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM orchestra_flakiness_recompute(
            array_agg(tenant_id), array_agg(project_id), array_agg(test_case_id), array_agg(environment_id),
            array_agg(test_case_version_id), array_agg(day))
        FROM (VALUES (OLD.tenant_id, OLD.project_id, OLD.test_case_id, OLD.environment_id,
                      OLD.test_case_version_id, (OLD.created_at AT TIME ZONE 'UTC')::date, OLD.status),
                     (NEW.tenant_id, NEW.project_id, NEW.test_case_id, NEW.environment_id,
                      NEW.test_case_version_id, (NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status))
             AS run(tenant_id, project_id, test_case_id, environment_id, test_case_version_id, day, status)
        WHERE test_case_id IS NOT NULL AND test_case_version_id IS NOT NULL
        HAVING count(*) > 0;
        RETURN NULL;
    END $$"""
_SERIES_COLUMNS = (
    "status",
    "created_at",
    "retry_of_id",
    "test_case_id",
    "environment_id",
    "test_case_version_id",
)
_OLD = ", ".join(f"OLD.{column}" for column in _SERIES_COLUMNS)
_NEW = ", ".join(f"NEW.{column}" for column in _SERIES_COLUMNS)
_FLAKINESS_TRIGGERS = {
    "flakiness_days_runs_insert": (
        f"AFTER INSERT ON test_runs REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {_CHANGED}"
    ),
    "flakiness_days_runs_delete": (
        f"AFTER DELETE ON test_runs REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {_CHANGED}"
    ),
    "flakiness_days_verdicts_insert": (
        "AFTER INSERT ON run_verdicts REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {_CHANGED}"
    ),
    "flakiness_days_verdicts_delete": (
        "AFTER DELETE ON run_verdicts REFERENCING OLD TABLE AS changed FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {_CHANGED}"
    ),
    "flakiness_days_steps_insert": (
        "AFTER INSERT ON step_results REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {_STEPS_CHANGED}"
    ),
    "flakiness_days_steps_delete": (
        "AFTER DELETE ON step_results REFERENCING OLD TABLE AS changed FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {_STEPS_CHANGED}"
    ),
    "flakiness_days_runs_update": (
        f"AFTER UPDATE OF {', '.join(_SERIES_COLUMNS)} ON test_runs FOR EACH ROW "
        f"WHEN (({_OLD}) IS DISTINCT FROM ({_NEW}) "
        f"AND (OLD.status IN {_VERDICTS} OR NEW.status IN {_VERDICTS})) EXECUTE FUNCTION {_UPDATED}"
    ),
}

# The operation of a step's call, as insights/trends.py's operations_sql derives it.
_PATH_OF_URL = r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*"
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ID_SEGMENT = rf"/([0-9]+|{_UUID}|[0-9a-fA-F]{{16,}})(?=/|$)"
_PATH = (
    "regexp_replace(regexp_replace(regexp_replace(s.request->>'url', "
    f"'{_PATH_OF_URL}', ''), '[?#].*$', ''), '{_ID_SEGMENT}', '/{{id}}', 'g')"
)
_CALLS = f"""
    SELECT r.tenant_id, r.project_id, r.environment_id, (r.created_at AT TIME ZONE 'UTC')::date AS day,
           upper(coalesce(s.request->>'method', 'GET')) AS method,
           CASE WHEN {_PATH} = '' THEN '/' ELSE {_PATH} END AS path,
           CASE WHEN s.duration_ms <= 0 THEN -1000000
                ELSE floor(ln(s.duration_ms) / ln(1.02))::integer END AS bucket,
           count(*) AS calls,
           count(*) FILTER (WHERE ((s.response->>'status') ~ '^[0-9]+$'
                                   AND (s.response->>'status')::int < 500) IS NOT TRUE) AS errors
    FROM __STEPS__ s JOIN test_runs r ON r.id = s.test_run_id
    WHERE __RUNS__ AND s.request->>'url' IS NOT NULL AND s.status <> 'skipped'
    GROUP BY 1, 2, 3, 4, 5, 6, 7"""
_OPERATION_KEY = "project_id, environment_id, day, method, path, bucket"
_COUNTED = (
    f"r.status IN {_VERDICTS} AND NOT EXISTS (SELECT 1 FROM operation_backlog b WHERE b.test_run_id = r.id)"
)


def _add(steps: str, runs: str) -> str:
    return f"""
        INSERT INTO operation_days (tenant_id, {_OPERATION_KEY}, calls, errors)
        SELECT * FROM ({_CALLS.replace("__STEPS__", steps).replace("__RUNS__", runs)}) c ORDER BY 2, 3, 4, 5, 6, 7
        ON CONFLICT ({_OPERATION_KEY}) DO UPDATE
        SET calls = operation_days.calls + EXCLUDED.calls, errors = operation_days.errors + EXCLUDED.errors"""


def _subtract(steps: str, runs: str) -> str:
    return f"""
        UPDATE operation_days o SET calls = o.calls - c.calls, errors = o.errors - c.errors
        FROM ({_CALLS.replace("__STEPS__", steps).replace("__RUNS__", runs)}) c
        WHERE (o.project_id, o.environment_id, o.day, o.method, o.path, o.bucket)
            = (c.project_id, c.environment_id, c.day, c.method, c.path, c.bucket)"""


_STEPS_ADDED = "orchestra_operation_days_steps_added()"
_STEPS_ADDED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_add("added_steps", _COUNTED)};
        RETURN NULL;
    END $$"""
_STEPS_REMOVED = "orchestra_operation_days_steps_removed()"
_STEPS_REMOVED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_subtract("removed_steps", _COUNTED)};
        RETURN NULL;
    END $$"""
_RUN_CHANGED = "orchestra_operation_days_of_run()"
_RUN_CHANGED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN  -- before the run goes, with the steps it takes along
            IF OLD.status IN {_VERDICTS} THEN
                {_subtract("step_results", f"r.id = OLD.id AND {_COUNTED}")};
            END IF;
            RETURN OLD;
        END IF;
        IF NOT has_column_privilege('step_results', 'request', 'SELECT') THEN
            -- the reaper (orchestra_system) gave the verdict: its calls are counted from its steps
            IF NEW.status IN {_VERDICTS} THEN
                INSERT INTO operation_backlog (test_run_id, tenant_id, project_id)
                VALUES (NEW.id, NEW.tenant_id, NEW.project_id) ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END IF;
        IF OLD.status IN {_VERDICTS} THEN
            IF EXISTS (SELECT 1 FROM operation_backlog WHERE test_run_id = OLD.id) THEN
                DELETE FROM operation_backlog WHERE test_run_id = OLD.id;
            ELSE
                {_subtract("step_results", "r.id = OLD.id")};
            END IF;
        END IF;
        IF NEW.status IN {_VERDICTS} THEN
            {_add("step_results", "r.id = NEW.id")};
        END IF;
        RETURN NULL;
    END $$"""
_VERDICT_CHANGED = f"(OLD.status IN {_VERDICTS}) IS DISTINCT FROM (NEW.status IN {_VERDICTS})"
_OPERATION_TRIGGERS = {
    "operation_days_steps_insert": (
        "AFTER INSERT ON step_results REFERENCING NEW TABLE AS added_steps FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {_STEPS_ADDED}"
    ),
    "operation_days_steps_delete": (
        "AFTER DELETE ON step_results REFERENCING OLD TABLE AS removed_steps FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {_STEPS_REMOVED}"
    ),
    "operation_days_runs_update": (
        f"AFTER UPDATE OF status ON test_runs FOR EACH ROW WHEN ({_VERDICT_CHANGED}) "
        f"EXECUTE FUNCTION {_RUN_CHANGED}"
    ),
    "operation_days_runs_delete": f"BEFORE DELETE ON test_runs FOR EACH ROW EXECUTE FUNCTION {_RUN_CHANGED}",
}

_GRANTS = (
    "GRANT SELECT (test_case_id, test_case_version_id, created_at) ON test_runs TO orchestra_system",
    "GRANT SELECT (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id, retry_of_id, "
    "status, created_at) ON run_verdicts TO orchestra_system",
    "CREATE POLICY system_select ON run_verdicts FOR SELECT TO orchestra_system USING (true)",
    "GRANT SELECT, INSERT, UPDATE ON flakiness_days TO orchestra_system",
    "CREATE POLICY system_select ON flakiness_days FOR SELECT TO orchestra_system USING (true)",
    "CREATE POLICY system_insert ON flakiness_days FOR INSERT TO orchestra_system WITH CHECK (true)",
    "CREATE POLICY system_update ON flakiness_days FOR UPDATE TO orchestra_system USING (true) WITH CHECK (true)",
    "GRANT SELECT (test_run_id, seq, phase, name, status, attempts) ON step_results TO orchestra_system",
    "CREATE POLICY system_select ON step_results FOR SELECT TO orchestra_system USING (true)",
    "GRANT SELECT, INSERT, UPDATE ON step_flakiness_days TO orchestra_system",
    "CREATE POLICY system_select ON step_flakiness_days FOR SELECT TO orchestra_system USING (true)",
    "CREATE POLICY system_insert ON step_flakiness_days FOR INSERT TO orchestra_system WITH CHECK (true)",
    "CREATE POLICY system_update ON step_flakiness_days FOR UPDATE TO orchestra_system USING (true) "
    "WITH CHECK (true)",
    "GRANT SELECT (test_run_id), INSERT (test_run_id, tenant_id, project_id) ON operation_backlog "
    "TO orchestra_system",
    "CREATE POLICY system_select ON operation_backlog FOR SELECT TO orchestra_system USING (true)",
    "CREATE POLICY system_insert ON operation_backlog FOR INSERT TO orchestra_system WITH CHECK (true)",
)

_BACKFILL_FLAKINESS = f"""
    INSERT INTO flakiness_days ({_KEY}, {", ".join(_FIGURES)})
    SELECT k.*, f.* FROM (
        SELECT DISTINCT tenant_id, project_id, test_case_id, environment_id, test_case_version_id,
               (created_at AT TIME ZONE 'UTC')::date AS day
        FROM (SELECT tenant_id, project_id, test_case_id, environment_id, test_case_version_id, created_at
              FROM test_runs WHERE status IN {_VERDICTS} AND test_case_id IS NOT NULL
                AND test_case_version_id IS NOT NULL
              UNION ALL
              SELECT tenant_id, project_id, test_case_id, environment_id, test_case_version_id, created_at
              FROM run_verdicts WHERE status IN {_VERDICTS}) runs
    ) k CROSS JOIN LATERAL ({_DAY_FIGURES}) f"""


_BACKFILL_STEPS = f"""
    INSERT INTO step_flakiness_days ({_STEP_KEY}, {", ".join(_STEP_COUNTS)}, last_passed)
    SELECT k.{_KEY.replace(", ", ", k.")}, f.*
    FROM flakiness_days k CROSS JOIN LATERAL ({_STEP_FIGURES}) f"""


def _foreign_key(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete="CASCADE"
    )


def _secure(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")


def _create_tables() -> None:
    op.create_table(
        "flakiness_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_version_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in _COUNTS),
        sa.Column("first_run_id", sa.Uuid(), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_status", sa.String(length=16), nullable=True),
        sa.Column("last_run_id", sa.Uuid(), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        _foreign_key("flakiness_days", "tenant_id", "tenants"),
        _foreign_key("flakiness_days", "project_id", "projects"),
        sa.PrimaryKeyConstraint(
            "project_id",
            "test_case_id",
            "environment_id",
            "test_case_version_id",
            "day",
            name=op.f("pk_flakiness_days"),
        ),
    )
    op.create_index(op.f("ix_flakiness_days_tenant_id"), "flakiness_days", ["tenant_id"])
    op.create_index("ix_flakiness_days_project_day", "flakiness_days", ["project_id", "day"])
    op.create_table(
        "step_flakiness_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("test_case_version_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("phase", sa.String(length=10), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _STEP_COUNTS),
        sa.Column("last_passed", sa.Boolean(), nullable=True),
        _foreign_key("step_flakiness_days", "tenant_id", "tenants"),
        _foreign_key("step_flakiness_days", "project_id", "projects"),
        sa.PrimaryKeyConstraint(
            "project_id",
            "test_case_id",
            "environment_id",
            "test_case_version_id",
            "day",
            "phase",
            "name",
            name=op.f("pk_step_flakiness_days"),
        ),
    )
    op.create_index(op.f("ix_step_flakiness_days_tenant_id"), "step_flakiness_days", ["tenant_id"])
    op.create_table(
        "operation_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        _foreign_key("operation_days", "tenant_id", "tenants"),
        _foreign_key("operation_days", "project_id", "projects"),
        sa.PrimaryKeyConstraint(
            "project_id", "environment_id", "day", "method", "path", "bucket", name=op.f("pk_operation_days")
        ),
    )
    op.create_index(op.f("ix_operation_days_tenant_id"), "operation_days", ["tenant_id"])
    op.create_index("ix_operation_days_project_day", "operation_days", ["project_id", "day"])
    op.create_table(
        "operation_backlog",
        sa.Column("test_run_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["test_run_id"],
            ["test_runs.id"],
            name=op.f("fk_operation_backlog_test_run_id_test_runs"),
            ondelete="CASCADE",
        ),
        _foreign_key("operation_backlog", "tenant_id", "tenants"),
        _foreign_key("operation_backlog", "project_id", "projects"),
        sa.PrimaryKeyConstraint("test_run_id", name=op.f("pk_operation_backlog")),
    )
    op.create_index(op.f("ix_operation_backlog_tenant_id"), "operation_backlog", ["tenant_id"])
    op.create_index(op.f("ix_operation_backlog_project_id"), "operation_backlog", ["project_id"])
    for table in ("flakiness_days", "step_flakiness_days", "operation_days", "operation_backlog"):
        _secure(table)
    # a day of a series among the compact verdicts of deleted runs
    op.create_index(
        "ix_run_verdicts_series",
        "run_verdicts",
        ["project_id", "test_case_id", "environment_id", "test_case_version_id", "created_at"],
    )


# What the backfill reads and writes.
_BACKFILLED = (
    "test_runs",
    "step_results",
    "run_verdicts",
    "flakiness_days",
    "step_flakiness_days",
    "operation_days",
    "operation_backlog",
)


def upgrade() -> None:
    _create_tables()
    for statement in _GRANTS:
        op.execute(statement)
    for signature, body, system in (
        (_RECOMPUTE, _RECOMPUTE_BODY, True),
        (_CHANGED, _CHANGED_BODY, True),
        (_UPDATED, _UPDATED_BODY, True),
        (_STEPS_CHANGED, _STEPS_CHANGED_BODY, True),
        (_STEPS_ADDED, _STEPS_ADDED_BODY, False),
        (_STEPS_REMOVED, _STEPS_REMOVED_BODY, False),
        (_RUN_CHANGED, _RUN_CHANGED_BODY, False),
    ):
        op.execute(f"CREATE FUNCTION {signature} {body}")
        if system:
            op.execute(f"ALTER FUNCTION {signature} {_SYSTEM}")
            op.execute(f"ALTER FUNCTION {signature} OWNER TO orchestra_system")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")  # only ever called by triggers
    for name, definition in {**_FLAKINESS_TRIGGERS, **_OPERATION_TRIGGERS}.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")
    # The history so far (the rollups are empty: no trigger has fired yet), as the tables' owner.
    with row_security_lifted(_BACKFILLED):
        op.execute(_BACKFILL_FLAKINESS)
        op.execute(_BACKFILL_STEPS)
        op.execute(_add("step_results", f"r.status IN {_VERDICTS}"))


def downgrade() -> None:
    for name, definition in {**_FLAKINESS_TRIGGERS, **_OPERATION_TRIGGERS}.items():
        table = definition.split(" ON ", 1)[1].split()[0]
        op.execute(f"DROP TRIGGER {name} ON {table}")
    for signature in (
        _RUN_CHANGED,
        _STEPS_REMOVED,
        _STEPS_ADDED,
        _STEPS_CHANGED,
        _UPDATED,
        _CHANGED,
        _RECOMPUTE,
    ):
        op.execute(f"DROP FUNCTION {signature}")
    op.execute("DROP POLICY system_select ON step_results")
    op.execute(
        "REVOKE SELECT (test_run_id, seq, phase, name, status, attempts) ON step_results FROM orchestra_system"
    )
    op.execute("DROP POLICY system_select ON run_verdicts")
    op.execute(
        "REVOKE SELECT (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id, "
        "retry_of_id, status, created_at) ON run_verdicts FROM orchestra_system"
    )
    op.execute(
        "REVOKE SELECT (test_case_id, test_case_version_id, created_at) ON test_runs FROM orchestra_system"
    )
    op.drop_index("ix_run_verdicts_series", table_name="run_verdicts")
    for table in ("operation_backlog", "operation_days", "step_flakiness_days", "flakiness_days"):
        op.drop_table(table)
