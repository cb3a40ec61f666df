"""Live changes: what wakes a live stream (Server-Sent Events) when the rows it shows have changed.

``ListenedChanges``: one LISTEN connection per process, on ``CHANNEL``, whose notifications (ids only, sent
by the triggers of migration 0026 in the transaction that wrote the rows, so delivered only once they are
visible) wake the watches of this process waiting on that key. Every process LISTENs for itself, so a step
committed by an executor anywhere wakes the streams of every API replica. An idle stream costs the database
nothing: it reads when it is woken, not on a timer.

Nothing is lost when the listener's connection is: while it is down every watch reads every ``safety_s``
(the poll it replaces, slowed down), it reconnects with a doubling backoff, and once it listens again it
wakes every watch to read what it may have missed. A connection that died without the socket saying so is
found by a ``SELECT 1`` every ``safety_s`` (one query per process, not per stream).

``PolledChanges``: every watch reads every ``poll_s``, for a database reached through a pooler that keeps
no session (PgBouncer in transaction mode: LISTEN needs one).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = structlog.get_logger(__name__)

CHANNEL = "orchestra_changes"  # the channel the triggers of migration 0026 notify


def run_key(run_id: uuid.UUID) -> str:
    """Notified when a step of the run is committed or its status changes."""
    return f"run:{run_id}"


def suite_run_key(suite_run_id: uuid.UUID) -> str:
    """Notified when a run of the suite run is created or changes status."""
    return f"suite:{suite_run_id}"


class Watch(Protocol):
    async def next(self) -> bool:
        """Wait; True when the watched rows may have changed (read them again), False when only the
        keep-alive period has passed."""
        ...


class LiveChanges(Protocol):
    def watch(self, key: str) -> contextlib.AbstractContextManager[Watch]:
        """Watch ``key`` (run_key, suite_run_key) from now on: a change committed after this call wakes it."""
        ...


class _Waiter:
    def __init__(self, changes: ListenedChanges) -> None:
        self._changes = changes
        self.event = asyncio.Event()

    async def next(self) -> bool:
        try:
            await asyncio.wait_for(self.event.wait(), self._changes.safety_s)
        except TimeoutError:
            return not self._changes.listening  # while the listener is down, read on the safety period
        self.event.clear()
        return True


class ListenedChanges:
    def __init__(
        self, url: str, *, safety_s: float = 10.0, retry_s: float = 0.5, retry_max_s: float = 30.0
    ) -> None:
        """``url``: the services' database (SQLAlchemy, asyncpg). The listener starts with the first watch:
        a process that serves no stream holds no connection for it."""
        # No pool: the connection is this listener's for as long as it lives, and closing it ends the session.
        self._engine: AsyncEngine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.safety_s = safety_s
        self._retry_s, self._retry_max_s = retry_s, retry_max_s
        self._waiters: dict[str, set[_Waiter]] = {}
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.backend_pid: int | None = None  # the listening session's, while there is one

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def wait_listening(self) -> None:
        """Until the listener listens (a test, a benchmark); starts it when no watch has yet."""
        self._start()
        await self._listening.wait()

    @contextlib.contextmanager
    def watch(self, key: str) -> Iterator[Watch]:
        waiter = _Waiter(self)
        self._waiters.setdefault(key, set()).add(waiter)
        self._start()
        try:
            yield waiter
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiters[key]

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen_forever(), name="live changes")

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        for waiter in self._waiters.get(payload, ()):
            waiter.event.set()

    def _wake_all(self) -> None:
        for waiters in self._waiters.values():
            for waiter in waiters:
                waiter.event.set()

    async def _listen_forever(self) -> None:
        delay = self._retry_s
        while True:
            try:
                await self._listen_once()
                delay = self._retry_s  # it listened: the next loss starts the backoff again
            except Exception as error:
                log.warning("live_changes.listener_failed", error=f"{type(error).__name__}: {error}")
            else:
                log.warning("live_changes.listener_lost", retry_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max_s)

    async def _listen_once(self) -> None:
        """LISTEN on a new connection until it is lost. Returns (lost) or raises (could not listen)."""
        conn: AsyncConnection = await self._engine.connect()
        dead = False
        try:
            driver = (await conn.get_raw_connection()).driver_connection  # asyncpg's connection
            if driver is None:
                raise RuntimeError("the listener's connection has no driver connection to LISTEN on")
            lost = asyncio.Event()
            driver.add_termination_listener(lambda _conn: lost.set())
            await driver.add_listener(CHANNEL, self._notified)
            self.backend_pid = driver.get_server_pid()
            self._listening.set()
            self._wake_all()  # what was committed before this LISTEN (or while the last one was down)
            log.info("live_changes.listening", backend_pid=self.backend_pid)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.safety_s)
                if not lost.is_set():
                    try:
                        await asyncio.wait_for(driver.fetchval("SELECT 1"), self.safety_s)
                    except Exception:
                        dead = True  # a connection that died silently: closing it politely could hang
                        return
        finally:
            self._listening.clear()
            self.backend_pid = None
            await self._let_go(conn, dead)

    async def _let_go(self, conn: AsyncConnection, dead: bool) -> None:
        """Close the listener's connection; one that stopped answering is dropped, not closed politely (on a
        half-open socket that waits for the kernel to give up)."""
        if not dead:
            try:
                await asyncio.wait_for(conn.close(), self.safety_s)
                return
            except Exception:
                pass
        await conn.invalidate()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._engine.dispose()


class _Tick:
    def __init__(self, poll_s: float) -> None:
        self._poll_s = poll_s

    async def next(self) -> bool:
        await asyncio.sleep(self._poll_s)
        return True


class PolledChanges:
    def __init__(self, poll_s: float) -> None:
        self.poll_s = poll_s

    @contextlib.contextmanager
    def watch(self, key: str) -> Iterator[Watch]:
        yield _Tick(self.poll_s)

    async def close(self) -> None:
        return None
