"""Database engine and sessions. The edge (request dependency, executor step commit) owns transactions.

The services connect as the application role (``orchestra_app``): row-level security shows a transaction
only the rows of the tenant it set (see migrations 0006 and docs/security.md). Migrations run as the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from orchestra.config import Settings
from orchestra.embedded_pg import EmbeddedPostgres, normalise_database_url

APP_ROLE = "orchestra_app"

# Transaction-local: the settings end with the transaction, so a pooled connection never carries them on.
_SET_TENANT_LOCAL = text(
    "SELECT set_config('orchestra.tenant_id', :tenant, true),"
    " set_config('orchestra.project_id', :project, true)"
)
# Session-wide, for a connection held by one run (the executor's single-statement writes); reset on release.
_SET_TENANT_SESSION = text("SELECT set_config('orchestra.tenant_id', :tenant, false)")

_ROLE_CHECK = text(
    """
    SELECT current_user AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
        pg_has_role(current_user, t.tableowner, 'USAGE') AS owner,
        pg_has_role(current_user, 'orchestra_system', 'USAGE') AS system
    FROM pg_roles r, pg_tables t
    WHERE r.rolname = current_user AND t.schemaname = current_schema() AND t.tablename = 'test_runs'
    """
)


class UnsafeDatabaseRole(RuntimeError):
    """The services would connect as a role that row-level security does not hold."""


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    owner_url: str
    embedded: EmbeddedPostgres | None = field(default=None)

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
        async with self.engine.connect() as conn:
            row = (await conn.execute(_ROLE_CHECK)).first()
        if row is None:
            raise UnsafeDatabaseRole("the database is not migrated (run `orchestra migrate` as the owner)")
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


async def set_tenant(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID | None = None
) -> None:
    """Switch the rest of this transaction to ``tenant_id``'s rows (a pass that serves several tenants)."""
    await session.execute(
        _SET_TENANT_LOCAL, {"tenant": str(tenant_id), "project": str(project_id) if project_id else ""}
    )


@asynccontextmanager
async def tenant_connection(engine: AsyncEngine, tenant_id: uuid.UUID) -> AsyncIterator[AsyncConnection]:
    """A connection (autocommit statements) that sees ``tenant_id``'s rows until it is released."""
    async with engine.connect() as conn:
        await conn.execute(_SET_TENANT_SESSION, {"tenant": str(tenant_id)})
        try:
            yield conn
        finally:
            if not conn.invalidated:
                await conn.execute(_SET_TENANT_SESSION, {"tenant": ""})


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


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # Errors and logs never quote statement parameters (they may hold a user's values).
        hide_parameters=True,
        connect_args={"server_settings": {"application_name": "orchestra"}},
    )


def as_role(url: str, role: str) -> str:
    """The same server and database, connecting as ``role`` (embedded mode: trusted local socket)."""
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def open_database(settings: Settings, pool_size: int = 10) -> Database:
    """Connect to ``ORCHESTRA_DATABASE_URL`` or start the embedded PostgreSQL under the data directory.

    Embedded: the server's superuser migrates, and the services connect as ``orchestra_app``."""
    embedded: EmbeddedPostgres | None = None
    if settings.database_url:
        url = normalise_database_url(settings.database_url)
        owner_url = normalise_database_url(settings.migration_database_url or settings.database_url)
    else:
        embedded = EmbeddedPostgres(settings.data_dir)
        owner_url = embedded.start()
        url = as_role(owner_url, APP_ROLE)
    engine = make_engine(url, pool_size=pool_size)
    return Database(
        url=url,
        engine=engine,
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        owner_url=owner_url,
        embedded=embedded,
    )
