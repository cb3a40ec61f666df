"""trend rollups: the verdicts and durations of the trends page per environment and UTC day

The trends page (pass rate and duration percentiles per day or week) re-read every run of its window.
``trend_days`` holds, per (environment, day of the run's creation, duration bucket), the verdicts (PASSED,
FAILED, ERROR, TIMED_OUT) of the kept runs and of the compact verdicts of deleted ones (``run_verdicts``),
exactly what the page counted: how many, and how many passed. Duration buckets are those of
``operation_days`` (migration 0028: logarithmic, each 2 % wider than the one below, 0 ms and below in a
bucket of their own), so the percentiles read from them are within 1 % of the exact ones; a verdict without a
duration (not started or not finished) is in a bucket of its own that no percentile reads.

It only ever adds and subtracts, from the rows written alone (never reading a table): a run or a compact
verdict is added when it is inserted with a verdict or given one, subtracted when it is deleted or loses
its verdict, and an update of its verdict, creation, start, end or environment subtracts the row as it was
and adds it as it is. The functions belong to ``orchestra_system`` (SECURITY DEFINER): the reaper's verdicts
are written by it; it may read, insert and update ``trend_days`` (never delete: a day whose runs are all
gone keeps rows with no runs, which no page shows).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from orchestra.migrations.backfill import row_security_lifted

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_SYSTEM = "SECURITY DEFINER SET search_path = public, pg_temp"
_VERDICTS = "('PASSED', 'FAILED', 'ERROR', 'TIMED_OUT')"
_VISIBLE = (
    "tenant_id = (SELECT orchestra_tenant()) AND ((SELECT orchestra_project_scope()) IS NULL "
    "OR project_id = (SELECT orchestra_project_scope()))"
)
# insights/trend_rollups.py: NO_DURATION; operation_rollups.py: ZERO_BUCKET and GROWTH
_DURATION = "extract(epoch FROM r.finished_at - r.started_at) * 1000"
_BUCKET = (
    f"CASE WHEN {_DURATION} IS NULL THEN -2000000 WHEN {_DURATION} <= 0 THEN -1000000 "
    f"ELSE floor(ln({_DURATION}) / ln(1.02))::integer END"
)
_KEY = "project_id, environment_id, day, bucket"
_COUNTS = f"""
    SELECT r.tenant_id, r.project_id, r.environment_id, (r.created_at AT TIME ZONE 'UTC')::date AS day,
           {_BUCKET} AS bucket, count(*) AS runs, count(*) FILTER (WHERE r.status = 'PASSED') AS passes
    FROM __ROWS__
    WHERE r.status IN {_VERDICTS}
    GROUP BY 1, 2, 3, 4, 5"""
_COLUMNS = "tenant_id, project_id, environment_id, status, created_at, started_at, finished_at"


def _add(rows: str) -> str:
    return f"""
        INSERT INTO trend_days (tenant_id, {_KEY}, runs, passes)
        SELECT * FROM ({_COUNTS.replace("__ROWS__", rows)}) c ORDER BY 2, 3, 4, 5
        ON CONFLICT ({_KEY}) DO UPDATE
        SET runs = trend_days.runs + EXCLUDED.runs, passes = trend_days.passes + EXCLUDED.passes"""


def _subtract(rows: str) -> str:
    return f"""
        UPDATE trend_days t SET runs = t.runs - c.runs, passes = t.passes - c.passes
        FROM ({_COUNTS.replace("__ROWS__", rows)}) c
        WHERE (t.project_id, t.environment_id, t.day, t.bucket) = (c.project_id, c.environment_id, c.day, c.bucket)"""


def _row(record: str) -> str:
    values = ", ".join(f"{record}.{column}" for column in _COLUMNS.split(", "))
    return f"(VALUES ({values})) AS r({_COLUMNS})"


_ADDED = "orchestra_trend_days_added()"
_ADDED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_add("added r")};
        RETURN NULL;
    END $$"""
_REMOVED = "orchestra_trend_days_removed()"
_REMOVED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_subtract("removed r")};
        RETURN NULL;
    END $$"""
_UPDATED = "orchestra_trend_days_updated()"
_UPDATED_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_subtract(_row("OLD"))};
        {_add(_row("NEW"))};
        RETURN NULL;
    END $$"""
_CHANGED = " OR ".join(
    f"OLD.{column} IS DISTINCT FROM NEW.{column}"
    for column in ("status", "created_at", "started_at", "finished_at", "environment_id", "project_id")
)
_RELEVANT = f"(OLD.status IN {_VERDICTS} OR NEW.status IN {_VERDICTS}) AND ({_CHANGED})"
_TRIGGERS = {
    f"trend_days_{table}_{event}": definition
    for table in ("runs", "verdicts")
    for event, definition in {
        "insert": (
            f"AFTER INSERT ON __TABLE__ REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION {_ADDED}"
        ),
        "delete": (
            "AFTER DELETE ON __TABLE__ REFERENCING OLD TABLE AS removed FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {_REMOVED}"
        ),
        "update": f"AFTER UPDATE ON __TABLE__ FOR EACH ROW WHEN ({_RELEVANT}) EXECUTE FUNCTION {_UPDATED}",
    }.items()
}
_TABLES = {"runs": "test_runs", "verdicts": "run_verdicts"}

_GRANTS = (
    "GRANT SELECT, INSERT, UPDATE ON trend_days TO orchestra_system",
    "CREATE POLICY system_select ON trend_days FOR SELECT TO orchestra_system USING (true)",
    "CREATE POLICY system_insert ON trend_days FOR INSERT TO orchestra_system WITH CHECK (true)",
    "CREATE POLICY system_update ON trend_days FOR UPDATE TO orchestra_system USING (true) WITH CHECK (true)",
)


def _definition(name: str) -> str:
    table = _TABLES[name.split("_")[2]]
    return _TRIGGERS[name].replace("__TABLE__", table)


def upgrade() -> None:
    op.create_table(
        "trend_days",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("environment_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("runs", sa.BigInteger(), nullable=False),
        sa.Column("passes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_trend_days_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_trend_days_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "environment_id", "day", "bucket", name=op.f("pk_trend_days")),
    )
    op.create_index(op.f("ix_trend_days_tenant_id"), "trend_days", ["tenant_id"])
    op.execute("ALTER TABLE trend_days ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE trend_days FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON trend_days USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")
    for statement in _GRANTS:
        op.execute(statement)
    for signature, body in ((_ADDED, _ADDED_BODY), (_REMOVED, _REMOVED_BODY), (_UPDATED, _UPDATED_BODY)):
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"ALTER FUNCTION {signature} {_SYSTEM}")
        op.execute(f"ALTER FUNCTION {signature} OWNER TO orchestra_system")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")  # only ever called by triggers
    for name in _TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} {_definition(name)}")
    # The history so far (the rollup is empty: no trigger has fired yet).
    with row_security_lifted(("test_runs", "run_verdicts", "trend_days")):  # as the tables' owner
        op.execute(
            _add(f"(SELECT {_COLUMNS} FROM test_runs UNION ALL SELECT {_COLUMNS} FROM run_verdicts) r")
        )


def downgrade() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {_TABLES[name.split('_')[2]]}")
    for signature in (_UPDATED, _REMOVED, _ADDED):
        op.execute(f"DROP FUNCTION {signature}")
    op.drop_table("trend_days")
