"""Schema migrations (Alembic), applied at start-up of every server process and by ``orchestra migrate``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Serialises concurrent migrators (an API replica and a CLI starting together) on one database.
_MIGRATION_LOCK_KEY = 0x0C4E57A1


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def migrate_database(owner_url: str, *, app_login: bool = False) -> None:
    """Bring the schema to head as its owner. ``app_login``: let ``orchestra_app`` log in (embedded mode,
    whose server trusts its local socket; elsewhere the operator grants the role to a login role)."""
    engine = create_async_engine(owner_url, poolclass=NullPool)
    try:
        await upgrade_to_head(engine)
        if app_login:
            async with engine.begin() as conn:
                await conn.execute(text("ALTER ROLE orchestra_app LOGIN"))
    finally:
        await engine.dispose()


async def is_at_head(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return await conn.run_sync(_current) == head_revision()
