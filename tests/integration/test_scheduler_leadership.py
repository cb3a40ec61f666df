"""Exactly one active scheduler among replicas; a standby takes over when the leader goes away."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.actor import Actor
from orchestra.app import create_app
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.environments import service as environments
from orchestra.projects import service as projects
from orchestra.runtime import Runtime
from orchestra.scheduler.leader import WAKE_CHANNEL, LeaderLock
from orchestra.testcases import service as testcases
from tests.conftest import admin_headers_for


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


async def test_only_the_leader_hears_a_wake_up_sent_from_any_session(database_url: str) -> None:
    woken = {"leader": asyncio.Event(), "standby": asyncio.Event()}
    leader = LeaderLock(database_url, on_wake=woken["leader"].set)
    standby = LeaderLock(database_url, on_wake=woken["standby"].set)
    engine = create_async_engine(database_url)
    try:
        assert await leader.acquire()
        assert not await standby.acquire()
        async with engine.begin() as conn:  # another process: an API replica, an executor
            await conn.execute(text(f"NOTIFY {WAKE_CHANNEL}"))
        async with asyncio.timeout(2):
            await woken["leader"].wait()
        await asyncio.sleep(0.2)
        assert not woken["standby"].is_set()
    finally:
        await engine.dispose()
        await leader.release()
        await standby.release()


async def test_a_run_created_through_a_standby_replica_is_admitted_at_once(settings: Settings) -> None:
    """The route wakes its own replica's scheduler (from the worker thread its background task runs in);
    that one is a standby, so the leader must hear of it: the interval here is far longer than the test
    may wait."""
    slow = settings.model_copy(update={"scheduler_interval_s": 60.0, "leader_retry_s": 60.0})
    leading = await Runtime.start(slow, run_executor=False)
    standby: Runtime | None = None
    try:
        async with asyncio.timeout(10):
            while leading.scheduler.role != "leader":
                await asyncio.sleep(0.05)
        standby = await Runtime.start(slow, run_executor=False)
        await asyncio.sleep(0.2)  # its first pass: it tried for leadership and lost
        assert standby.scheduler.role == "standby"
        actor = Actor(tenant_id=standby.tenant_id)
        async with standby.db.transaction(standby.tenant_id) as session:
            await projects.ensure(session, actor, "p")
            await environments.ensure(session, actor, "p", "sut", "http://127.0.0.1:9")
            await testcases.upsert_definition(
                session, actor, "p", validate_test_case_data({"name": "t", "steps": [{"sleep": 0}]})
            )
        transport = httpx.ASGITransport(app=create_app(slow, standby))
        headers = await admin_headers_for(standby, slow)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://standby.test/api/v1", headers=headers
        ) as client:
            response = await client.post(
                "/runs", json={"project": "p", "environment": "sut", "test_case": "t"}
            )
            assert response.status_code == 201, response.text
            run_id = response.json()["id"]
            async with asyncio.timeout(2):
                while (status := (await client.get(f"/runs/{run_id}")).json()["status"]) == "PENDING":
                    await asyncio.sleep(0.02)
        assert status == "QUEUED"
    finally:
        if standby is not None:
            await standby.stop()
        await leading.stop()
