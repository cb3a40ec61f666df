"""row-level security: tenant isolation enforced by PostgreSQL, the application role, and the narrow
cross-tenant functions of the scheduler and the executor

Roles (cluster-wide, created if missing; see docs/security.md):

- ``orchestra_app``: what the API, the scheduler and the executors connect as (or a login role granted
  it). Not the owner of any table, no BYPASSRLS: every tenant-owned table has row-level security enabled
  AND forced, with a policy that shows a row only when its ``tenant_id`` is the tenant set for the current
  transaction (``SET LOCAL orchestra.tenant_id``, read by ``orchestra_tenant()``). No tenant set: no rows.
  A transaction of a project-scoped API token also sets ``orchestra.project_id``: rows of other projects of
  the tenant are then hidden too, wherever the table has a project.
- ``orchestra_system``: NOLOGIN. Owns the SECURITY DEFINER functions ``orchestra_sys_*`` below, the only
  way to look across tenants: the scheduler's admission pass, the reaper, the republisher of lost messages,
  the executor's "which tenant is this run id?" and the tenant lookup by name. It holds SELECT/UPDATE on
  exactly the columns those functions read or write (no definitions, variables, secrets, contexts, step
  results), and ``orchestra_app`` may only EXECUTE the functions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 04:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Tables whose rows belong to one project (the column that names it), hidden from other projects' tokens.
PROJECT_COLUMN = {
    "audit_events": "project_id",
    "projects": "id",
    "api_tokens": "project_id",
    "environments": "project_id",
    "suites": "project_id",
    "test_cases": "project_id",
    "schedules": "project_id",
    "suite_runs": "project_id",
    "test_runs": "project_id",
}

TENANT_TABLES = (
    "audit_events",
    "projects",
    "api_tokens",
    "environments",
    "suites",
    "test_cases",
    "environment_rate_slots",
    "schedules",
    "suite_runs",
    "test_case_versions",
    "schedule_fires",
    "test_runs",
    "step_results",
)

# Columns orchestra_system may read (and write) — everything the orchestra_sys_* functions touch.
SYSTEM_GRANTS = (
    "GRANT SELECT (id, tenant_id, project_id, environment_id, suite_run_id, status, status_reason, queue_key, "
    "queued_at, attempt, lease_owner, lease_expires_at) ON test_runs TO orchestra_system",
    "GRANT UPDATE (status, status_reason, attempt, finished_at, queued_at, lease_owner, lease_expires_at) "
    "ON test_runs TO orchestra_system",
    "GRANT SELECT (id, name, weight, max_active_runs) ON tenants TO orchestra_system",
    "GRANT INSERT (id, name) ON tenants TO orchestra_system",
    "GRANT SELECT (id, project_id, max_active_runs) ON environments TO orchestra_system",
    "GRANT SELECT (id, max_active_runs) ON projects TO orchestra_system",
    "GRANT SELECT (id, parallelism) ON suite_runs TO orchestra_system",
    "GRANT SELECT (id, tenant_id, enabled, next_fire_at) ON schedules TO orchestra_system",
)
SYSTEM_POLICIES = (
    ("test_runs", "SELECT"),
    ("test_runs", "UPDATE"),
    ("tenants", "SELECT"),
    ("tenants", "INSERT"),
    ("environments", "SELECT"),
    ("projects", "SELECT"),
    ("suite_runs", "SELECT"),
    ("schedules", "SELECT"),
)

FUNCTIONS = {
    "orchestra_sys_active_counts()": """
        RETURNS TABLE (tenant_id uuid, project_id uuid, environment_id uuid, suite_run_id uuid, n bigint)
        LANGUAGE sql STABLE AS $$
            SELECT tenant_id, project_id, environment_id, suite_run_id, count(*)
            FROM test_runs WHERE status IN ('QUEUED', 'IN_PROGRESS')
            GROUP BY tenant_id, project_id, environment_id, suite_run_id
        $$""",
    # Every (tenant, environment) pair with PENDING runs, by a loose index scan: one index probe per
    # pair, whatever the number of runs.
    "orchestra_sys_pending_groups()": """
        RETURNS TABLE (tenant_id uuid, environment_id uuid, project_id uuid, weight integer,
                       max_active_runs integer)
        LANGUAGE sql STABLE AS $$
            WITH RECURSIVE g(tenant_id, environment_id) AS (
                (SELECT r.tenant_id, r.environment_id FROM test_runs r WHERE r.status = 'PENDING'
                 ORDER BY r.tenant_id, r.environment_id LIMIT 1)
                UNION ALL
                SELECT s.tenant_id, s.environment_id FROM g, LATERAL (
                    SELECT r.tenant_id, r.environment_id FROM test_runs r
                    WHERE r.status = 'PENDING' AND (r.tenant_id, r.environment_id) > (g.tenant_id, g.environment_id)
                    ORDER BY r.tenant_id, r.environment_id LIMIT 1
                ) s
            )
            SELECT g.tenant_id, g.environment_id, e.project_id, tn.weight, tn.max_active_runs
            FROM g JOIN tenants tn ON tn.id = g.tenant_id JOIN environments e ON e.id = g.environment_id
        $$""",
    "orchestra_sys_project_limits()": """
        RETURNS TABLE (id uuid, max_active_runs integer)
        LANGUAGE sql STABLE AS $$
            SELECT id, max_active_runs FROM projects WHERE max_active_runs IS NOT NULL
        $$""",
    "orchestra_sys_environment_limits()": """
        RETURNS TABLE (id uuid, max_active_runs integer)
        LANGUAGE sql STABLE AS $$
            SELECT id, max_active_runs FROM environments WHERE max_active_runs IS NOT NULL
        $$""",
    "orchestra_sys_suite_run_limits(ids uuid[])": """
        RETURNS TABLE (id uuid, parallelism integer)
        LANGUAGE sql STABLE AS $$
            SELECT id, parallelism FROM suite_runs WHERE id = ANY(ids) AND parallelism IS NOT NULL
        $$""",
    "orchestra_sys_candidates(tenants uuid[], environments uuid[], full_suite_runs uuid[], per_group integer, "
    "scan_window integer)": """
        RETURNS TABLE (id uuid, tenant_id uuid, project_id uuid, environment_id uuid, suite_run_id uuid,
                       queue_key double precision)
        LANGUAGE sql STABLE AS $$
            SELECT c.id, c.tenant_id, c.project_id, c.environment_id, c.suite_run_id, c.queue_key
            FROM unnest(tenants, environments) AS g(tenant_id, environment_id)
            CROSS JOIN LATERAL (
                SELECT * FROM (
                    SELECT r.id, r.tenant_id, r.project_id, r.environment_id, r.suite_run_id, r.queue_key
                    FROM test_runs r
                    WHERE r.status = 'PENDING' AND r.tenant_id = g.tenant_id
                      AND r.environment_id = g.environment_id
                    ORDER BY r.queue_key LIMIT scan_window
                ) head
                WHERE head.suite_run_id IS NULL OR head.suite_run_id <> ALL(full_suite_runs)
                ORDER BY head.queue_key LIMIT per_group
            ) c
        $$""",
    "orchestra_sys_mark_queued(ids uuid[])": """
        RETURNS SETOF uuid
        LANGUAGE sql VOLATILE AS $$
            UPDATE test_runs SET status = 'QUEUED', queued_at = now()
            WHERE id = ANY(ids) AND status = 'PENDING'
            RETURNING id
        $$""",
    "orchestra_sys_reap_expired(max_attempts integer)": """
        RETURNS TABLE (id uuid, status text)
        LANGUAGE sql VOLATILE AS $$
            UPDATE test_runs SET
                status = CASE WHEN attempt < max_attempts THEN 'QUEUED' ELSE 'ERROR' END,
                status_reason = CASE WHEN attempt < max_attempts THEN status_reason
                    ELSE 'lease expired on attempt ' || attempt || ' of ' || max_attempts
                         || ' (executor ' || coalesce(lease_owner, '?') || ' stopped responding)' END,
                attempt = CASE WHEN attempt < max_attempts THEN attempt + 1 ELSE attempt END,
                finished_at = CASE WHEN attempt < max_attempts THEN NULL ELSE now() END,
                queued_at = now(), lease_owner = NULL, lease_expires_at = NULL
            WHERE status = 'IN_PROGRESS' AND lease_expires_at < now()
            RETURNING id, status
        $$""",
    "orchestra_sys_stale_queued(stale_s double precision, batch integer)": """
        RETURNS SETOF uuid
        LANGUAGE sql VOLATILE AS $$
            UPDATE test_runs SET queued_at = now()
            WHERE id IN (
                SELECT id FROM test_runs
                WHERE status = 'QUEUED' AND queued_at < now() - make_interval(secs => stale_s)
                ORDER BY queued_at LIMIT batch FOR UPDATE SKIP LOCKED
            )
            RETURNING id
        $$""",
    "orchestra_sys_run_tenant(run_id uuid)": """
        RETURNS uuid
        LANGUAGE sql STABLE AS $$
            SELECT tenant_id FROM test_runs WHERE id = run_id
        $$""",
    "orchestra_sys_due_schedules(at timestamptz, batch integer)": """
        RETURNS TABLE (id uuid, tenant_id uuid)
        LANGUAGE sql STABLE AS $$
            SELECT id, tenant_id FROM schedules
            WHERE enabled AND next_fire_at IS NOT NULL AND next_fire_at <= at
            ORDER BY next_fire_at LIMIT batch
        $$""",
    "orchestra_sys_tenant(tenant_name text)": """
        RETURNS uuid
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE found uuid;
        BEGIN
            SELECT id INTO found FROM tenants WHERE name = tenant_name;
            IF found IS NULL THEN
                INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), tenant_name)
                ON CONFLICT (name) DO NOTHING;
                SELECT id INTO found FROM tenants WHERE name = tenant_name;
            END IF;
            RETURN found;
        END
        $$""",
}


def _create_roles() -> None:
    for role in ("orchestra_app", "orchestra_system"):
        op.execute(
            f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                    CREATE ROLE {role} NOLOGIN;
                END IF;
            EXCEPTION WHEN duplicate_object THEN NULL;  -- created concurrently by another database's migration
            END $$"""
        )
    # The migrating role must be able to hand the functions to orchestra_system.
    op.execute(
        """DO $$ BEGIN
            IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                EXECUTE format('GRANT orchestra_system TO %I', current_user);
            END IF;
        END $$"""
    )


def upgrade() -> None:
    _create_roles()
    op.execute(
        """CREATE FUNCTION orchestra_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$
            SELECT nullif(current_setting('orchestra.tenant_id', true), '')::uuid
        $$"""
    )
    op.execute(
        """CREATE FUNCTION orchestra_project_scope() RETURNS uuid LANGUAGE sql STABLE AS $$
            SELECT nullif(current_setting('orchestra.project_id', true), '')::uuid
        $$"""
    )
    op.execute("GRANT USAGE ON SCHEMA public TO orchestra_app, orchestra_system")
    op.execute("GRANT CREATE ON SCHEMA public TO orchestra_system")  # to own its functions
    op.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO orchestra_app")
    op.execute("REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM orchestra_app")
    # A tenant's own row: its limits may change (PATCH /tenant), never its name (identity providers map
    # users to tenants by name), and rows are created only through orchestra_sys_tenant.
    op.execute("REVOKE INSERT, UPDATE, DELETE ON tenants FROM orchestra_app")
    op.execute("GRANT UPDATE (weight, max_active_runs, updated_at) ON tenants TO orchestra_app")
    op.execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO orchestra_app")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO orchestra_app"
    )
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO orchestra_app")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")

    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        visible = "tenant_id = orchestra_tenant()"
        if table in PROJECT_COLUMN:
            visible += f" AND (orchestra_project_scope() IS NULL OR {PROJECT_COLUMN[table]} = orchestra_project_scope())"
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({visible}) WITH CHECK ({visible})")
    op.execute("ALTER TABLE tenants ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE tenants FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON tenants USING (id = orchestra_tenant()) WITH CHECK (id = orchestra_tenant())"
    )

    for statement in SYSTEM_GRANTS:
        op.execute(statement)
    for table, command in SYSTEM_POLICIES:
        check = "WITH CHECK (true)" if command == "INSERT" else "USING (true)"
        if command == "UPDATE":
            check = "USING (true) WITH CHECK (true)"
        op.execute(
            f"CREATE POLICY system_{command.lower()} ON {table} FOR {command} TO orchestra_system {check}"
        )

    for signature, body in FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {signature} {body}")
        op.execute(f"ALTER FUNCTION {signature} SECURITY DEFINER SET search_path = public, pg_temp")
        op.execute(f"ALTER FUNCTION {signature} OWNER TO orchestra_system")
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO orchestra_app")
    for function in ("orchestra_tenant()", "orchestra_project_scope()"):
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO orchestra_app, orchestra_system")


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION {signature}")
    for table, command in SYSTEM_POLICIES:
        op.execute(f"DROP POLICY system_{command.lower()} ON {table}")
    for table in (*TENANT_TABLES, "tenants"):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION orchestra_tenant()")
    op.execute("DROP FUNCTION orchestra_project_scope()")
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM orchestra_system")
