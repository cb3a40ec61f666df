"""Shared fixtures: a real PostgreSQL (embedded unless ORCHESTRA_TEST_DATABASE_URL is set), a fresh database
per test cloned from a migrated template, and the Orchestra runtime and API over it.

The tests are hermetic: they run beside a running Orchestra (`make up`: 8000, 8002, the demo SUT) and beside
other test sessions. No fixed ports (``tests/ports.py``), temporary files only under pytest's own temporary
directory, and none of the shell's ``ORCHESTRA_*`` settings: only the ``ORCHESTRA_TEST_*`` knobs apply.
"""

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
from tests.integration.amqp import rabbitmq_summary
from tests.ports import refused_url

TEMPLATE_DB = "orchestra_test_template"
APP_PASSWORD = "orchestra-app-test"  # the test server's application role (a password for non-local servers)
SESSION = uuid.uuid4().hex[:8]  # this session's objects on a shared server (ORCHESTRA_TEST_DATABASE_URL)
LOOPBACK_HOSTS = "127.0.0.1,localhost,::1"
TEST_KNOBS = "ORCHESTRA_TEST_"


def _leave_the_shells_settings() -> list[str]:
    """Remove the shell's ``ORCHESTRA_*`` variables (an ``ORCHESTRA_AI_URL`` or ``ORCHESTRA_DATABASE_URL`` of
    the developer's own Orchestra) from this process and so from every process it starts; keep the tests'
    own ``ORCHESTRA_TEST_*``. Every server the tests talk to is on the loopback: never through a proxy."""
    ignored = sorted(
        name for name in os.environ if name.startswith("ORCHESTRA_") and not name.startswith(TEST_KNOBS)
    )
    for name in ignored:
        del os.environ[name]
    for name in ("NO_PROXY", "no_proxy"):
        os.environ[name] = ",".join(filter(None, [os.environ.get(name), LOOPBACK_HOSTS]))
    return ignored


IGNORED_SETTINGS = _leave_the_shells_settings()
configure_logging("info")


def pytest_report_header() -> str | None:
    if not IGNORED_SETTINGS:
        return None
    return f"ignored (only ORCHESTRA_TEST_* apply to the tests): {', '.join(IGNORED_SETTINGS)}"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rabbitmq: needs RabbitMQ (given to every test using amqp_url)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "amqp_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.rabbitmq)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    line = rabbitmq_summary(terminalreporter.stats)
    if line:
        terminalreporter.write_line(line, bold=True)


@pytest.fixture(autouse=True)
def _session_logging() -> Iterator[None]:
    """Each test starts with the session's logging: a command invoked in-process (CliRunner) configures
    logging to its own stderr, which is closed once it returns, and the next test to log would fail."""
    yield
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
async def template_database(pg_server_url: str) -> AsyncIterator[str]:
    """A database migrated to head once per session; every test gets a copy of it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{TEMPLATE_DB}_{SESSION}_{worker}"  # another session on the same server has its own
    await admin_execute(
        pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    engine = create_async_engine(with_database(pg_server_url, name))
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()
    # the role is the server's, shared by the workers and sessions on it: one of them alters it at a time
    await admin_execute(
        pg_server_url,
        f"SELECT pg_advisory_lock(hashtext('{APP_ROLE}'))",
        f"ALTER ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'",
        f"SELECT pg_advisory_unlock(hashtext('{APP_ROLE}'))",
    )
    try:
        yield name
    finally:
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
        # No ai-service, and no API for one, unless a test starts them: the default ports (8002, 8000) may
        # be another Orchestra's.
        ai_url=refused_url(),
        api_url=refused_url(),
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
