"""Exactly one active scheduler among replicas; a standby takes over when the leader goes away."""

from __future__ import annotations

import asyncio

from orchestra.scheduler.leader import LeaderLock


async def test_one_leader_and_takeover(database_url: str) -> None:
    first, second = LeaderLock(database_url), LeaderLock(database_url)
    try:
        assert await first.acquire()
        assert not await second.acquire()
        assert await first.acquire()  # the leader stays leader
        await first.release()  # the leader's process ends: its session and lock go with it
        async with asyncio.timeout(5):
            while not await second.acquire():
                await asyncio.sleep(0.1)
        assert second.held
        assert not await first.acquire()
    finally:
        await first.release()
        await second.release()


async def test_a_leader_whose_connection_died_steps_down(database_url: str) -> None:
    lock, rival = LeaderLock(database_url), LeaderLock(database_url)
    try:
        assert await lock.acquire()
        assert lock._conn is not None
        await lock._conn.invalidate()  # the database connection is gone (restart, network)
        assert await rival.acquire()  # the server released the lock with the session
        assert not await lock.acquire()
        assert not lock.held
    finally:
        await lock.release()
        await rival.release()
