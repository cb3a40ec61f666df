"""webhooks: a project's webhooks, their outbox (one delivery per webhook and event) and delivery log

Events are written in the transaction of the change that causes them, so a committed change always has
its deliveries and a rolled-back one never does:

- a run's verdict: the trigger ``webhook_run_finished`` on ``test_runs`` (every way a run ends: the
  executor's finish, the reaper's last attempt, a cancel) queues ``run.failed`` for a FAILED, ERROR or
  TIMED_OUT run that was not muted, and, when the run was the last of its suite run to end,
  ``suite_run.finished`` (and ``suite_run.failed`` unless the suite run PASSED or was CANCELLED). Runs of
  one suite run that end at once take a transaction-level advisory lock on the suite run first, so the
  last one to commit sees the others ended; the unique ``(webhook_id, event_key)`` keeps an event from
  being queued twice whatever happens.
- a schedule's misfire: the firing pass (schedules/firing.py), in its transaction.

The trigger function belongs to ``orchestra_system`` (SECURITY DEFINER: the reaper ends runs across
tenants), which may read of ``webhooks`` only which project wants which events, and of ``test_runs`` also
``mute_id`` and ``retry_of_id``, and may only insert deliveries. ``orchestra_sys_webhook_tenants`` lists the tenants with a
delivery due, for the deliverers (webhooks/delivery.py), which then claim them inside each tenant.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_VISIBLE = (
    "tenant_id = (SELECT orchestra_tenant()) AND ((SELECT orchestra_project_scope()) IS NULL "
    "OR project_id = (SELECT orchestra_project_scope()))"
)
_DUE = "state = 'pending'"
_FAILING = "('FAILED', 'ERROR', 'TIMED_OUT')"
_TERMINAL = "('PASSED', 'FAILED', 'ERROR', 'CANCELLED', 'TIMED_OUT')"
_SYSTEM = "SECURITY DEFINER SET search_path = public, pg_temp"

_TENANTS = "orchestra_sys_webhook_tenants(at timestamp with time zone)"
_TENANTS_BODY = """
    RETURNS SETOF uuid LANGUAGE sql STABLE AS $$
        SELECT DISTINCT d.tenant_id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
        WHERE d.state = 'pending' AND d.next_attempt_at <= at AND w.enabled
    $$"""

# Queues event ``kind`` (key ``kind || '/' || subject``) for every enabled webhook of the run's project
# that wants it. The event id is derived from the key: the same event has the same id for every webhook.
_QUEUE = """
        INSERT INTO webhook_deliveries
            (id, tenant_id, project_id, webhook_id, event_id, event_type, event_key, event)
        SELECT gen_random_uuid(), NEW.tenant_id, NEW.project_id, w.id, md5({key})::uuid, {kind}, {key}, {event}
        FROM webhooks w
        WHERE w.project_id = NEW.project_id AND w.enabled AND {kind} = ANY (w.events)
        ON CONFLICT DO NOTHING;"""
_RUN_EVENT = """jsonb_build_object('run', jsonb_build_object(
            'id', NEW.id, 'name', NEW.name, 'status', NEW.status, 'reason', left(NEW.status_reason, 500),
            'attempt', NEW.attempt, 'environment_id', NEW.environment_id, 'suite_run_id', NEW.suite_run_id,
            'suite_phase', NEW.suite_phase, 'test_case_id', NEW.test_case_id, 'started_at', NEW.started_at,
            'finished_at', coalesce(NEW.finished_at, now())), 'occurred_at', now())"""
_SUITE_EVENT = """jsonb_build_object('suite_run', jsonb_build_object(
            'id', NEW.suite_run_id, 'status', verdict, 'total', total, 'muted', muted, 'counts', counts,
            'environment_id', NEW.environment_id), 'occurred_at', now())"""

_TRIGGER_FUNCTION = "orchestra_webhook_run_finished()"
# a run that was retried (migration 0020) counts through its retry, as in runs/rerun.py's suite verdict
_NOT_RETRIED = "NOT EXISTS (SELECT 1 FROM test_runs x WHERE x.retry_of_id = r.id)"
_TRIGGER_BODY = f"""
    RETURNS trigger LANGUAGE plpgsql {_SYSTEM} AS $$
    DECLARE
        remaining bigint;
        total bigint;
        muted bigint;
        effective text[];
        counts jsonb;
        verdict text;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.project_id = NEW.project_id AND w.enabled) THEN
            RETURN NULL;
        END IF;
        -- a failed run that got its retry (runs/retry: created by the same statement) is told by the retry
        IF NEW.status IN {_FAILING} AND NEW.mute_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM test_runs x WHERE x.retry_of_id = NEW.id) THEN
            {_QUEUE.format(kind="'run.failed'", key="'run.failed/' || NEW.id", event=_RUN_EVENT)}
        END IF;
        IF NEW.suite_run_id IS NULL THEN
            RETURN NULL;
        END IF;
        -- the runs of a suite run that end at the same time do so one after the other from here: the last
        -- to take the lock sees every other one ended (each statement below reads what was committed)
        PERFORM pg_advisory_xact_lock(21, hashtext(NEW.suite_run_id::text));
        SELECT count(*) FILTER (WHERE r.status NOT IN {_TERMINAL}),
               count(*) FILTER (WHERE r.suite_phase IS NULL),
               count(*) FILTER (WHERE r.suite_phase IS NULL AND r.mute_id IS NOT NULL
                                AND r.status IN {_FAILING}),
               array_agg(CASE WHEN r.mute_id IS NOT NULL AND r.status IN {_FAILING} THEN 'PASSED'
                              ELSE r.status END)
          INTO remaining, total, muted, effective
          FROM test_runs r WHERE r.suite_run_id = NEW.suite_run_id AND {_NOT_RETRIED};
        IF remaining > 0 THEN
            RETURN NULL;
        END IF;
        -- as models/run_states.py's suite_status: the worst verdict, a muted failure counting as a pass
        verdict := CASE WHEN 'ERROR' = ANY (effective) THEN 'ERROR'
                        WHEN 'TIMED_OUT' = ANY (effective) THEN 'TIMED_OUT'
                        WHEN 'FAILED' = ANY (effective) THEN 'FAILED'
                        WHEN 'CANCELLED' = ANY (effective) THEN 'CANCELLED'
                        ELSE 'PASSED' END;
        SELECT coalesce(jsonb_object_agg(c.status, c.n), '{{}}'::jsonb) INTO counts
          FROM (SELECT r.status, count(*) AS n FROM test_runs r
                WHERE r.suite_run_id = NEW.suite_run_id AND r.suite_phase IS NULL AND {_NOT_RETRIED}
                GROUP BY r.status) c;
        {_QUEUE.format(kind="'suite_run.finished'", key="'suite_run.finished/' || NEW.suite_run_id", event=_SUITE_EVENT)}
        IF verdict IN {_FAILING} THEN
            {_QUEUE.format(kind="'suite_run.failed'", key="'suite_run.failed/' || NEW.suite_run_id", event=_SUITE_EVENT)}
        END IF;
        RETURN NULL;
    END $$"""
_TRIGGER = f"""
    CREATE TRIGGER webhook_run_finished AFTER UPDATE OF status ON test_runs FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN {_TERMINAL})
    EXECUTE FUNCTION {_TRIGGER_FUNCTION}"""

_SYSTEM_GRANTS = (
    "GRANT SELECT (id, tenant_id, project_id, events, enabled) ON webhooks TO orchestra_system",
    "GRANT SELECT (id, tenant_id, webhook_id, state, next_attempt_at) ON webhook_deliveries "
    "TO orchestra_system",
    "GRANT INSERT (id, tenant_id, project_id, webhook_id, event_id, event_type, event_key, event) "
    "ON webhook_deliveries TO orchestra_system",
    "GRANT SELECT (mute_id, retry_of_id) ON test_runs TO orchestra_system",
)
_SYSTEM_POLICIES = (
    "CREATE POLICY system_select ON webhooks FOR SELECT TO orchestra_system USING (true)",
    "CREATE POLICY system_select ON webhook_deliveries FOR SELECT TO orchestra_system USING (true)",
    "CREATE POLICY system_insert ON webhook_deliveries FOR INSERT TO orchestra_system WITH CHECK (true)",
)


def _foreign_key(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.id"], name=op.f(f"fk_{table}_{column}_{parent}"), ondelete="CASCADE"
    )


def _isolate(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('generic', 'slack', 'teams')", name=op.f("ck_webhooks_kind")),
        _foreign_key("webhooks", "tenant_id", "tenants"),
        _foreign_key("webhooks", "project_id", "projects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_webhooks_project_id_name")),
    )
    op.create_index(op.f("ix_webhooks_tenant_id"), "webhooks", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_webhooks_project_id"), "webhooks", ["project_id"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("event", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=10), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_deliveries_state")
        ),
        _foreign_key("webhook_deliveries", "tenant_id", "tenants"),
        _foreign_key("webhook_deliveries", "project_id", "projects"),
        _foreign_key("webhook_deliveries", "webhook_id", "webhooks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "webhook_id", "event_key", name=op.f("uq_webhook_deliveries_webhook_id_event_key")
        ),
    )
    op.create_index(op.f("ix_webhook_deliveries_tenant_id"), "webhook_deliveries", ["tenant_id"])
    op.create_index(op.f("ix_webhook_deliveries_project_id"), "webhook_deliveries", ["project_id"])
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["next_attempt_at"], postgresql_where=sa.text(_DUE)
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_created", "webhook_deliveries", ["webhook_id", "created_at"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        _foreign_key("webhook_attempts", "tenant_id", "tenants"),
        _foreign_key("webhook_attempts", "project_id", "projects"),
        _foreign_key("webhook_attempts", "webhook_id", "webhooks"),
        _foreign_key("webhook_attempts", "delivery_id", "webhook_deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    for column in ("tenant_id", "project_id", "webhook_id", "delivery_id"):
        op.create_index(op.f(f"ix_webhook_attempts_{column}"), "webhook_attempts", [column])
    for table in ("webhooks", "webhook_deliveries", "webhook_attempts"):
        _isolate(table)
    for statement in (*_SYSTEM_GRANTS, *_SYSTEM_POLICIES):
        op.execute(statement)

    op.execute(f"CREATE FUNCTION {_TENANTS} {_TENANTS_BODY}")
    op.execute(f"ALTER FUNCTION {_TENANTS} {_SYSTEM}")
    op.execute(f"ALTER FUNCTION {_TENANTS} OWNER TO orchestra_system")
    op.execute(f"REVOKE ALL ON FUNCTION {_TENANTS} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {_TENANTS} TO orchestra_app")
    op.execute(f"CREATE FUNCTION {_TRIGGER_FUNCTION} {_TRIGGER_BODY}")
    op.execute(f"ALTER FUNCTION {_TRIGGER_FUNCTION} OWNER TO orchestra_system")
    op.execute(f"REVOKE ALL ON FUNCTION {_TRIGGER_FUNCTION} FROM PUBLIC")
    op.execute(_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER webhook_run_finished ON test_runs")
    op.execute(f"DROP FUNCTION {_TRIGGER_FUNCTION}")
    op.execute(f"DROP FUNCTION {_TENANTS}")
    op.execute("REVOKE SELECT (mute_id, retry_of_id) ON test_runs FROM orchestra_system")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
