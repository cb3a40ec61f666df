"""Schema migrations (Alembic), applied at start-up of every server process and by ``orchestra migrate``.

Alembic is imported only to migrate: ``is_at_head``, which every process asks at start and in its readiness
check, reads the revision the database is at and the head of the scripts without it, so that a process that
never migrates (an executor) does not keep Alembic in its memory.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Serialises concurrent migrators (an API replica and a CLI starting together) on one database.
_MIGRATION_LOCK_KEY = 0x0C4E57A1
_REVISION_LINE = re.compile(r"""^(revision|down_revision)\s*=\s*(?:"([^"]*)"|'([^']*)'|None)\s*$""", re.M)
_HAS_VERSION_TABLE = text("SELECT to_regclass('alembic_version') IS NOT NULL")
_VERSIONS = text("SELECT version_num FROM alembic_version")


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@functools.cache
def script_head() -> str | None:
    """The head revision, read from the scripts' ``revision``/``down_revision`` lines: the one revision no
    other script names as its parent. Anything else (branches, a line this does not read) asks Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = {name: double or single for name, double, single in _REVISION_LINE.findall(path.read_text())}
        if not found.get("revision"):
            return head_revision()
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else head_revision()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


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
        if not (await conn.execute(_HAS_VERSION_TABLE)).scalar():
            return False
        versions = [row[0] for row in await conn.execute(_VERSIONS)]
    return versions == [script_head()]
