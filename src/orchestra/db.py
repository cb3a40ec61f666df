"""Database engine and sessions. The edge (request dependency, executor step commit) owns transactions.

The services connect as the application role (``orchestra_app``): row-level security shows a transaction
only the rows of the tenant it set (see migrations 0006 and docs/security.md). Migrations run as the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from orchestra.config import Settings
from orchestra.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError, normalise_database_url
from orchestra.errors import StartupRefused
from orchestra.tenant_context import ContextKey

APP_ROLE = "orchestra_app"

# The tenant context is entered through orchestra_enter with a proof of the context key (migration 0012,
# tenant_context.py): set_config alone changes nothing the policies read. Transaction-local by default, so a
# pooled connection never carries it on; ``whole_session`` for a connection held by one run (the executor's
# single-statement writes), cleared when it is released.
_ENTER = text("SELECT orchestra_enter(:tenant, :project, :proof, :whole_session)")
_LEAVE_SESSION = text("SELECT set_config('orchestra.context', '', false)")
_CONTEXT_KEY = "orchestra.context_key"  # where a pooled connection keeps its engine's context key

_ROLE_CHECK = text(
    """
    SELECT current_user AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
        pg_has_role(current_user, t.tableowner, 'USAGE') AS owner,
        pg_has_role(current_user, 'orchestra_system', 'USAGE') AS system
    FROM pg_roles r, pg_tables t
    WHERE r.rolname = current_user AND t.schemaname = current_schema() AND t.tablename = 'test_runs'
    """
)


class UnsafeDatabaseRole(StartupRefused):
    """The services would connect as a role that row-level security does not hold."""


class ContextKeyRefused(StartupRefused):
    """The database holds another tenant-context key than this process's (another secret key), or none."""


class DatabaseUnreachable(StartupRefused):
    """No connection to the configured database (server down, wrong address, user, password or name)."""


def redacted(url: str) -> str:
    """The URL as an operator wrote it, without its password or driver: fit for messages and logs."""
    parts = make_url(url)
    return URL.create(
        "postgresql", parts.username, None, parts.host, parts.port, parts.database, parts.query
    ).render_as_string()


@dataclass(frozen=True)
class Target:
    """A database URL and where it came from, so that a message can name the setting to change."""

    url: str
    source: str  # the variable that set it

    @property
    def label(self) -> str:
        return f"{redacted(self.url)} ({self.source})"


def _configured(url: str, variable: str) -> Target:
    try:
        return Target(normalise_database_url(url), variable)
    except ValueError:
        shown = url.split("://", 1)[0] + "://…" if "://" in url else "no scheme"  # never its password
        raise StartupRefused(
            f"{variable} is not a PostgreSQL URL ({shown}): write it as "
            "postgresql://user:password@host:5432/database"
        ) from None


def migration_target(settings: Settings) -> Target | None:
    """Where migrations go: ``ORCHESTRA_MIGRATION_DATABASE_URL``, else ``ORCHESTRA_DATABASE_URL``; None: the
    embedded database of the data directory."""
    if settings.migration_database_url:
        return _configured(settings.migration_database_url, "ORCHESTRA_MIGRATION_DATABASE_URL")
    if settings.database_url:
        return _configured(settings.database_url, "ORCHESTRA_DATABASE_URL")
    return None


async def connect(engine: AsyncEngine, label: str) -> AsyncConnection:
    """A connection of ``engine``, or DatabaseUnreachable naming the database (``label``) and its setting."""
    try:
        return await engine.connect()
    except (OSError, TimeoutError, DBAPIError) as error:
        raise DatabaseUnreachable(f"cannot connect to the database {label}: {error_text(error)}") from None


def error_text(error: BaseException) -> str:
    """The database's own message (first line), without SQLAlchemy's wrapping."""
    cause = getattr(error, "orig", None) or error
    text_ = str(cause).strip().splitlines()
    return text_[0] if text_ else type(cause).__name__


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    owner_url: str
    context_key: ContextKey = field(repr=False)  # signs the tenant contexts (the engine's, make_engine)
    embedded: EmbeddedPostgres | None = field(default=None)
    target: Target | None = field(default=None)  # the services' database, as configured
    owner_target: Target | None = field(default=None)  # the database migrations go to, as configured

    @property
    def label(self) -> str:
        """The services' database and its setting, for messages."""
        if self.target is not None:
            return self.target.label
        if self.embedded is not None:
            return f"the embedded database under {self.embedded.pgdata}"
        return redacted(self.url)

    @property
    def app_password(self) -> str | None:
        """The application role's password that migrations set: the embedded server's (None: elsewhere
        the operator gives the services a login role of their own)."""
        return self.embedded.app_password if self.embedded is not None else None

    @property
    def owner_label(self) -> str:
        """The database migrations go to and its setting, for messages."""
        return self.owner_target.label if self.owner_target is not None else self.label

    @asynccontextmanager
    async def transaction(
        self, tenant_id: uuid.UUID | None, project_id: uuid.UUID | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block ends and rolls back on an exception, seeing the
        rows of ``tenant_id`` (None: no tenant rows at all; only the ``orchestra_sys_*`` functions), and
        with ``project_id`` only that project's (a project-scoped token)."""
        async with self.sessions() as session, session.begin():
            if tenant_id is not None:
                await set_tenant(session, tenant_id, project_id)
            yield session

    def transactions(self, tenant_id: uuid.UUID | None, project_id: uuid.UUID | None = None) -> Transactions:
        """Short transactions one after another, for work that waits on something slow in between."""
        return Transactions(self, tenant_id, project_id)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()

    async def check_role(self) -> None:
        """Refuse to serve as a superuser, a BYPASSRLS role, the tables' owner or orchestra_system."""
        conn = await connect(self.engine, self.label)
        try:
            row = (await conn.execute(_ROLE_CHECK)).first()
        except DBAPIError as error:
            raise UnsafeDatabaseRole(
                f"the database {self.label} is not ready for the services ({error_text(error)}): migrate it "
                "as the owner first (`orchestra migrate` with ORCHESTRA_MIGRATION_DATABASE_URL; see "
                "docs/security.md)"
            ) from None
        finally:
            await conn.close()
        if row is None:
            raise UnsafeDatabaseRole(
                f"the database {self.label} is not migrated: run `orchestra migrate` as the owner "
                "(ORCHESTRA_MIGRATION_DATABASE_URL; see docs/security.md)"
            )
        why = (
            "a superuser"
            if row.superuser
            else "a role with BYPASSRLS"
            if row.bypassrls
            else "the owner of the tables"
            if row.owner
            else "a member of orchestra_system"
            if row.system
            else None
        )
        if why:
            raise UnsafeDatabaseRole(
                f"the database URL connects as '{row.name}', {why}: row-level security would not isolate "
                f"tenants. Connect the services as a role granted {APP_ROLE} (ORCHESTRA_DATABASE_URL) and "
                "migrate as the owner (ORCHESTRA_MIGRATION_DATABASE_URL); see docs/security.md"
            )
        await self._check_context_key()

    async def _check_context_key(self) -> None:
        """Refuse to serve with a tenant-context key the database does not accept: every transaction would
        fail. The database holds the key of the secret key it was last migrated with."""
        conn = await connect(self.engine, self.label)
        try:
            async with conn.begin():
                await conn.execute(_ENTER, enter_params(self.context_key, uuid.UUID(int=0)))
        except DBAPIError as error:
            raise ContextKeyRefused(
                f"the database {self.label} refuses this process's tenant context key "
                f"({self.context_key.fingerprint}): {error_text(error)}. Give every service and `orchestra "
                "migrate` the same secret key (ORCHESTRA_SECRET_KEY); see docs/security.md"
            ) from None
        finally:
            await conn.close()


def enter_params(
    key: ContextKey, tenant_id: uuid.UUID, project_id: uuid.UUID | None = None, *, whole_session: bool = False
) -> dict[str, object]:
    """The parameters of ``orchestra_enter`` for this tenant (and project), signed with ``key``."""
    return {
        "tenant": tenant_id,
        "project": project_id,
        "proof": key.proof(tenant_id, project_id),
        "whole_session": whole_session,
    }


async def enter_tenant(
    conn: AsyncConnection, key: ContextKey, tenant_id: uuid.UUID, project_id: uuid.UUID | None = None
) -> None:
    """Switch the rest of ``conn``'s transaction to ``tenant_id``'s rows (a connection of any engine: the
    owner's, when it migrates)."""
    await conn.execute(_ENTER, enter_params(key, tenant_id, project_id))


def _context_key(conn: AsyncConnection) -> ContextKey:
    key = conn.info.get(_CONTEXT_KEY)
    if not isinstance(key, ContextKey):
        raise RuntimeError("this connection's engine has no tenant context key (make it with make_engine)")
    return key


async def set_tenant(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID | None = None
) -> None:
    """Switch the rest of this transaction to ``tenant_id``'s rows (a pass that serves several tenants)."""
    conn = await session.connection()
    await conn.execute(_ENTER, enter_params(_context_key(conn), tenant_id, project_id))


@asynccontextmanager
async def tenant_connection(engine: AsyncEngine, tenant_id: uuid.UUID) -> AsyncIterator[AsyncConnection]:
    """A connection (autocommit statements) that sees ``tenant_id``'s rows until it is released."""
    async with engine.connect() as conn:
        await conn.execute(_ENTER, enter_params(_context_key(conn), tenant_id, whole_session=True))
        try:
            yield conn
        finally:
            if not conn.invalidated:
                await conn.execute(_LEAVE_SESSION)


class Transactions:
    """Short transactions of one tenant (and project), opened one after another, for work that waits on
    something slow in between (the ai-service, which reads back through the API's tool endpoints): no
    connection is held while it waits."""

    def __init__(self, db: Database, tenant_id: uuid.UUID | None, project_id: uuid.UUID | None) -> None:
        self._db = db
        self._tenant_id = tenant_id
        self._project_id = project_id

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._db.transaction(self._tenant_id, self._project_id)


def make_engine(
    url: str, context_key: ContextKey, pool_size: int = 10, pool_timeout: float = 30.0
) -> AsyncEngine:
    """The services' engine; its connections sign tenant contexts with ``context_key``. ``pool_timeout``:
    seconds a checkout waits for a connection when all ``2 * pool_size`` are in use."""
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        # Errors and logs never quote statement parameters (they may hold a user's values).
        hide_parameters=True,
        connect_args={"server_settings": {"application_name": "orchestra"}},
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _keep_context_key(_dbapi_connection: object, record: Any) -> None:
        record.info[_CONTEXT_KEY] = context_key

    return engine


def as_role(url: str, role: str, password: str) -> str:
    """The same server and database, connecting as ``role`` with ``password``."""
    return make_url(url).set(username=role, password=password).render_as_string(hide_password=False)


def open_database(
    settings: Settings,
    context_key: ContextKey,
    pool_size: int = 10,
    embedded_server: EmbeddedPostgres | None = None,
) -> Database:
    """Connect to ``ORCHESTRA_DATABASE_URL`` or start the embedded PostgreSQL under the data directory.
    ``context_key``: what signs the tenant contexts (from the secret key, kit/secret_box.py).
    ``embedded_server``: the data directory's server when the caller began starting it already
    (``EmbeddedPostgres.start_in_background``); it is stopped with the database.

    Embedded: the server's superuser migrates, and the services connect as ``orchestra_app``."""
    embedded: EmbeddedPostgres | None = None
    target = owner_target = None
    if settings.database_url:
        target = _configured(settings.database_url, "ORCHESTRA_DATABASE_URL")
        owner_target = migration_target(settings) or target
        url, owner_url = target.url, owner_target.url
    elif settings.migration_database_url:
        # The embedded database would be served and migrated while the shared one stayed untouched.
        raise StartupRefused(
            "ORCHESTRA_MIGRATION_DATABASE_URL is set but ORCHESTRA_DATABASE_URL is not: the services connect "
            "with ORCHESTRA_DATABASE_URL as a login granted orchestra_app (docs/security.md); set it, or "
            "unset ORCHESTRA_MIGRATION_DATABASE_URL to use the embedded database"
        )
    else:
        embedded = embedded_server or EmbeddedPostgres(settings.data_dir)
        try:
            owner_url = embedded.start()
        except EmbeddedPostgresError as error:
            raise StartupRefused(str(error)) from None
        url = as_role(owner_url, APP_ROLE, embedded.app_password)
    engine = make_engine(url, context_key, pool_size=pool_size)
    return Database(
        url=url,
        engine=engine,
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        owner_url=owner_url,
        context_key=context_key,
        embedded=embedded,
        target=target,
        owner_target=owner_target,
    )
