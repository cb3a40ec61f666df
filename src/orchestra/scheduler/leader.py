"""Scheduler leadership: among several API replicas exactly one scheduler is active.

The leader holds a session-level PostgreSQL advisory lock on a dedicated connection. When its process dies,
PostgreSQL ends that session and frees the lock; a standby, retrying every ``leader_retry_s``, takes over.

The same session LISTENs on ``WAKE_CHANNEL``: any process that creates runs or frees a slot (another API
replica, an executor) NOTIFYs it, so the leader passes at once instead of at its next interval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)

LEADER_LOCK_KEY = 0x5C4ED1EAD
# NOTIFY on this channel (no payload) asks the leading scheduler for a pass now.
WAKE_CHANNEL = "orchestra_scheduler_wake"


class LeaderLock:
    def __init__(self, url: str, on_wake: Callable[[], None] | None = None) -> None:
        """``on_wake``: called (in the event loop) for each NOTIFY on ``WAKE_CHANNEL`` while leading."""
        # No pool: closing the connection must really end the session (and so release the lock).
        self._engine: AsyncEngine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._conn: AsyncConnection | None = None
        self._backend_pid: int | None = None
        self._on_wake = on_wake

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def acquire(self) -> bool:
        """Try to become (or stay) the leader; True while this process holds the lock."""
        if self._conn is not None:
            try:
                # The same server session still holds the lock (a silently re-opened connection would not).
                pid = (await self._conn.execute(text("SELECT pg_backend_pid()"))).scalar()
                if pid == self._backend_pid:
                    return True
            except Exception:
                pass
            log.warning("scheduler.leadership_lost")
            await self._drop()
        conn = await self._engine.connect()
        try:
            row = (
                await conn.execute(
                    text("SELECT pg_try_advisory_lock(:k), pg_backend_pid()"), {"k": LEADER_LOCK_KEY}
                )
            ).one()
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not row[0]:
            await conn.close()
            return False
        if self._on_wake is not None:
            try:
                await self._listen(conn, self._on_wake)
            except BaseException:
                await conn.close()  # ends the session, and so releases the lock just taken
                raise
        self._conn, self._backend_pid = conn, int(row[1])
        log.info("scheduler.became_leader")
        return True

    @staticmethod
    async def _listen(conn: AsyncConnection, on_wake: Callable[[], None]) -> None:
        def notified(*_: Any) -> None:  # (connection, pid, channel, payload)
            on_wake()

        driver = (await conn.get_raw_connection()).driver_connection  # asyncpg's connection
        if driver is None:
            raise RuntimeError("the leader's connection has no driver connection to LISTEN on")
        await driver.add_listener(WAKE_CHANNEL, notified)

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                await conn.invalidate()

    async def release(self) -> None:
        await self._drop()
        await self._engine.dispose()
