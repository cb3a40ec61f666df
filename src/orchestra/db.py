"""Database engine and sessions. The edge (request dependency, executor step commit) owns transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from orchestra.config import Settings
from orchestra.embedded_pg import EmbeddedPostgres, normalise_database_url


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    embedded: EmbeddedPostgres | None = field(default=None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block ends and rolls back on an exception."""
        async with self.sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "orchestra"}},
    )


def open_database(settings: Settings, pool_size: int = 10) -> Database:
    """Connect to ``ORCHESTRA_DATABASE_URL`` or start the embedded PostgreSQL under the data directory."""
    embedded: EmbeddedPostgres | None = None
    if settings.database_url:
        url = normalise_database_url(settings.database_url)
    else:
        embedded = EmbeddedPostgres(settings.data_dir)
        url = embedded.start()
    engine = make_engine(url, pool_size=pool_size)
    return Database(
        url=url,
        engine=engine,
        sessions=async_sessionmaker(engine, expire_on_commit=False),
        embedded=embedded,
    )
