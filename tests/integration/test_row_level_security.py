"""Row-level security seen from PostgreSQL itself: what the application role can and cannot read or write
with and without a tenant set, that every tenant-owned table is covered, what ``orchestra_system`` and its
SECURITY DEFINER functions expose, and that the services refuse to run as a role RLS does not hold."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.config import Settings
from orchestra.db import APP_ROLE, Database, UnsafeDatabaseRole, make_engine
from orchestra.migrate import migrate_database
from orchestra.models import Base, FlakinessDay, StepFlakinessDay, TrendDay
from orchestra.runtime import Runtime
from orchestra.tenant_context import ContextKey
from tests.integration.conftest import Harness
from tests.integration.tenant_rows import (
    SECRET,
    TENANT_TABLES,
    count,
    fill_every_tenant_table,
    set_tenant,
)

# Tables without a tenant: each one is platform-wide on purpose (a new one must be added here knowingly).
NOT_TENANT_OWNED = {"tenants", "platform_limits", "alembic_version", "tenant_context_key"}

FLAKINESS_DAYS = {column.name for column in FlakinessDay.__table__.columns}
STEP_FLAKINESS_DAYS = {column.name for column in StepFlakinessDay.__table__.columns}
TREND_DAYS = {column.name for column in TrendDay.__table__.columns}
# Exactly what orchestra_system may touch (migrations 0006, 0008, 0011, 0022, 0027 and 0028): no
# definitions, variables, secrets, contexts, requests, responses or tokens.
SYSTEM_COLUMNS = {
    ("test_runs", "SELECT"): {
        "id",
        "tenant_id",
        "project_id",
        "environment_id",
        "suite_run_id",
        "status",
        "status_reason",
        "queue_key",
        "queued_at",
        "attempt",
        "lease_owner",
        "lease_expires_at",
        "lease_presence_key",
        "suite_phase",
        "mute_id",  # the webhook trigger's suite verdict (migration 0021)
        "retry_of_id",  # the same: a retried run counts through its retry
        "started_at",  # the suite run summary's trigger (migration 0027): its first start …
        "finished_at",  # … and its last end
        # the flakiness rollup's triggers (migration 0028): a run's series and day
        "test_case_id",
        "test_case_version_id",
        "created_at",
    },
    ("test_runs", "UPDATE"): {
        "status",
        "status_reason",
        "attempt",
        "finished_at",
        "queued_at",
        "lease_owner",
        "lease_expires_at",
        "lease_presence_key",
    },
    ("tenants", "SELECT"): {"id", "name", "weight", "max_active_runs"},
    ("tenants", "INSERT"): {"id", "name"},
    ("environments", "SELECT"): {"id", "project_id", "max_active_runs", "name"},  # name: migration 0015
    ("projects", "SELECT"): {"id", "max_active_runs"},
    ("suite_runs", "SELECT"): {"id", "parallelism", "status", "started_at", "finished_at"},
    ("suite_runs", "UPDATE"): {"status", "started_at", "finished_at"},  # its summary (migration 0027)
    ("schedules", "SELECT"): {"id", "tenant_id", "enabled", "next_fire_at"},
    ("data_ledger", "SELECT"): {"tenant_id", "test_run_id", "status", "attempts"},
    ("tenant_context_key", "SELECT"): {"inner_pad", "outer_pad"},
    # the webhook trigger (migration 0021): who wants which events, and queuing a delivery
    ("webhooks", "SELECT"): {"id", "tenant_id", "project_id", "events", "enabled"},
    ("webhook_deliveries", "SELECT"): {"id", "tenant_id", "webhook_id", "state", "next_attempt_at"},
    ("webhook_deliveries", "INSERT"): {
        "id",
        "tenant_id",
        "project_id",
        "webhook_id",
        "event_id",
        "event_type",
        "event_key",
        "event",
    },
    ("retention_policies", "SELECT"): {"tenant_id", "keep_days", "keep_last"},  # migration 0022
    # the flakiness rollup's triggers (migration 0028): verdicts, step verdicts (never a request, a response
    # or an error) and the rollup itself; a run whose verdict the reaper gave, for the operations page
    ("run_verdicts", "SELECT"): {
        "id",
        "tenant_id",
        "project_id",
        "test_case_id",
        "test_case_version_id",
        "environment_id",
        "retry_of_id",
        "status",
        "created_at",
    },
    ("step_results", "SELECT"): {"test_run_id", "seq", "phase", "name", "status", "attempts"},
    **{("flakiness_days", privilege): FLAKINESS_DAYS for privilege in ("SELECT", "INSERT", "UPDATE")},
    **{
        ("step_flakiness_days", privilege): STEP_FLAKINESS_DAYS
        for privilege in ("SELECT", "INSERT", "UPDATE")
    },
    ("operation_backlog", "SELECT"): {"test_run_id"},
    ("operation_backlog", "INSERT"): {"test_run_id", "tenant_id", "project_id"},
    # the trend rollup's triggers (migration 0029): they read only the rows written, and the rollup itself
    **{("trend_days", privilege): TREND_DAYS for privilege in ("SELECT", "INSERT", "UPDATE")},
}
# What the orchestra_sys_* functions may return: ids, counts, limits and run states, nothing of content.
SYSTEM_RESULT_COLUMNS = {
    "id",
    "tenant_id",
    "project_id",
    "environment_id",
    "suite_run_id",
    "n",
    "weight",
    "max_active_runs",
    "parallelism",
    "queue_key",
    "status",
    "environment",  # the environment's name, for the run gauges of /metrics (migration 0015)
}
SYSTEM_FUNCTIONS = {
    "orchestra_sys_active_counts": "SELECT * FROM orchestra_sys_active_counts()",
    "orchestra_sys_pending_groups": "SELECT * FROM orchestra_sys_pending_groups()",
    "orchestra_sys_project_limits": "SELECT * FROM orchestra_sys_project_limits()",
    "orchestra_sys_environment_limits": "SELECT * FROM orchestra_sys_environment_limits()",
    "orchestra_sys_suite_run_limits": "SELECT * FROM orchestra_sys_suite_run_limits(ARRAY[:run]::uuid[])",
    "orchestra_sys_candidates": "SELECT * FROM orchestra_sys_candidates("
    "ARRAY[:tenant]::uuid[], ARRAY[:environment]::uuid[], ARRAY[]::uuid[], 10, 10)",
    "orchestra_sys_mark_queued": "SELECT * FROM orchestra_sys_mark_queued(ARRAY[]::uuid[])",
    "orchestra_sys_reap_expired": "SELECT * FROM orchestra_sys_reap_expired(3)",
    "orchestra_sys_stale_queued": "SELECT * FROM orchestra_sys_stale_queued(1e9, 0)",
    "orchestra_sys_run_tenant": "SELECT orchestra_sys_run_tenant(:run) AS tenant_id",
    "orchestra_sys_due_schedules": "SELECT * FROM orchestra_sys_due_schedules(now(), 10)",
    "orchestra_sys_tenant": "SELECT orchestra_sys_tenant('rls-probe') AS id",
    "orchestra_sys_ledger_tenants": "SELECT * FROM orchestra_sys_ledger_tenants(5) AS tenant_id",
    "orchestra_sys_run_gauges": "SELECT * FROM orchestra_sys_run_gauges()",
    "orchestra_sys_webhook_tenants": "SELECT * FROM orchestra_sys_webhook_tenants(now()) AS tenant_id",
    "orchestra_sys_retention_tenants": "SELECT * FROM orchestra_sys_retention_tenants() AS tenant_id",
}


def sqlstate(error: DBAPIError) -> str:
    return str(getattr(error.orig, "sqlstate", "") or "")


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(owner_database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def app_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The application role, on connections no service touched (each statement commits by itself)."""
    engine = create_async_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        await engine.dispose()


async def refused(
    engine: AsyncEngine, statement: str, states: tuple[str, ...] = ("42501",), **params: Any
) -> str:
    """``statement`` fails with one of ``states`` (42501: insufficient privilege); returns the message."""
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError) as caught:
            await conn.execute(text(statement), params)
    assert sqlstate(caught.value) in states, f"{statement}: {caught.value}"
    return str(caught.value.orig)


@pytest.fixture
async def data(
    harness: Harness, api: httpx.AsyncClient, runtime: Runtime, owner: AsyncEngine
) -> dict[str, Any]:
    """Tenant 1 with a row in every tenant-owned table, through the API where it can be."""
    return await fill_every_tenant_table(harness, api, runtime, owner)


VERIFIED_TENANT = "( SELECT orchestra_tenant() AS orchestra_tenant)"
PROJECT_SCOPE = "( SELECT orchestra_project_scope() AS orchestra_project_scope)"
_PARENT_IN_SCOPE = re.compile(r"EXISTS \( SELECT 1 FROM (\w+) p WHERE \(p\.id = (\w+)\.(\w+)\)\)")
_FOREIGN_KEYS = text(
    """SELECT c.conrelid::regclass::text AS child, a.attname AS key, c.confrelid::regclass::text AS parent
    FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    WHERE c.contype = 'f' AND cardinality(c.conkey) = 1"""
)


def assert_project_scoped(table: str, expression: str, foreign_keys: set[tuple[str, str, str]]) -> None:
    """A project-scoped context sees the table's rows of its project only: by the row's project column, or
    through the parent row its foreign key names, whose own policy holds the project."""
    assert f"{PROJECT_SCOPE} IS NULL) OR " in expression, f"{table}: {expression}"
    column = "id" if table == "projects" else "project_id"
    if f"({column} = {PROJECT_SCOPE})" in expression:
        return
    parent = _PARENT_IN_SCOPE.search(expression)
    assert parent is not None, f"{table} is not scoped to a project: {expression}"
    assert parent[2] == table, expression
    assert (table, parent[3], parent[1]) in foreign_keys, f"{table}.{parent[3]} does not name a {parent[1]}"
    assert parent[1] in PROJECT_TABLES, f"{table}'s parent {parent[1]} has no project column"


PROJECT_TABLES = {t.name for t in Base.metadata.sorted_tables if "project_id" in t.c} | {"projects"}


async def test_every_tenant_table_is_covered_by_forced_rls(owner: AsyncEngine) -> None:
    """From the live catalog, so a table added by a migration without RLS fails here, model or not."""
    async with owner.connect() as conn:
        foreign_keys = {(row.child, row.key, row.parent) for row in await conn.execute(_FOREIGN_KEYS)}
        tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            ).scalars()
        )
        with_tenant = set(
            (
                await conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND column_name = 'tenant_id'"
                    )
                )
            ).scalars()
        )
        assert set(TENANT_TABLES) <= with_tenant
        assert tables - with_tenant == NOT_TENANT_OWNED, (
            "a table without tenant_id: is it really platform-wide?"
        )
        for table in sorted(with_tenant | {"tenants"}):
            flags = (
                await conn.execute(
                    text(
                        "SELECT c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relname = :t"
                    ),
                    {"t": table},
                )
            ).one()
            assert (flags.relrowsecurity, flags.relforcerowsecurity) == (True, True), table
            policies = (
                await conn.execute(
                    text(
                        "SELECT policyname, permissive, roles, cmd, qual, with_check FROM pg_policies "
                        "WHERE schemaname = current_schema() AND tablename = :t"
                    ),
                    {"t": table},
                )
            ).all()
            isolation = [p for p in policies if p.policyname == "tenant_isolation"]
            assert len(isolation) == 1, f"{table}: {policies}"
            policy = isolation[0]
            assert policy.permissive == "PERMISSIVE"
            assert policy.cmd == "ALL"
            assert list(policy.roles) == ["public"]
            column = "id" if table == "tenants" else "tenant_id"
            # the verified tenant, once per statement (an InitPlan), and the project scope but on tenants
            for expression in (policy.qual, policy.with_check):
                assert f"{column} = {VERIFIED_TENANT}" in expression, expression
                if table != "tenants":
                    assert_project_scoped(table, " ".join(expression.split()), foreign_keys)
            # any other policy is one of orchestra_system's, on a table its functions read
            for other in policies:
                if other.policyname != "tenant_isolation":
                    assert list(other.roles) == ["orchestra_system"], f"{table}: {other}"
                    assert (table, other.cmd) in SYSTEM_COLUMNS, f"{table}: {other}"


async def test_application_role_is_held_by_rls(owner: AsyncEngine) -> None:
    async with owner.connect() as conn:
        role = (
            await conn.execute(
                text(
                    "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication "
                    "FROM pg_roles WHERE rolname = :r"
                ),
                {"r": APP_ROLE},
            )
        ).one()
        assert tuple(role) == (False, False, False, False, False)
        owned = await conn.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND pg_has_role(:r, c.relowner, 'USAGE')"
            ),
            {"r": APP_ROLE},
        )
        assert owned.scalar_one() == 0, "orchestra_app owns (or inherits the owner of) a table"
        member = await conn.execute(
            text(
                "SELECT pg_has_role(:r, 'orchestra_system', 'MEMBER'),"
                " has_schema_privilege(:r, 'public', 'CREATE')"
            ),
            {"r": APP_ROLE},
        )
        assert tuple(member.one()) == (False, False)


async def test_no_tenant_set_shows_no_rows(data: dict[str, Any], app_engine: AsyncEngine) -> None:
    tenant = data["tenant"]
    async with app_engine.connect() as conn:
        assert (await conn.execute(text("SELECT current_user"))).scalar_one() == APP_ROLE
        for table in TENANT_TABLES:
            assert await count(conn, table) == 0, table
            assert await count(conn, table, "tenant_id = :t", t=tenant) == 0, table
        assert await count(conn, "tenants") == 0
        # the same connection with the tenant set sees every row (the policy is not simply "deny")
        await set_tenant(conn, data["key"], tenant)
        for table in TENANT_TABLES:
            assert await count(conn, table) == data["counts"][table], table
        assert await count(conn, "tenants") == 1
        # and an empty value is no tenant again
        await set_tenant(conn, data["key"], "")
        assert await count(conn, "projects") == 0


async def test_another_tenant_sees_and_changes_nothing(
    data: dict[str, Any], app_engine: AsyncEngine, owner: AsyncEngine, runtime: Runtime
) -> None:
    tenant = data["tenant"]
    async with runtime.db.transaction(None) as session:
        other = (await session.execute(text("SELECT orchestra_sys_tenant('rls-other')"))).scalar_one()
    async with app_engine.connect() as conn:
        await set_tenant(conn, data["key"], other)
        for table in TENANT_TABLES:
            assert await count(conn, table) == 0, table
        assert (await conn.execute(text("SELECT id FROM tenants"))).scalars().all() == [other]
        # changes aimed at tenant 1's rows touch nothing
        for statement in (
            "UPDATE projects SET description = 'pwned' WHERE tenant_id = :t",
            "UPDATE environments SET secrets = '{}'::jsonb",
            "UPDATE test_runs SET status = 'CANCELLED'",
            "UPDATE tenants SET weight = 99 WHERE id = :t",
            "DELETE FROM api_tokens",
            "DELETE FROM audit_events WHERE tenant_id = :t",
            "DELETE FROM projects",
        ):
            result = await conn.execute(text(statement), {"t": tenant})
            assert result.rowcount == 0, statement
        # its own rows are writable, but never into tenant 1
        own = uuid.uuid4()
        await conn.execute(
            text("INSERT INTO projects (id, tenant_id, name) VALUES (:id, :t, 'mine')"),
            {"id": own, "t": other},
        )
        assert await count(conn, "projects") == 1

    for statement in (
        "INSERT INTO projects (id, tenant_id, name) VALUES (gen_random_uuid(), :t, 'planted')",
        "INSERT INTO audit_events (tenant_id, actor, actor_kind, action, object_type, details) "
        "VALUES (:t, 'x', 'x', 'x', 'x', '{}')",
        "UPDATE projects SET tenant_id = :t WHERE id = :own",
    ):
        async with app_engine.connect() as conn:
            await set_tenant(conn, data["key"], other)
            with pytest.raises(DBAPIError) as caught:
                await conn.execute(text(statement), {"t": tenant, "own": own})
            assert sqlstate(caught.value) == "42501", caught.value
            assert "row-level security" in str(caught.value.orig)

    async with owner.connect() as conn:
        counts = {table: await count(conn, table, "tenant_id = :t", t=tenant) for table in TENANT_TABLES}
        assert counts == data["counts"]
        assert await count(conn, "projects", "description = 'pwned' OR name = 'planted'") == 0
        assert await count(conn, "environments", "secrets = '{}'::jsonb AND tenant_id = :t", t=tenant) == 0
        assert await count(conn, "tenants", "weight = 99") == 0


async def test_project_scope_hides_the_other_projects(
    data: dict[str, Any], api: httpx.AsyncClient, app_engine: AsyncEngine
) -> None:
    response = await api.post("/projects", json={"name": "elsewhere"})
    assert response.status_code == 201, response.text
    elsewhere = response.json()["id"]
    async with app_engine.connect() as conn:
        await set_tenant(conn, data["key"], data["tenant"], data["project"])
        assert (await conn.execute(text("SELECT id FROM projects"))).scalars().all() == [
            uuid.UUID(data["project"])
        ]
        await set_tenant(conn, data["key"], data["tenant"], elsewhere)
        assert (await conn.execute(text("SELECT id FROM projects"))).scalars().all() == [uuid.UUID(elsewhere)]
        for table in ("environments", "test_cases", "suites", "schedules", "test_runs", "suite_runs"):
            assert await count(conn, table) == 0, table
        with pytest.raises(DBAPIError) as caught:
            await conn.execute(
                text(
                    "INSERT INTO environments (id, tenant_id, project_id, name, base_url) "
                    "VALUES (gen_random_uuid(), :t, :p, 'planted', 'http://x')"
                ),
                {"t": data["tenant"], "p": data["project"]},
            )
        assert sqlstate(caught.value) == "42501"


async def test_rls_cannot_be_switched_off_or_escaped(
    data: dict[str, Any], app_engine: AsyncEngine, owner: AsyncEngine
) -> None:
    async with owner.connect() as conn:
        superuser = (await conn.execute(text("SELECT current_user"))).scalar_one()
    # row_security = off: PostgreSQL refuses any query RLS would filter rather than show everything
    async with app_engine.connect() as conn:
        await conn.execute(text("SET row_security = off"))
        for table in TENANT_TABLES:
            with pytest.raises(DBAPIError) as caught:
                await count(conn, table)
            assert sqlstate(caught.value) == "42501", caught.value
            assert "row-level security" in str(caught.value.orig)
            await conn.rollback()
    # other roles are out of reach
    for statement in (
        f'SET ROLE "{superuser}"',
        "SET ROLE orchestra_system",
        f'SET SESSION AUTHORIZATION "{superuser}"',
        "SET ROLE postgres",
    ):
        await refused(app_engine, statement, ("42501", "42704"))  # 42704: no such role
    async with app_engine.connect() as conn:
        await conn.execute(text("RESET ROLE"))
        assert (await conn.execute(text("SELECT current_user"))).scalar_one() == APP_ROLE
        assert await count(conn, "projects") == 0
        await conn.execute(text("SET ROLE NONE"))
        assert (await conn.execute(text("SELECT current_user"))).scalar_one() == APP_ROLE
    # and the policies cannot be changed by it
    for statement in (
        "ALTER TABLE projects DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE projects NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON projects",
        "CREATE POLICY open ON projects USING (true)",
        "ALTER TABLE projects OWNER TO orchestra_app",
        "GRANT orchestra_system TO orchestra_app",
        "ALTER ROLE orchestra_app BYPASSRLS",
        "CREATE FUNCTION public.orchestra_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "ALTER FUNCTION orchestra_tenant() OWNER TO orchestra_app",
        "CREATE OR REPLACE FUNCTION orchestra_tenant() RETURNS uuid LANGUAGE sql AS 'SELECT NULL::uuid'",
        "TRUNCATE projects",
        "INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'planted')",
        "DELETE FROM tenants",
        "UPDATE alembic_version SET version_num = '0001'",
    ):
        await refused(app_engine, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT context FROM test_runs",
        "SELECT variables FROM test_runs",
        "SELECT * FROM test_runs",
        "SELECT secrets FROM environments",
        "SELECT variables FROM environments",
        "SELECT base_url FROM environments",
        "SELECT * FROM step_results",
        "SELECT definition FROM test_case_versions",
        "SELECT definition FROM suites",
        "SELECT name FROM projects",
        "SELECT * FROM api_tokens",
        "SELECT token_hash FROM api_tokens",
        "SELECT * FROM audit_events",
        "SELECT * FROM test_cases",
        "SELECT variables FROM schedules",
        "SELECT variables FROM suite_runs",
        "UPDATE test_runs SET variables = '{}'::jsonb",
        "UPDATE test_runs SET context = '{}'::jsonb",
        "UPDATE environments SET secrets = '{}'::jsonb",
        "UPDATE tenants SET weight = 1",
        "DELETE FROM test_runs",
        "INSERT INTO api_tokens (id) VALUES (gen_random_uuid())",
        "SELECT url FROM webhooks",
        "SELECT secret FROM webhooks",
        "SELECT event FROM webhook_deliveries",
        "UPDATE webhook_deliveries SET state = 'delivered'",
        "DELETE FROM webhook_deliveries",
        "SELECT * FROM webhook_attempts",
    ],
)
async def test_orchestra_system_cannot_read_or_write_content(
    data: dict[str, Any], owner_database_url: str, statement: str
) -> None:
    engine = create_async_engine(owner_database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SET ROLE orchestra_system"))
            with pytest.raises(DBAPIError) as caught:
                await conn.execute(text(statement))
        assert sqlstate(caught.value) == "42501", caught.value
        assert "permission denied" in str(caught.value.orig)
    finally:
        await engine.dispose()


async def test_orchestra_system_has_exactly_its_columns(data: dict[str, Any], owner: AsyncEngine) -> None:
    async with owner.connect() as conn:
        granted: dict[tuple[str, str], set[str]] = {}
        rows = await conn.execute(
            text(
                """SELECT c.table_name, c.column_name, p.privilege
                FROM information_schema.columns c
                CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('REFERENCES')) AS p(privilege)
                WHERE c.table_schema = current_schema()
                  AND has_column_privilege('orchestra_system', format('%I.%I', c.table_schema, c.table_name),
                                           c.column_name, p.privilege)"""
            )
        )
        for table, column, privilege in rows:
            granted.setdefault((table, privilege), set()).add(column)
        assert granted == SYSTEM_COLUMNS
        tables = await conn.execute(
            text(
                """SELECT t.tablename, p.privilege FROM pg_tables t
                CROSS JOIN (VALUES ('DELETE'), ('TRUNCATE'), ('TRIGGER')) AS p(privilege)
                WHERE t.schemaname = current_schema()
                  AND has_table_privilege('orchestra_system', format('%I.%I', t.schemaname, t.tablename),
                                          p.privilege)"""
            )
        )
        assert tables.all() == []
        # the columns it needs answer (every tenant's rows: it is what looks across tenants)
        await conn.execute(text("SET ROLE orchestra_system"))
        for (table, privilege), columns in SYSTEM_COLUMNS.items():
            if privilege == "SELECT":
                listed = ", ".join(sorted(columns))
                await conn.execute(text(f"SELECT {listed} FROM {table} LIMIT 1"))
        assert await count(conn, "test_runs", "tenant_id = :t", t=data["tenant"]) >= 1
        await conn.execute(text("RESET ROLE"))


async def test_system_functions_expose_only_ids_counts_and_limits(
    data: dict[str, Any], owner: AsyncEngine, app_engine: AsyncEngine
) -> None:
    async with owner.connect() as conn:
        functions = (
            await conn.execute(
                text(
                    """SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner) AS owner, p.proconfig,
                        p.proargnames, p.proargmodes::text[] AS proargmodes,
                        format_type(p.prorettype, NULL) AS returns,
                        has_function_privilege('public', p.oid, 'EXECUTE') AS public_may,
                        has_function_privilege(:app, p.oid, 'EXECUTE') AS app_may
                    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = current_schema() AND p.proname LIKE 'orchestra\\_sys\\_%'"""
                ),
                {"app": APP_ROLE},
            )
        ).all()
    assert {f.proname for f in functions} == set(SYSTEM_FUNCTIONS), (
        "a new orchestra_sys_* function: review it"
    )
    for f in functions:
        assert f.prosecdef, f.proname
        assert f.owner == "orchestra_system", f.proname
        assert f.proconfig, f.proname
        assert any(item.startswith("search_path=") for item in f.proconfig), f.proname
        assert not f.public_may, f"{f.proname} is executable by PUBLIC"
        assert f.app_may, f.proname
        modes = f.proargmodes or ["i"] * len(f.proargnames or [])
        outputs = [name for name, mode in zip(f.proargnames or [], modes, strict=True) if mode in ("o", "t")]
        if outputs:
            assert set(outputs) <= SYSTEM_RESULT_COLUMNS, f"{f.proname} returns {outputs}"
        else:
            assert f.returns == "uuid", f"{f.proname} returns {f.returns}"

    params = {"tenant": data["tenant"], "environment": data["environment"], "run": data["run"]}
    async with app_engine.connect() as conn:
        for name, query in SYSTEM_FUNCTIONS.items():
            result = await conn.execute(text(query), {k: v for k, v in params.items() if f":{k}" in query})
            columns = set(result.keys())
            rows = result.all()
            if len(columns) == 1 and name in ("orchestra_sys_mark_queued", "orchestra_sys_stale_queued"):
                columns = {"id"}  # SETOF uuid
            assert columns <= SYSTEM_RESULT_COLUMNS, f"{name}: {columns}"
            for row in rows:
                for value in row:
                    assert value is None or isinstance(value, uuid.UUID | int | float | str), (name, value)
                    assert SECRET not in str(value)
        assert (
            await conn.execute(text("SELECT orchestra_sys_run_tenant(:r)"), {"r": data["run"]})
        ).scalar_one() == (data["tenant"])
        # still no rows of any tenant outside the functions
        assert await count(conn, "test_runs") == 0
    await refused(app_engine, "SET ROLE orchestra_system")


def database_as(url: str, owner_url: str, key: ContextKey) -> Database:
    engine = make_engine(url, key, pool_size=1)
    return Database(
        url=url, engine=engine, sessions=async_sessionmaker(engine), owner_url=owner_url, context_key=key
    )


async def test_unsafe_roles_are_refused(owner_database_url: str, database_url: str, tmp_path: Path) -> None:
    # the superuser, as database_url: the runtime refuses to start (and says why)
    settings = Settings(database_url=owner_database_url, data_dir=tmp_path / "su")
    with pytest.raises(UnsafeDatabaseRole, match="superuser"):
        await Runtime.start(settings, run_scheduler=False, run_executor=False)
    settings = Settings(
        database_url=owner_database_url, migration_database_url=owner_database_url, data_dir=tmp_path / "su2"
    )
    with pytest.raises(UnsafeDatabaseRole, match="superuser"):
        await Runtime.start(settings, run_scheduler=False, run_executor=False)

    # login roles made for the test: granted orchestra_app (fine), plus BYPASSRLS or orchestra_system (not)
    key = ContextKey.from_secret_key(os.urandom(32))
    await migrate_database(owner_database_url, context_key=key, replace_context_key=True)
    suffix = uuid.uuid4().hex[:8]
    roles = {
        f"rls_app_{suffix}": ("IN ROLE orchestra_app", None),
        f"rls_bypass_{suffix}": ("BYPASSRLS IN ROLE orchestra_app", "BYPASSRLS"),
        f"rls_system_{suffix}": ("IN ROLE orchestra_app, orchestra_system", "orchestra_system"),
    }
    admin = create_async_engine(owner_database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            for role, (options, _) in roles.items():
                await conn.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'probe-password' {options}"))
        for role, (_, why) in roles.items():
            url = make_url(owner_database_url).set(username=role, password="probe-password")
            database = database_as(url.render_as_string(hide_password=False), owner_database_url, key)
            try:
                if why is None:
                    await database.check_role()
                else:
                    with pytest.raises(UnsafeDatabaseRole, match=why):
                        await database.check_role()
            finally:
                await database.engine.dispose()
        # the application role itself passes
        app = database_as(database_url, owner_database_url, key)
        try:
            await app.check_role()
        finally:
            await app.engine.dispose()
    finally:
        async with admin.connect() as conn:
            for role in roles:
                await conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        await admin.dispose()
