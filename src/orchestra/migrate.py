"""Schema migrations (Alembic), applied at start-up of every server process and by ``orchestra migrate``.

Alembic is imported only to migrate: ``is_at_head``, which every process asks at start and in its readiness
check, reads the revision the database is at and the head of the scripts without it, so that a process that
never migrates (an executor) does not keep Alembic in its memory.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.db import connect, error_text, redacted
from orchestra.errors import StartupRefused
from orchestra.tenant_context import ContextKey

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Serialises concurrent migrators (an API replica and a CLI starting together) on one database.
_MIGRATION_LOCK_KEY = 0x0C4E57A1
_REVISION_LINE = re.compile(r"""^(revision|down_revision)\s*=\s*(?:"([^"]*)"|'([^']*)'|None)\s*$""", re.M)
_HAS_VERSION_TABLE = text("SELECT to_regclass('alembic_version') IS NOT NULL")
_VERSIONS = text("SELECT version_num FROM alembic_version")
# Only when PUBLIC still has the privilege: a REVOKE rewrites the catalogue row (a write, a flush at commit)
# even when it changes nothing, and a start of a database at head should write nothing.
_NO_TEMPORARY_TABLES = text(
    """
    DO $$ BEGIN
        IF EXISTS (
            SELECT 1 FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
            WHERE d.datname = current_database() AND a.grantee = 0 AND a.privilege_type = 'TEMPORARY'
        ) THEN
            EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
        END IF;
    END $$
    """
)
_APP_ROLE_LOGIN = text("SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'orchestra_app'")
_REGISTERED_KEY = text("SELECT fingerprint FROM tenant_context_key")
_REGISTER_KEY = text(
    """
    INSERT INTO tenant_context_key (id, inner_pad, outer_pad, fingerprint) VALUES (true, :inner, :outer, :fp)
    ON CONFLICT (id) DO UPDATE SET inner_pad = excluded.inner_pad, outer_pad = excluded.outer_pad,
        fingerprint = excluded.fingerprint, registered_at = now()
    """
)


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


class MigrationFailed(StartupRefused):
    """A migration failed; the whole upgrade was rolled back (PostgreSQL's DDL is transactional)."""


class ContextKeyConflict(StartupRefused):
    """The database holds the tenant-context key of another secret key than the migrating process's."""


def _register_context_key(connection: Connection, key: ContextKey, replace: bool, label: str) -> None:
    """Store ``key`` as the database's tenant-context key (in the migration's transaction, under its lock):
    when there is none, or ``replace``. Another key is kept and refused: every service of the database
    signs with the key it holds, and replacing it would stop them all."""
    registered = connection.execute(_REGISTERED_KEY).scalar()
    if registered == key.fingerprint:
        return
    if registered is not None and not replace:
        raise ContextKeyConflict(
            f"the database {label} holds the tenant context key of another secret key ({registered}, "
            f"this process has {key.fingerprint}): give `orchestra migrate` the services' "
            "ORCHESTRA_SECRET_KEY, or make this key the database's with `orchestra migrate "
            "--replace-context-key` (services with the other key then stop working until they get this "
            "one); see docs/security.md"
        )
    inner, outer = key.pads
    connection.execute(_REGISTER_KEY, {"inner": inner, "outer": outer, "fp": key.fingerprint})


def _refuse_temporary_tables(connection: Connection) -> None:
    """A temporary table named like one of ours would shadow it for the rest of a pooled connection's life
    and catch the next tenant's rows: no role but the owner may create one. At every migration, since a
    database's privileges are not copied with it (CREATE DATABASE … TEMPLATE, a restore without --create)."""
    connection.execute(_NO_TEMPORARY_TABLES)


def _scram_matches(verifier: str | None, password: str) -> bool:
    """Whether a stored SCRAM-SHA-256 verifier (``SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey``,
    RFC 5803) is the one of ``password``: checked here so that a start need not set the password again."""
    match = re.fullmatch(r"SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)", verifier or "")
    if match is None:
        return False
    try:
        salt, stored, server = (base64.b64decode(match[index], validate=True) for index in (2, 3, 4))
    except ValueError:
        return False
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(match[1]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored) and hmac.compare_digest(
        server_key, server
    )


async def _let_app_role_log_in(conn: Any, password: str) -> None:
    """``orchestra_app`` may log in with ``password``; set only when it may not yet (a write otherwise)."""
    row = (await conn.execute(_APP_ROLE_LOGIN)).first()
    if row is not None and row.rolcanlogin and _scram_matches(row.rolpassword, password):
        return
    # ALTER ROLE takes no parameters: quoted by PostgreSQL itself
    statement = "SELECT format('ALTER ROLE orchestra_app LOGIN PASSWORD %L', CAST(:p AS text))"
    await conn.execute(text((await conn.execute(text(statement), {"p": password})).scalar_one()))


class _Progress:
    """Which revisions an upgrade started from and applied, to name the one that failed."""

    def __init__(self) -> None:
        self.start: str | None = None
        self.applied: list[str] = []

    def on_version_apply(self, **kwargs: Any) -> None:
        self.applied.append(kwargs["step"].up_revision_id)

    def failed_revision(self) -> str | None:
        """The revision after the last one applied (the history is linear)."""
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config())
        pending = [rev.revision for rev in script.iterate_revisions("head", self.start or "base")]
        pending.reverse()
        index = len(self.applied)
        return pending[index] if index < len(pending) else None


def _recorded_revision(connection: Connection) -> str | None:
    """The one revision ``alembic_version`` holds (None: no table, no row, or several)."""
    if not connection.execute(_HAS_VERSION_TABLE).scalar():
        return None
    versions = [row[0] for row in connection.execute(_VERSIONS)]
    return versions[0] if len(versions) == 1 else None


def _upgrade(connection: Connection, progress: _Progress | None = None) -> None:
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
    # At head already (every start but the first after an upgrade): nothing for Alembic to do, and its
    # import and script loading are the larger part of a short command's start.
    recorded = _recorded_revision(connection)
    if recorded is not None and recorded == script_head():
        if progress is not None:
            progress.start = recorded
        return
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    if progress is not None:
        progress.start = _current(connection)
        config.attributes["on_version_apply"] = progress.on_version_apply
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def migrate_database(
    owner_url: str,
    *,
    context_key: ContextKey | None = None,
    replace_context_key: bool = False,
    app_password: str | None = None,
    label: str | None = None,
    engine: AsyncEngine | None = None,
) -> None:
    """Bring the schema to head as its owner and register ``context_key`` as the database's tenant-context
    key (when it has none, or ``replace_context_key``). ``app_password``: let ``orchestra_app`` log in with it
    (embedded mode, where the server is this process's; elsewhere the operator grants the role to a login
    role).

    A database that cannot be reached or a migration that fails is a StartupRefused whose one line names
    the database (``label``: its URL and setting), the revision and what to do. ``engine``: the owner's
    engine of the caller (left open), so that the work after the migration reuses its connection."""
    label = label or redacted(owner_url)
    own_engine = engine is None
    engine = engine or create_async_engine(owner_url, poolclass=NullPool)
    try:
        conn = await connect(engine, label)
        progress = _Progress()
        try:
            async with conn.begin():
                await conn.run_sync(_upgrade, progress)
                await conn.run_sync(_refuse_temporary_tables)
                if context_key is not None:
                    await conn.run_sync(_register_context_key, context_key, replace_context_key, label)
            if app_password is not None:  # on the same connection: one log-in per start
                async with conn.begin():
                    await _let_app_role_log_in(conn, app_password)
        except DBAPIError as error:
            raise MigrationFailed(_explain(error, progress, owner_url, label)) from None
        finally:
            await conn.close()
    finally:
        if own_engine:
            await engine.dispose()


def _explain(error: DBAPIError, progress: _Progress, owner_url: str, label: str) -> str:
    url = make_url(owner_url)
    user, database = url.username or "?", url.database or "?"
    reason = error_text(error)
    revision = progress.failed_revision()
    what = f"migration {revision}" if revision else "the migration"
    lowered = reason.lower()
    if "extension" in lowered and "vector" in lowered and "permission denied" in lowered:
        fix = (
            f"only a superuser may create the pgvector extension: as a superuser, run "
            f"`CREATE EXTENSION vector;` in database '{database}', then migrate again (docs/security.md)"
        )
    elif "vector" in lowered and ("not available" in lowered or "control file" in lowered):
        fix = (
            'the PostgreSQL server has no pgvector: install it (docs/security.md, "Setting up a shared '
            f"PostgreSQL\"), then, as a superuser, run `CREATE EXTENSION vector;` in database '{database}'"
        )
    elif "permission denied" in lowered and " role " in lowered:
        fix = (
            "the roles orchestra_app and orchestra_system are shared by every database of the server and "
            "were made by another role: as a superuser, run "
            f"`GRANT orchestra_app, orchestra_system TO {user} WITH ADMIN OPTION;`, then migrate again "
            "(docs/security.md)"
        )
    elif "permission denied" in lowered or "must be owner" in lowered:
        fix = (
            f"'{user}' may not change this schema: migrate as the owner of database '{database}' "
            "(ORCHESTRA_MIGRATION_DATABASE_URL; docs/security.md)"
        )
    else:
        fix = "nothing was changed; see the PostgreSQL server's log"
    return f"{what} of {label} failed as '{user}': {reason} — {fix}"


async def is_at_head(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        if not (await conn.execute(_HAS_VERSION_TABLE)).scalar():
            return False
        versions = [row[0] for row in await conn.execute(_VERSIONS)]
    return versions == [script_head()]


async def require_head(engine: AsyncEngine, label: str) -> None:
    """Refuse to go on with a schema that is not at head (a service without an owner to migrate as)."""
    conn = await connect(engine, label)
    try:
        current = await conn.run_sync(_current)
    finally:
        await conn.close()
    head = head_revision()
    if current != head:
        raise StartupRefused(
            f"the database {label} is at revision {current or 'none (empty)'}, this Orchestra needs {head}: "
            "migrate it as the owner (`orchestra migrate` with ORCHESTRA_MIGRATION_DATABASE_URL), or set "
            "ORCHESTRA_MIGRATION_DATABASE_URL for the API to migrate at start (docs/security.md)"
        )
