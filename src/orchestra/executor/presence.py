"""An executor's presence in PostgreSQL: a lock that exists exactly as long as its process.

The executor holds a session-level advisory lock, ``(PRESENCE_LOCK_CLASS, key)`` with a random key of its
own, on a connection of its own, and records the key in every run it leases (``lease_presence_key``). When
the process dies — ``kill -9``, out of memory, a crash — its socket closes, PostgreSQL ends the session and
frees the lock, and the scheduler's reaper (migration 0011) takes its runs back at its next pass instead of
after the lease (``requeue_orphaned``, ``fail_orphaned``). A process that is alive but silent (paused, cut
off by the network) keeps its session for a while, so its runs still wait for the lease to expire.

The lock's loss while the process lives (the connection dropped, the database restarted) is safe: the
reaper may then take the runs, and the fencing tokens keep this process from writing to them. The lock is
taken again with the same key as soon as the connection is back.
"""

from __future__ import annotations

import secrets

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)

# The first key of every presence lock ("ORCH" in ASCII); migration 0011's reaper uses the same number.
PRESENCE_LOCK_CLASS = 0x4F524348

_LOCK = text("SELECT pg_try_advisory_lock(:class, :key), pg_backend_pid()")
_PID = text("SELECT pg_backend_pid()")


def new_key() -> int:
    """A random positive int4: the second key of a presence lock."""
    return secrets.randbelow(2**31 - 1) + 1


class Presence:
    def __init__(self, url: str) -> None:
        # No pool: closing the connection must really end the session (and so free the lock).
        self._engine: AsyncEngine = create_async_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"server_settings": {"application_name": "orchestra executor presence"}},
        )
        self._conn: AsyncConnection | None = None
        self._backend_pid: int | None = None
        self.key: int | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def acquire(self) -> int:
        """Take the lock under a key nobody holds; returns the key. Raises if the database is unreachable."""
        while True:
            key = new_key()
            if await self._lock(key):
                self.key = key
                log.info("executor.presence_taken", key=key)
                return key

    async def keep(self) -> bool:
        """Check that the session still holds the lock; take it again (same key) if the session was lost.
        True while it is held. Never raises: a failure is reported and tried again at the next call."""
        if self.key is None:
            return False
        if self._conn is not None:
            try:
                # The same server session still holds the lock (a silently re-opened one would not).
                if (await self._conn.execute(_PID)).scalar() == self._backend_pid:
                    return True
            except Exception:
                pass
            log.warning("executor.presence_lost", key=self.key)
            await self._drop()
        try:
            if await self._lock(self.key):
                log.info("executor.presence_taken_again", key=self.key)
                return True
        except Exception as error:
            log.warning("executor.presence_retry_failed", key=self.key, error=type(error).__name__)
        return False

    async def _lock(self, key: int) -> bool:
        conn = await self._engine.connect()
        try:
            row = (await conn.execute(_LOCK, {"class": PRESENCE_LOCK_CLASS, "key": key})).one()
        except BaseException:
            await conn.close()
            raise
        if not row[0]:  # another process holds this key (or a reaper is looking at it): try another
            await conn.close()
            return False
        self._conn, self._backend_pid = conn, int(row[1])
        return True

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                await conn.invalidate()

    async def release(self) -> None:
        """End the session (and so free the lock): only once this executor holds no run any more."""
        await self._drop()
        await self._engine.dispose()
