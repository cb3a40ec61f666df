"""Limits hold with real concurrency: several executors, sampled IN_PROGRESS counts never exceed a limit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from orchestra.actor import Actor
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.environments import service as environments
from orchestra.executor.worker import Executor
from orchestra.projects import service as projects
from orchestra.runs import service as runs
from orchestra.runs.schemas import RunCreate, SuiteRunCreate
from orchestra.runtime import Runtime
from orchestra.testcases import service as testcases

NAP = {"name": "nap", "steps": [{"sleep": "150ms"}]}


@pytest.fixture
async def two_executors(settings: Settings) -> AsyncIterator[Runtime]:
    """The runtime's scheduler and executor, plus a second executor competing for the same queue."""
    rt = await Runtime.start(settings.model_copy(update={"executor_concurrency": 6}))
    second = Executor(rt.db, rt.broker, rt.settings)
    consuming = asyncio.create_task(second.run_forever())
    try:
        yield rt
    finally:
        await second.shutdown()
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await second.close()
        await rt.stop()


async def setup(rt: Runtime, project: str, base_url: str) -> Actor:
    actor = Actor(tenant_id=rt.tenant_id)
    async with rt.db.transaction(rt.tenant_id) as session:
        await projects.ensure(session, actor, project)
        await environments.ensure(session, actor, project, "sut", base_url, allow_private_network=True)
        await testcases.upsert_definition(session, actor, project, validate_test_case_data(NAP))
    return actor


async def sample_until_done(rt: Runtime, query: str, run_ids: list[uuid.UUID]) -> int:
    """Highest value of ``query`` (an active count) seen while the runs execute; waits for all to end."""
    highest = 0
    async with asyncio.timeout(60):
        while True:
            async with rt.db.transaction(rt.tenant_id) as conn:
                highest = max(highest, int((await conn.execute(text(query))).scalar() or 0))
                left = (
                    await conn.execute(
                        text("SELECT count(*) FROM test_runs WHERE id = ANY(:ids) AND finished_at IS NULL"),
                        {"ids": run_ids},
                    )
                ).scalar()
            if left == 0:
                return highest
            await asyncio.sleep(0.01)


async def test_environment_limit_holds_across_executors(two_executors: Runtime, demo_url: str) -> None:
    rt = two_executors
    actor = await setup(rt, "env-limit", demo_url)
    async with rt.db.transaction(rt.tenant_id) as conn:
        await conn.execute(text("UPDATE environments SET max_active_runs = 2"))
    async with rt.db.transaction(rt.tenant_id) as session:
        created = [
            (
                await runs.create_run(
                    session, actor, RunCreate(project="env-limit", environment="sut", test_case="nap")
                )
            ).id
            for _ in range(12)
        ]
    rt.scheduler.wake()
    highest = await sample_until_done(
        rt, "SELECT count(*) FROM test_runs WHERE status IN ('QUEUED', 'IN_PROGRESS')", created
    )
    assert highest == 2


async def test_suite_run_parallelism_and_project_limit(two_executors: Runtime, demo_url: str) -> None:
    rt = two_executors
    actor = await setup(rt, "suite-limit", demo_url)
    async with rt.db.transaction(rt.tenant_id) as session:
        for index in range(8):
            await testcases.upsert_definition(
                session, actor, "suite-limit", validate_test_case_data({**NAP, "name": f"nap {index}"})
            )
        suite_run = await runs.create_suite_run(
            session,
            actor,
            SuiteRunCreate(
                project="suite-limit", environment="sut", tests=[f"nap {i}" for i in range(8)], parallelism=3
            ),
        )
    rt.scheduler.wake()
    highest = await sample_until_done(
        rt, "SELECT count(*) FROM test_runs WHERE status IN ('QUEUED', 'IN_PROGRESS')", suite_run.runs
    )
    assert highest == 3


async def test_a_pending_run_explains_what_holds_it(two_executors: Runtime, demo_url: str) -> None:
    rt = two_executors
    actor = await setup(rt, "explained", demo_url)
    async with rt.db.transaction(rt.tenant_id) as conn:
        await conn.execute(text("UPDATE environments SET max_active_runs = 1"))
    long = {"name": "long", "steps": [{"sleep": "2s"}]}
    async with rt.db.transaction(rt.tenant_id) as session:
        await testcases.upsert_definition(session, actor, "explained", validate_test_case_data(long))
        first = await runs.create_run(
            session, actor, RunCreate(project="explained", environment="sut", test_case="long")
        )
        waiting = [
            (
                await runs.create_run(
                    session, actor, RunCreate(project="explained", environment="sut", test_case="nap")
                )
            ).id
            for _ in range(3)
        ]
    rt.scheduler.wake()
    async with asyncio.timeout(10):
        while True:
            async with rt.db.transaction(rt.tenant_id) as session:
                started = await runs.get_run(session, actor, first.id, with_steps=False)
            if started.status == "IN_PROGRESS":
                break
            await asyncio.sleep(0.05)
    async with rt.db.transaction(rt.tenant_id) as session:
        last = await runs.get_run(
            session, actor, waiting[-1], with_steps=False, global_default=rt.settings.max_active_runs
        )
    assert last.status == "PENDING"
    assert last.queue_position == 3
    assert last.waiting_for == "environment 'sut' at its limit 1/1"


async def test_runs_for_a_free_environment_are_not_stuck_behind_a_full_one(
    settings: Settings, demo_url: str
) -> None:
    rt = await Runtime.start(settings, run_scheduler=False, run_executor=False)
    try:
        actor = await setup(rt, "two-suts", demo_url)
        async with rt.db.transaction(rt.tenant_id) as session:
            await environments.ensure(
                session, actor, "two-suts", "free", demo_url, allow_private_network=True
            )
        async with rt.db.transaction(rt.tenant_id) as conn:
            await conn.execute(text("UPDATE environments SET max_active_runs = 1 WHERE name = 'sut'"))
        async with rt.db.transaction(rt.tenant_id) as session:
            for _ in range(70):  # a long backlog for the limited SUT, queued first
                await runs.create_run(
                    session, actor, RunCreate(project="two-suts", environment="sut", test_case="nap")
                )
            free = [
                (
                    await runs.create_run(
                        session, actor, RunCreate(project="two-suts", environment="free", test_case="nap")
                    )
                ).id
                for _ in range(3)
            ]
        admitted = set(await rt.scheduler.run_once())
        assert len(admitted) == 4  # one for the limited SUT, and every run for the free one
        assert set(free) <= admitted
        assert not await rt.scheduler.run_once()  # the limited SUT stays at its limit
    finally:
        await rt.stop()
