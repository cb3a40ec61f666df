"""Shared fixtures: a real PostgreSQL (embedded unless ORCHESTRA_TEST_DATABASE_URL is set), a fresh database
per test cloned from a migrated template, and the Orchestra runtime and API over it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.app import create_app
from orchestra.auth.local_admin import ensure_local_admin_token
from orchestra.config import Settings
from orchestra.db import APP_ROLE
from orchestra.embedded_pg import EmbeddedPostgres, normalise_database_url
from orchestra.kit.logging import configure as configure_logging
from orchestra.migrate import upgrade_to_head
from orchestra.runtime import Runtime

TEMPLATE_DB = "orchestra_test_template"
APP_PASSWORD = "orchestra-app-test"  # the test server's application role (a password for non-local servers)
configure_logging("info")


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server the tests may create databases on."""
    configured = os.environ.get("ORCHESTRA_TEST_DATABASE_URL")
    if configured:
        yield normalise_database_url(configured)
        return
    embedded = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    try:
        yield embedded.start()
    finally:
        embedded.stop()


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def admin_execute(server_url: str, *statements: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def template_database(pg_server_url: str) -> str:
    """A database migrated to head once per session; every test gets a copy of it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{TEMPLATE_DB}_{worker}"
    await admin_execute(
        pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    engine = create_async_engine(with_database(pg_server_url, name))
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    await admin_execute(pg_server_url, f"ALTER ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'")
    return name


@pytest.fixture
async def owner_database_url(pg_server_url: str, template_database: str) -> AsyncIterator[str]:
    """A fresh database, as its owner (a superuser): what migrations and test inspections use."""
    name = f"orchestra_test_{uuid.uuid4().hex[:12]}"
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    try:
        yield with_database(pg_server_url, name)
    finally:
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(owner_database_url: str) -> str:
    """The same database as the application role, which row-level security holds (what services use)."""
    return app_url(owner_database_url)


def app_url(owner_url: str) -> str:
    return (
        make_url(owner_url)
        .set(username=APP_ROLE, password=APP_PASSWORD)
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def settings(database_url: str, owner_database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        migration_database_url=owner_database_url,
        data_dir=tmp_path / "data",
        scheduler_interval_s=0.05,
        executor_concurrency=4,
        # No ai-service unless a test starts one: the default port may be another process's ai-service.
        ai_url="http://127.0.0.1:9",
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = await Runtime.start(settings)
    try:
        yield rt
    finally:
        await rt.stop()


async def admin_headers_for(runtime: Runtime, settings: Settings) -> dict[str, str]:
    """The local admin token of the runtime's tenant, as request headers."""
    state = await ensure_local_admin_token(runtime.db, runtime.tenant_id, settings.data_dir)
    assert state.token is not None, "the local admin token of this database is kept in another data directory"
    return {"Authorization": f"Bearer {state.token}"}


@pytest.fixture
async def auth_headers(settings: Settings, runtime: Runtime) -> dict[str, str]:
    return await admin_headers_for(runtime, settings)


@pytest.fixture
async def api(
    settings: Settings, runtime: Runtime, auth_headers: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the Orchestra API in-process, as the local admin."""
    app = create_app(settings, runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://orchestra.test/api/v1", headers=auth_headers
    ) as client:
        yield client
