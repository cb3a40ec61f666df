"""What an operator meets at the command line of distributed mode: `orchestra migrate` migrates the database
it is given (never an embedded one instead), and every refusal to start is one line that says what is wrong
and how to fix it, with exit code 2 and no traceback."""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.migrate import head_revision
from tests.conftest import admin_execute, app_url, with_database
from tests.e2e.conftest import ORCHESTRA, free_port

pytestmark = pytest.mark.e2e
KEY = "ORCHESTRA_SECRET_KEY"  # given, so that no key file is created (and no warning about it printed)


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The real `orchestra` command in ``cwd`` with only these ORCHESTRA_* variables (COLUMNS=80: a line
    that a narrow terminal would wrap must still come out as one)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
    environment.update(NO_COLOR="1", COLUMNS="80", **env)
    return subprocess.run(
        [*ORCHESTRA, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def assert_refused(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("error: "), output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def plain(url: str) -> str:
    """The URL as messages show it: no password, no driver."""
    parts = make_url(url)
    return parts.set(drivername="postgresql").render_as_string(hide_password=True).replace(":***@", "@")


async def revision_of(url: str) -> str | None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            exists = (await conn.execute(text("SELECT to_regclass('alembic_version')"))).scalar()
            if exists is None:
                return None
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()


@pytest.fixture
async def empty_database(pg_server_url: str) -> AsyncIterator[Callable[[], str]]:
    """Makes empty databases on the test server (as its superuser); dropped at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"orchestra_empty_{uuid.uuid4().hex[:12]}"
        made.append(name)
        return name

    yield make
    for name in made:
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_migrate_migrates_the_migration_database_url_and_nothing_else(
    pg_server_url: str, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    """With only ORCHESTRA_MIGRATION_DATABASE_URL set, `orchestra migrate` used to start an embedded
    PostgreSQL under ./.orchestra, migrate that, and say "database at revision 0010"."""
    name = empty_database()
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
    url = with_database(pg_server_url, name)
    result = cli("migrate", cwd=tmp_path, ORCHESTRA_MIGRATION_DATABASE_URL=url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert await revision_of(url) == head_revision()
    assert list(tmp_path.iterdir()) == []  # no embedded database, no data directory, no key file made up
    assert result.stdout.strip() == (
        f"database at revision {head_revision()}: {plain(url)} (ORCHESTRA_MIGRATION_DATABASE_URL)"
    )
    # without the services' secret key there is no tenant context key to register: it says so
    assert "the tenant context key was not registered" in result.stderr


async def test_migrate_says_what_to_do_when_the_owner_may_not_create_pgvector(
    pg_server_url: str, template_database: str, empty_database: Callable[[], str], tmp_path: Path
) -> None:
    """A non-superuser owner cannot create the vector extension (migration 0009): one line naming the
    migration, the database's own message and the SQL that fixes it, and nothing changed."""
    name = empty_database()
    owner, password = f"orchestra_owner_{uuid.uuid4().hex[:8]}", secrets.token_hex(8)
    await admin_execute(
        pg_server_url,
        f"CREATE ROLE {owner} LOGIN PASSWORD '{password}' CREATEROLE",
        # the roles are shared by the server's databases, made here by the template's migration (as the
        # superuser): a second owner needs them granted, as docs/security.md says
        f"GRANT orchestra_app, orchestra_system TO {owner} WITH ADMIN OPTION",
        f'CREATE DATABASE "{name}" OWNER {owner}',
    )
    url = make_url(with_database(pg_server_url, name)).set(username=owner, password=password)
    owner_url = url.render_as_string(hide_password=False)
    try:
        refused = cli("migrate", cwd=tmp_path, ORCHESTRA_MIGRATION_DATABASE_URL=owner_url)
        assert_refused(
            refused,
            f"migration 0009 of {plain(owner_url)} (ORCHESTRA_MIGRATION_DATABASE_URL) failed as '{owner}'",
            'permission denied to create extension "vector"',
            f"as a superuser, run `CREATE EXTENSION vector;` in database '{name}'",
        )
        assert await revision_of(with_database(pg_server_url, name)) is None  # rolled back as a whole

        await admin_execute(with_database(pg_server_url, name), "CREATE EXTENSION vector")
        migrated = cli("migrate", cwd=tmp_path, ORCHESTRA_MIGRATION_DATABASE_URL=owner_url)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert await revision_of(with_database(pg_server_url, name)) == head_revision()
    finally:
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin_execute(pg_server_url, f"DROP OWNED BY {owner}", f"DROP ROLE IF EXISTS {owner}")


@pytest.mark.timeout(300)  # nine processes, each refusing at its start
async def test_start_up_refusals_are_one_line_with_the_fix(
    pg_server_url: str,
    owner_database_url: str,
    database_url: str,
    empty_database: Callable[[], str],
    tmp_path: Path,
) -> None:
    key = {KEY: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    broker = {"ORCHESTRA_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/"}  # nobody listens
    services = {
        "ORCHESTRA_DATABASE_URL": database_url,
        "ORCHESTRA_MIGRATION_DATABASE_URL": owner_database_url,
    }
    name = empty_database()
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
    cases: list[tuple[list[str], dict[str, str], tuple[str, ...]]] = [
        # the superuser (or the owner) as the services' role: it used to be a raw UnsafeDatabaseRole traceback
        (
            ["api"],
            {**key, **broker, "ORCHESTRA_DATABASE_URL": owner_database_url},
            ("a superuser: row-level security would not isolate tenants", "see docs/security.md"),
        ),
        (
            ["executor", "--health-port", "0"],
            {**key, **broker, "ORCHESTRA_DATABASE_URL": owner_database_url},
            ("a superuser",),
        ),
        # the migration URL alone: the embedded database would be served instead of the shared one
        (
            ["api"],
            {**key, **broker, "ORCHESTRA_MIGRATION_DATABASE_URL": owner_database_url},
            ("ORCHESTRA_MIGRATION_DATABASE_URL is set but ORCHESTRA_DATABASE_URL is not",),
        ),
        (
            ["api"],
            {**key, **broker, "ORCHESTRA_DATABASE_URL": "mysql://u:p@db/orchestra"},
            ("ORCHESTRA_DATABASE_URL is not a PostgreSQL URL (mysql://…)", "postgresql://"),
        ),
        (
            ["api"],
            {**key, **broker, "ORCHESTRA_DATABASE_URL": f"postgresql://u:p@127.0.0.1:{free_port()}/x"},
            ("cannot connect to the database postgresql://u@127.0.0.1:", "(ORCHESTRA_DATABASE_URL)"),
        ),
        # the application role, with no owner to migrate as, on an empty database
        (
            ["api"],
            {**key, **broker, "ORCHESTRA_DATABASE_URL": app_url(with_database(pg_server_url, name))},
            ("is at revision none (empty)", "`orchestra migrate` with ORCHESTRA_MIGRATION_DATABASE_URL"),
        ),
        (["api"], {**key, **broker, **services}, ("cannot connect to RabbitMQ", "ORCHESTRA_BROKER_URL")),
        (["api"], {**key, **services, "ORCHESTRA_LEASE_S": "soon"}, ("ORCHESTRA_LEASE_S",)),
        (
            ["api"],
            {**broker, **services, KEY: "not a key"},
            ("ORCHESTRA_SECRET_KEY is not valid base64", "openssl rand -base64 32"),
        ),
    ]
    for args, env, needles in cases:
        port = ["--port", str(free_port())] if args == ["api"] else []
        assert_refused(cli(*args, *port, cwd=tmp_path, **env), *needles)
