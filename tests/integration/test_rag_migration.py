"""Migration 0009 creates the pgvector extension and the RAG tables, and its downgrade drops the tables."""

from __future__ import annotations

import uuid

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.migrate import alembic_config
from tests.conftest import admin_execute, with_database

RAG_TABLES = {"rag_documents", "rag_chunks"}


def _migrate(connection: Connection, direction: str, revision: str) -> set[str]:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)
    return set(inspect(connection).get_table_names())


async def test_the_migration_creates_and_drops_the_rag_tables(pg_server_url: str) -> None:
    name = f"orchestra_rag_{uuid.uuid4().hex[:10]}"
    await admin_execute(pg_server_url, f'CREATE DATABASE "{name}"')
    engine = create_async_engine(with_database(pg_server_url, name))
    try:
        async with engine.begin() as conn:
            assert await conn.run_sync(_migrate, "upgrade", "0008") & RAG_TABLES == set()
            assert RAG_TABLES <= await conn.run_sync(_migrate, "upgrade", "0009")
            extension = await conn.execute(text("SELECT count(*) FROM pg_extension WHERE extname = 'vector'"))
            assert extension.scalar_one() == 1
            assert await conn.run_sync(_migrate, "downgrade", "0008") & RAG_TABLES == set()
            assert RAG_TABLES <= await conn.run_sync(_migrate, "upgrade", "0009")
    finally:
        await engine.dispose()
        await admin_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
