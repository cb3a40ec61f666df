"""Migrations: upgrade from an empty database reaches head, and the models agree with the migrations."""

from __future__ import annotations

import json
import uuid
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.migrate import alembic_config, head_revision, is_at_head, script_head, upgrade_to_head
from orchestra.models import Base
from tests.conftest import admin_execute, with_database


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_from_empty_reaches_head_and_matches_the_models(pg_server_url: str) -> None:
    name = f"orchestra_migration_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
    engine = create_async_engine(with_database(pg_server_url, name))
    try:
        assert not await is_at_head(engine)
        await upgrade_to_head(engine)
        assert await is_at_head(engine)
        await upgrade_to_head(engine)  # a second upgrade is a no-op
        assert head_revision() is not None
        assert script_head() == head_revision()  # what is_at_head compares with, read without Alembic
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _step(connection: Connection, direction: str, revision: str) -> tuple[bool, bool]:
    """Migrate, then: does test_runs have lease_presence_key, and does the reaper read it?"""
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)
    columns = {column["name"] for column in inspect(connection).get_columns("test_runs")}
    body = connection.execute(
        text("SELECT prosrc FROM pg_proc WHERE proname = 'orchestra_sys_reap_expired'")
    ).scalar_one()
    return "lease_presence_key" in columns, "lease_presence_key" in body


async def test_migration_0011_gives_the_reaper_presence_keys_and_takes_them_back(pg_server_url: str) -> None:
    name = f"orchestra_migration_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
    engine = create_async_engine(with_database(pg_server_url, name))
    try:
        async with engine.begin() as conn:
            assert await conn.run_sync(_step, "upgrade", "0011") == (True, True)
            assert await conn.run_sync(_step, "downgrade", "0010") == (False, False)
            assert await conn.run_sync(_step, "upgrade", "0011") == (True, True)
            security = await conn.execute(
                text("SELECT prosecdef, proowner::regrole::text FROM pg_proc WHERE proname = :name"),
                {"name": "orchestra_sys_reap_expired"},
            )
            assert tuple(security.one()) == (True, "orchestra_system")  # still the narrow system function
    finally:
        await engine.dispose()
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _definition(connection: Connection, direction: str, revision: str) -> tuple[str, Any]:
    """Migrate, then: the type of test_case_versions.definition, and the stored definition."""
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)
    kind = connection.execute(
        text(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'test_case_versions' AND column_name = 'definition'"
        )
    ).scalar_one()
    # a statement of its own per step: a prepared one would not survive the change of the column's type
    read = f"SELECT definition FROM test_case_versions /* {direction} {revision} */"
    return kind, connection.execute(text(read)).scalar_one()


async def test_migration_0013_keeps_definitions_stored_before_it(pg_server_url: str) -> None:
    """A definition stored as JSONB (keys in JSONB's order) is still there, the same, as ``json``."""
    name = f"orchestra_migration_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
    engine = create_async_engine(with_database(pg_server_url, name))
    definition = {"name": "t", "steps": [{"set": {"zz": "1", "a": "2"}}]}
    ids = {key: uuid.uuid4() for key in ("tenant", "project", "case", "version")}
    try:
        async with engine.begin() as conn:
            before = ScriptDirectory.from_config(alembic_config()).get_revision("0013").down_revision
            await conn.run_sync(_upgrade_to, before)
            for statement in [
                "INSERT INTO tenants (id, name) VALUES (:tenant, 'migrated')",
                "INSERT INTO projects (id, tenant_id, name) VALUES (:project, :tenant, 'p')",
                "INSERT INTO test_cases (id, tenant_id, project_id, name, current_version)"
                " VALUES (:case, :tenant, :project, 't', 1)",
                "INSERT INTO test_case_versions"
                " (id, tenant_id, test_case_id, version, definition, content_hash)"
                " VALUES (:version, :tenant, :case, 1, CAST(:definition AS jsonb), 'x')",
            ]:
                await conn.execute(text(statement), {**ids, "definition": json.dumps(definition)})
            assert await conn.run_sync(_definition, "upgrade", "0013") == ("json", definition)
            assert await conn.run_sync(_definition, "downgrade", before) == ("jsonb", definition)
            assert await conn.run_sync(_definition, "upgrade", "0013") == ("json", definition)
    finally:
        await engine.dispose()
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
