"""The tenant context cannot be forged from SQL (migration 0012): a statement run as the application role — an
SQL injection — that knows another tenant's id (from an API token, or ``orchestra_sys_tenant``) still sees and
changes nothing of it; project scope holds on every table of a project, the child tables included."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.db import APP_ROLE, ContextKeyRefused, Database, make_engine
from orchestra.migrate import ContextKeyConflict, migrate_database
from orchestra.runtime import Runtime
from orchestra.tenant_context import ContextKey
from tests.integration.conftest import Harness
from tests.integration.tenant_rows import TENANT_TABLES, count, fill_every_tenant_table, set_tenant

PROJECT_CHILD_TABLES = ("step_results", "test_case_versions", "schedule_fires", "environment_rate_slots")
_ENTER = text("SELECT orchestra_enter(:tenant, :project, :proof, true)")
_CONTEXT = text("SELECT current_setting('orchestra.context', true)")


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(owner_database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def app_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The application role, as an injected statement would use it (each statement commits by itself)."""
    engine = create_async_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def data(
    harness: Harness, api: httpx.AsyncClient, runtime: Runtime, owner: AsyncEngine
) -> dict[str, Any]:
    rows = await fill_every_tenant_table(harness, api, runtime, owner)
    async with runtime.db.transaction(None) as session:
        rows["other"] = (await session.execute(text("SELECT orchestra_sys_tenant('attacker')"))).scalar_one()
    return rows


async def refused_42501(conn: AsyncConnection, statement: str, **params: Any) -> str:
    with pytest.raises(DBAPIError) as caught:
        await conn.execute(text(statement), params)
    assert getattr(caught.value.orig, "sqlstate", None) == "42501", caught.value
    await conn.rollback()
    return str(caught.value.orig)


async def no_tenant(conn: AsyncConnection) -> bool:
    """The policies see no verified context (a forged or replayed one counts as none)."""
    return bool(
        (
            await conn.execute(
                text("SELECT orchestra_tenant() IS NULL AND orchestra_project_scope() IS NULL")
            )
        ).scalar_one()
    )


async def sees_nothing_of(conn: AsyncConnection, tenant: uuid.UUID) -> None:
    for table in TENANT_TABLES:
        assert await count(conn, table) == 0, table
        assert await count(conn, table, "tenant_id = :t", t=tenant) == 0, table
    assert await count(conn, "tenants", "id = :t", t=tenant) == 0


async def test_set_config_of_another_tenant_id_shows_nothing(
    data: dict[str, Any], app_engine: AsyncEngine
) -> None:
    """The attack of the issue: the settings the policies used to read, set by the attacker."""
    async with app_engine.connect() as conn:
        await set_tenant(conn, data["key"], data["other"])  # the attacker's own tenant, entered properly
        await conn.execute(
            text(
                "SELECT set_config('orchestra.tenant_id', :t, false),"
                " set_config('orchestra.project_id', '', false)"
            ),
            {"t": str(data["tenant"])},
        )
        await sees_nothing_of(conn, data["tenant"])
        updated = await conn.execute(
            text("UPDATE projects SET description = 'pwned' WHERE tenant_id = :t"), {"t": data["tenant"]}
        )
        assert updated.rowcount == 0
        # and it never had a context at all: still nothing
        await set_tenant(conn, data["key"], "")
        await conn.execute(
            text("SELECT set_config('orchestra.tenant_id', :t, false)"), {"t": str(data["tenant"])}
        )
        await sees_nothing_of(conn, data["tenant"])


async def test_a_forged_or_replayed_context_is_refused(
    data: dict[str, Any], app_engine: AsyncEngine, database_url: str
) -> None:
    tenant, other, key = data["tenant"], data["other"], data["key"]
    async with app_engine.connect() as conn, app_engine.connect() as elsewhere:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        await set_tenant(conn, key, other)
        own = (await conn.execute(_CONTEXT)).scalar_one()
        assert own.startswith(f"{other}//{pid}/session/")
        forgeries = {
            "made up": f"{tenant}//{pid}/session/{'0' * 64}",
            "its own mac on another tenant": own.replace(str(other), str(tenant)),
            "widened to every project": f"{tenant}/{uuid.uuid4()}/{pid}/session/{own.rsplit('/', 1)[1]}",
            "not hex": f"{tenant}//{pid}/session/{'z' * 64}",
            # its own mac, written otherwise: the format is checked before the mac is decoded
            "its own mac in upper case": own[: own.rindex("/") + 1] + own.rsplit("/", 1)[1].upper(),
            "its own mac a digit short": own[:-1],
            "its own mac a digit long": own + "0",
            "its own mac on two lines": own[:-2] + "\n" + own[-2:],
            "a field short": f"{tenant}/{pid}/session/{'0' * 64}",
            "an old tenant_id value": str(tenant),
        }
        for why, forged in forgeries.items():
            await conn.execute(text("SELECT set_config('orchestra.context', :v, false)"), {"v": forged})
            assert await no_tenant(conn), why
            await sees_nothing_of(conn, tenant)
        # a genuine value of this session, replayed on another connection (another backend): no tenant
        await elsewhere.execute(text("SELECT set_config('orchestra.context', :v, false)"), {"v": own})
        assert await no_tenant(elsewhere)
        await sees_nothing_of(elsewhere, other)
        # and the genuine value where it was entered still works (the test is not simply "deny")
        await conn.execute(text("SELECT set_config('orchestra.context', :v, false)"), {"v": own})
        assert await count(conn, "tenants") == 1

    # a value bound to one transaction, replayed in the next one of the same session: refused
    transactional = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with transactional.connect() as conn:
            async with conn.begin():
                params = {"tenant": other, "project": None, "proof": key.proof(other)}
                await conn.execute(text("SELECT orchestra_enter(:tenant, :project, :proof, false)"), params)
                local = (await conn.execute(_CONTEXT)).scalar_one()
                assert await count(conn, "tenants") == 1  # valid inside its transaction
            assert (await conn.execute(_CONTEXT)).scalar_one() == ""  # gone with the transaction
            await conn.execute(text("SELECT set_config('orchestra.context', :v, false)"), {"v": local})
            assert await no_tenant(conn)
            assert await count(conn, "tenants") == 0
    finally:
        await transactional.dispose()


async def test_enter_needs_the_proof_of_that_tenant_and_project(
    data: dict[str, Any], app_engine: AsyncEngine
) -> None:
    tenant, other, key = data["tenant"], data["other"], data["key"]
    project = uuid.UUID(data["project"])
    attempts = {
        "another tenant's proof": (tenant, None, key.proof(other)),
        "the project's proof, without the project": (tenant, None, key.proof(tenant, project)),
        "the tenant's proof, for another project": (tenant, uuid.uuid4(), key.proof(tenant)),
        "another key's proof": (tenant, None, ContextKey.from_secret_key(os.urandom(32)).proof(tenant)),
        "no proof": (tenant, None, None),
        "an empty proof": (tenant, None, b""),
    }
    async with app_engine.connect() as conn:
        for why, (tenant_id, project_id, proof) in attempts.items():
            message = await refused_42501(
                conn, "SELECT orchestra_enter(:t, :p, :proof, true)", t=tenant_id, p=project_id, proof=proof
            )
            assert "refused" in message, why
            await sees_nothing_of(conn, tenant)
        # project scope cannot be dropped by the settings the policies used to read either
        await conn.execute(
            _ENTER, {"tenant": tenant, "project": project, "proof": key.proof(tenant, project)}
        )
        await conn.execute(text("SELECT set_config('orchestra.project_id', '', false)"))
        assert await count(conn, "projects") == 1
        assert await count(conn, "test_runs") == data["counts"]["test_runs"]


async def test_the_key_is_out_of_the_application_roles_reach(
    data: dict[str, Any], owner: AsyncEngine, app_engine: AsyncEngine
) -> None:
    async with app_engine.connect() as conn:
        for statement in (
            "SELECT * FROM tenant_context_key",
            "SELECT inner_pad FROM tenant_context_key",
            "UPDATE tenant_context_key SET inner_pad = inner_pad",
            "DELETE FROM tenant_context_key",
            "INSERT INTO tenant_context_key (inner_pad, outer_pad, fingerprint) VALUES ('', '', '')",
            "SET ROLE orchestra_system",
            # a temporary table would shadow ours for the rest of a pooled connection's life
            "CREATE TEMPORARY TABLE step_results (id uuid)",
            "CREATE TEMPORARY TABLE probe (id uuid)",
        ):
            await refused_42501(conn, statement)
    async with owner.connect() as conn:
        (inner,) = (await conn.execute(text("SELECT inner_pad FROM tenant_context_key"))).one()
        functions = (
            await conn.execute(
                text(
                    """SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner) AS owner, p.proconfig,
                        p.prosrc, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may,
                        has_function_privilege(:app, p.oid, 'EXECUTE') AS app_may
                    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = current_schema() AND p.proname LIKE 'orchestra\\_%'"""
                ),
                {"app": APP_ROLE},
            )
        ).all()
        for column in ("inner_pad", "outer_pad", "fingerprint", "id", "registered_at"):
            may = await conn.execute(
                text("SELECT has_column_privilege(:app, 'tenant_context_key', :c, 'SELECT')"),
                {"app": APP_ROLE, "c": column},
            )
            assert may.scalar_one() is False, column
    by_name = {f.proname: f for f in functions}
    for name in ("orchestra_enter", "orchestra_verified_context"):
        f = by_name[name]
        assert (f.prosecdef, f.owner, f.public_may, f.app_may) == (True, "orchestra_system", False, True), (
            name
        )
        assert any(item.startswith("search_path=") for item in f.proconfig), name
    for f in functions:  # function sources are readable by anyone: none holds the key
        assert inner.hex() not in f.prosrc, f.proname


async def test_project_scope_holds_on_the_child_tables(
    data: dict[str, Any], api: httpx.AsyncClient, app_engine: AsyncEngine
) -> None:
    """step_results, test_case_versions, schedule_fires and environment_rate_slots have no project column:
    their rows are scoped through their parent's."""
    response = await api.post("/projects", json={"name": "elsewhere"})
    assert response.status_code == 201, response.text
    elsewhere = response.json()["id"]
    async with app_engine.connect() as conn:
        await set_tenant(conn, data["key"], data["tenant"], elsewhere)
        for table in PROJECT_CHILD_TABLES:
            assert await count(conn, table) == 0, table
        # nor may it write one under another project's parent
        message = await refused_42501(
            conn,
            "INSERT INTO step_results (tenant_id, test_run_id, seq, phase, name, status, attempts,"
            " fencing_token, assertions, started_at, duration_ms)"
            " VALUES (:t, :run, 999, 'steps', 'planted', 'PASSED', 1, 1, '[]', now(), 0)",
            t=data["tenant"],
            run=data["run"],
        )
        assert "row-level security" in message
        await set_tenant(conn, data["key"], data["tenant"], data["project"])
        for table in PROJECT_CHILD_TABLES:
            assert await count(conn, table) == data["counts"][table], table


async def test_a_process_with_another_key_is_refused(
    data: dict[str, Any], owner_database_url: str, database_url: str
) -> None:
    stranger = ContextKey.from_secret_key(os.urandom(32))
    engine = make_engine(database_url, stranger, pool_size=1)
    database = Database(
        url=database_url,
        engine=engine,
        sessions=async_sessionmaker(engine),
        owner_url=owner_database_url,
        context_key=stranger,
    )
    try:
        with pytest.raises(ContextKeyRefused, match=stranger.fingerprint):
            await database.check_role()
        # migrating with it keeps the database's key, unless asked to replace it
        with pytest.raises(ContextKeyConflict, match=data["key"].fingerprint):
            await migrate_database(owner_database_url, context_key=stranger)
        with pytest.raises(ContextKeyRefused):
            await database.check_role()
        await migrate_database(owner_database_url, context_key=stranger, replace_context_key=True)
        await database.check_role()
    finally:
        await engine.dispose()
