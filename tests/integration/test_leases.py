"""Leases, fencing tokens, the reaper and resume: the durability contract of ARCHITECTURE.md."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.actor import Actor
from orchestra.config import Settings
from orchestra.db import make_engine
from orchestra.definitions.loader import validate_test_case_data
from orchestra.environments import service as environments
from orchestra.executor.lease import Lease, LeaseLost, LeaseStore, StepRecord, _DriverStatement
from orchestra.executor.plan import compile_plan
from orchestra.executor.presence import Presence
from orchestra.executor.run_execution import EnvironmentSnapshot, RunExecution
from orchestra.executor.worker import Executor
from orchestra.projects import service as projects
from orchestra.runs import service as runs
from orchestra.runs.schemas import RunCreate
from orchestra.runtime import Runtime
from orchestra.testcases import service as testcases


@pytest.fixture
async def quiet(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime whose scheduler and executor do nothing unless a test drives them."""
    rt = await Runtime.start(settings, run_scheduler=False, run_executor=False)
    try:
        yield rt
    finally:
        await rt.stop()


async def create_run(rt: Runtime, base_url: str, definition: dict[str, Any]) -> uuid.UUID:
    actor = Actor(tenant_id=rt.tenant_id)
    async with rt.db.transaction(rt.tenant_id) as session:
        await projects.ensure(session, actor, "p")
        await environments.ensure(session, actor, "p", "sut", base_url, allow_private_network=True)
        await testcases.upsert_definition(session, actor, "p", validate_test_case_data(definition))
        created = await runs.create_run(
            session, actor, RunCreate(project="p", environment="sut", test_case=definition["name"])
        )
    return created.id


async def run_row(rt: Runtime, run_id: uuid.UUID) -> Any:
    async with rt.db.transaction(rt.tenant_id) as conn:
        return (await conn.execute(text("SELECT * FROM test_runs WHERE id = :id"), {"id": run_id})).one()


async def step_rows(rt: Runtime, run_id: uuid.UUID) -> list[Any]:
    async with rt.db.transaction(rt.tenant_id) as conn:
        rows = await conn.execute(
            text("SELECT seq, status, fencing_token FROM step_results WHERE test_run_id = :id ORDER BY seq"),
            {"id": run_id},
        )
        return list(rows)


async def expire_lease(rt: Runtime, run_id: uuid.UUID) -> None:
    async with rt.db.transaction(rt.tenant_id) as conn:
        await conn.execute(
            text("UPDATE test_runs SET lease_expires_at = now() - interval '1 second' WHERE id = :id"),
            {"id": run_id},
        )


def record(seq: int) -> StepRecord:
    return StepRecord(
        seq=seq,
        phase="main",
        name="x",
        status="passed",
        attempts=1,
        started_at=datetime.now(UTC),
        duration_ms=1.0,
    )


PAYLOAD: dict[str, str | None] = {"request": None, "response": None, "assertions": "[]", "error": None}


async def test_zombie_writes_nothing_after_takeover(quiet: Runtime, demo_url: str) -> None:
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    assert await quiet.scheduler.run_once() == [run_id]
    zombie = LeaseStore(quiet.db.engine, "zombie", lease_s=30)
    successor = LeaseStore(quiet.db.engine, "successor", lease_s=30)
    old = await zombie.take(run_id)
    assert old is not None
    assert old.fencing_token == 1
    assert await successor.take(run_id) is None  # IN_PROGRESS is not leasable
    await expire_lease(quiet, run_id)
    await quiet.scheduler.run_once()  # the reaper: back to QUEUED, attempt 2
    row = await run_row(quiet, run_id)
    assert (row.status, row.attempt, row.lease_owner) == ("QUEUED", 2, None)
    new = await successor.take(run_id)
    assert new is not None
    assert new.fencing_token == 2
    assert new.attempt == 2
    with pytest.raises(LeaseLost):
        await zombie.commit_step(old, record(0), "{}", PAYLOAD)
    with pytest.raises(LeaseLost):
        await zombie.heartbeat(old)
    with pytest.raises(LeaseLost):
        await zombie.finish(old, runs.RunStatus.PASSED, None, {})
    await successor.commit_step(new, record(0), '{"position": 1}', PAYLOAD)
    assert [(row.seq, row.fencing_token) for row in await step_rows(quiet, run_id)] == [(0, 2)]
    assert (await run_row(quiet, run_id)).lease_owner == "successor"


async def test_a_run_handed_back_is_no_longer_counted_as_renewed_here(quiet: Runtime, demo_url: str) -> None:
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    assert await quiet.scheduler.run_once() == [run_id]
    store = LeaseStore(quiet.db.engine, "leaving", lease_s=30)
    lease = await store.take(run_id)
    assert lease is not None
    assert store.renewed_at(lease) is not None
    assert await store.hand_back(lease)
    assert store.renewed_at(lease) is None  # nothing of the run is kept by a store that gave it back
    assert (await run_row(quiet, run_id)).status == "QUEUED"


async def test_resume_after_a_crash_never_repeats_a_completed_step(quiet: Runtime, demo_url: str) -> None:
    marker = uuid.uuid4().hex
    steps = [
        {"name": f"s{i}", "request": {"url": f"{{{{ env.base_url }}}}/health?m={marker}&s={i}"}}
        for i in range(2)
    ]
    steps.append({"name": "slow", "sleep": "10s"})
    steps += [
        {"name": f"s{i}", "request": {"url": f"{{{{ env.base_url }}}}/health?m={marker}&s={i}"}}
        for i in range(3, 5)
    ]
    definition = {"name": "resumable", "steps": steps}
    run_id = await create_run(quiet, demo_url, definition)
    await quiet.scheduler.run_once()
    first = LeaseStore(quiet.db.engine, "first", lease_s=30)
    lease = await first.take(run_id)
    assert lease is not None
    snapshot = EnvironmentSnapshot("sut", demo_url, {}, {}, allow_private_network=True)
    plan = compile_plan(validate_test_case_data(definition))
    crashed = asyncio.create_task(RunExecution(lease, first, plan, snapshot, quiet.executor.http).execute())
    async with asyncio.timeout(10):
        while len(await step_rows(quiet, run_id)) < 2:
            await asyncio.sleep(0.02)
    crashed.cancel()  # the process dies in the middle of the sleep: no hand-back, no verdict
    await asyncio.gather(crashed, return_exceptions=True)
    await expire_lease(quiet, run_id)
    await quiet.scheduler.run_once()
    resumed = LeaseStore(quiet.db.engine, "second", lease_s=30)
    lease2 = await resumed.take(run_id)
    assert lease2 is not None
    assert lease2.context["position"] == 2
    fast_plan = compile_plan(
        validate_test_case_data(
            {**definition, "steps": [*steps[:2], {"name": "slow", "sleep": 1}, *steps[3:]]}
        )
    )
    status, _ = await RunExecution(lease2, resumed, fast_plan, snapshot, quiet.executor.http).execute()
    assert status == "PASSED"
    rows = await step_rows(quiet, run_id)
    assert [(row.seq, row.fencing_token) for row in rows] == [(0, 1), (1, 1), (2, 2), (3, 2), (4, 2)]
    log = httpx.get(f"{demo_url}/_log").json()
    entries = log["entries"] if isinstance(log, dict) else log
    hits = [entry for entry in entries if marker in str(entry.get("query", ""))]
    assert sorted(str(entry["query"]) for entry in hits) == sorted(f"m={marker}&s={i}" for i in (0, 1, 3, 4))


async def test_last_attempt_lost_ends_in_error(quiet: Runtime, demo_url: str) -> None:
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    await quiet.scheduler.run_once()
    store = LeaseStore(quiet.db.engine, "lost-soul", lease_s=30)
    for _ in range(quiet.settings.max_attempts):
        assert await store.take(run_id) is not None
        await expire_lease(quiet, run_id)
        await quiet.scheduler.run_once()
    row = await run_row(quiet, run_id)
    assert row.status == "ERROR"
    assert row.status_reason == (
        f"lease expired on attempt {quiet.settings.max_attempts} of {quiet.settings.max_attempts} "
        "(executor lost-soul stopped responding)"
    )


async def test_killed_executors_run_is_taken_back_at_the_next_pass_not_after_its_lease(
    quiet: Runtime, demo_url: str
) -> None:
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    await quiet.scheduler.run_once()
    presence = Presence(quiet.db.url)
    victim = LeaseStore(quiet.db.engine, "victim", lease_s=30, presence_key=await presence.acquire())
    old = await victim.take(run_id)
    assert old is not None
    await quiet.scheduler.run_once()
    assert (await run_row(quiet, run_id)).status == "IN_PROGRESS"  # alive: its lease stands
    await presence.release()  # the process dies: PostgreSQL ends its session and frees the lock
    await quiet.scheduler.run_once()
    row = await run_row(quiet, run_id)
    assert (row.status, row.attempt, row.lease_owner, row.lease_presence_key) == ("QUEUED", 2, None, None)
    successor = LeaseStore(quiet.db.engine, "successor", lease_s=30)
    new = await successor.take(run_id)
    assert new is not None
    assert new.fencing_token == old.fencing_token + 1
    with pytest.raises(LeaseLost):  # were the old process still alive somehow, it could write nothing
        await victim.commit_step(old, record(0), "{}", PAYLOAD)


async def test_last_attempt_of_a_killed_executor_ends_in_error(quiet: Runtime, demo_url: str) -> None:
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    await quiet.scheduler.run_once()
    for _ in range(quiet.settings.max_attempts):
        presence = Presence(quiet.db.url)
        store = LeaseStore(quiet.db.engine, "short-lived", lease_s=30, presence_key=await presence.acquire())
        assert await store.take(run_id) is not None
        await presence.release()
        await quiet.scheduler.run_once()
    row = await run_row(quiet, run_id)
    assert row.status == "ERROR"
    attempts = quiet.settings.max_attempts
    assert row.status_reason == (
        f"executor short-lived ended on attempt {attempts} of {attempts} (its database session closed)"
    )


async def test_queued_run_whose_message_was_lost_is_published_again(quiet: Runtime, demo_url: str) -> None:
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    assert await quiet.scheduler.run_once() == [run_id]
    async with quiet.db.transaction(quiet.tenant_id) as conn:
        await conn.execute(
            text("UPDATE test_runs SET queued_at = now() - interval '1 hour' WHERE id = :id"), {"id": run_id}
        )
    await quiet.scheduler.run_once()
    deliveries = quiet.broker.deliveries()
    received = [(await anext(deliveries)).run_id for _ in range(2)]
    assert received == [run_id, run_id]  # the first publish and the re-publish; leasing keeps it to one run


async def test_graceful_shutdown_hands_the_run_back_without_penalty(quiet: Runtime, demo_url: str) -> None:
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 100}, {"sleep": "20s"}]})
    await quiet.scheduler.run_once()
    executor = Executor(quiet.db, quiet.broker, quiet.settings)
    consuming = asyncio.create_task(executor.run_forever())
    async with asyncio.timeout(10):
        while len(await step_rows(quiet, run_id)) < 1:
            await asyncio.sleep(0.02)
    await executor.shutdown()
    consuming.cancel()
    await asyncio.gather(consuming, return_exceptions=True)
    await executor.close()
    row = await run_row(quiet, run_id)
    assert (row.status, row.attempt, row.lease_owner, row.fencing_token) == ("QUEUED", 1, None, 1)
    assert row.context["position"] == 1
    # Published again at once (the first message was consumed): another executor needs no re-publish.
    async with asyncio.timeout(2):
        assert (await anext(quiet.broker.deliveries())).run_id == run_id


async def test_executor_that_cannot_renew_stops_the_run_by_itself(settings: Settings, demo_url: str) -> None:
    fast = settings.model_copy(update={"lease_s": 1.5, "heartbeat_s": 0.2})
    rt = await Runtime.start(fast, run_scheduler=False, run_executor=False)
    try:
        run_id = await create_run(rt, demo_url, {"name": "t", "steps": [{"sleep": "20s"}]})
        await rt.scheduler.run_once()
        executor = Executor(rt.db, rt.broker, fast)

        async def unreachable(lease: object) -> bool:
            raise ConnectionError("database unreachable")

        executor.store.heartbeat = unreachable  # type: ignore[method-assign]
        consuming = asyncio.create_task(executor.run_forever())
        async with asyncio.timeout(10):
            while not executor._running:
                await asyncio.sleep(0.02)
            task = next(iter(executor._running))
            await asyncio.gather(task, return_exceptions=True)  # ends well before the 20 s step would
        row = await run_row(rt, run_id)
        assert row.status == "IN_PROGRESS"  # it wrote nothing more; the reaper will take it from here
        assert await step_rows(rt, run_id) == []
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await executor.close()
    finally:
        await rt.stop()


async def test_a_run_taken_over_mid_loop_goes_on_with_the_next_iteration(
    quiet: Runtime, demo_url: str
) -> None:
    slow = {"name": "slow", "for_each": [1, 2, 3], "if": "{{ item > 1 }}", "sleep": "10s"}
    definition = {"name": "loop", "steps": [slow]}
    run_id = await create_run(quiet, demo_url, definition)
    await quiet.scheduler.run_once()
    first = LeaseStore(quiet.db.engine, "first", lease_s=30)
    lease = await first.take(run_id)
    assert lease is not None
    snapshot = EnvironmentSnapshot("sut", demo_url, {}, {}, allow_private_network=True)
    plan = compile_plan(validate_test_case_data(definition))
    crashed = asyncio.create_task(RunExecution(lease, first, plan, snapshot, quiet.executor.http).execute())
    async with asyncio.timeout(10):
        while len(await step_rows(quiet, run_id)) < 1:
            await asyncio.sleep(0.02)
    crashed.cancel()  # dies during the second iteration
    await asyncio.gather(crashed, return_exceptions=True)
    await expire_lease(quiet, run_id)
    await quiet.scheduler.run_once()
    resumed = LeaseStore(quiet.db.engine, "second", lease_s=30)
    lease2 = await resumed.take(run_id)
    assert lease2 is not None
    assert (lease2.context["position"], lease2.context["loop"]["next"]) == (0, 1)
    fast = compile_plan(validate_test_case_data({**definition, "steps": [{**slow, "sleep": 1}]}))
    status, _ = await RunExecution(lease2, resumed, fast, snapshot, quiet.executor.http).execute()
    assert status == "PASSED"
    rows = await step_rows(quiet, run_id)
    assert [(row.seq, row.status, row.fencing_token) for row in rows] == [
        (0, "skipped", 1),
        (1, "passed", 2),
        (2, "passed", 2),
    ]


async def test_runs_beyond_the_held_connections_commit_through_the_pool(
    quiet: Runtime, demo_url: str
) -> None:
    """Many runs at once on few connections: one run holds its connection, the others write through a
    pool of two; every step and verdict is committed, with the fencing token checked as always."""
    run_ids = [await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]}) for _ in range(5)]
    assert sorted(await quiet.scheduler.run_once()) == sorted(run_ids)
    engine = make_engine(quiet.db.url, quiet.db.context_key, pool_size=1)  # 1 + 1 overflow
    try:
        store = LeaseStore(engine, "crowded", lease_s=30, held_connections=1)
        leases = [lease for lease in [await store.take(run_id) for run_id in run_ids] if lease is not None]
        assert len(leases) == 5
        async with contextlib.AsyncExitStack() as stack, asyncio.timeout(20):
            # without the bound, the third connection held here would wait for the pool until it timed out
            conns = [await stack.enter_async_context(store.connect(lease.tenant_id)) for lease in leases]
            for seq in range(2):
                for lease, conn in zip(leases, conns, strict=True):
                    await store.commit_step(lease, record(seq), f'{{"position": {seq + 1}}}', PAYLOAD, conn)
            for lease, conn in zip(leases, conns, strict=True):
                await store.finish(lease, runs.RunStatus.PASSED, None, {"position": 2}, conn)
        stale = replace(leases[-1], fencing_token=leases[-1].fencing_token - 1)
        async with store.connect(stale.tenant_id) as conn:  # the spare connection is free again: held
            with pytest.raises(LeaseLost):
                await store.commit_step(stale, record(2), "{}", PAYLOAD, conn)
    finally:
        await engine.dispose()
    for run_id in run_ids:
        assert (await run_row(quiet, run_id)).status == "PASSED"
        assert [(row.seq, row.fencing_token) for row in await step_rows(quiet, run_id)] == [(0, 1), (1, 1)]


async def test_a_run_without_a_held_connection_gets_no_stale_tenant(quiet: Runtime, demo_url: str) -> None:
    """The stand-in enters the run's tenant for each statement and leaves it when it gives the connection
    back: the pooled connection carries no tenant on to the next user."""
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    await quiet.scheduler.run_once()
    engine = make_engine(quiet.db.url, quiet.db.context_key, pool_size=1)
    try:
        store = LeaseStore(engine, "crowded", lease_s=30, held_connections=0)
        lease = await store.take(run_id)
        assert lease is not None
        async with store.connect(lease.tenant_id) as conn:
            assert not isinstance(conn, AsyncConnection)
            await store.commit_step(lease, record(0), '{"position": 1}', PAYLOAD, conn)
        async with engine.connect() as bare:
            seen = await bare.execute(text("SELECT count(*) FROM test_runs WHERE id = :id"), {"id": run_id})
            assert seen.scalar() == 0  # row-level security: no tenant entered, no row
    finally:
        await engine.dispose()
    assert [row.seq for row in await step_rows(quiet, run_id)] == [0]


async def test_an_executor_runs_more_runs_at_once_than_it_holds_connections(
    settings: Settings, demo_url: str
) -> None:
    """Concurrency 8 on 2 held connections (a pool of 2 + 5): more than 2 runs go on at once, all pass,
    every step committed once."""
    crowded = settings.model_copy(update={"executor_concurrency": 8, "executor_db_connections": 2})
    rt = await Runtime.start(crowded)
    try:
        steps = [{"name": f"s{i}", "request": {"url": "{{ env.base_url }}/slow?ms=1000"}} for i in range(3)]
        run_ids = [await create_run(rt, demo_url, {"name": "overlapping", "steps": steps}) for _ in range(8)]
        rt.scheduler.wake()
        async with asyncio.timeout(60):
            while True:
                rows = [await run_row(rt, run_id) for run_id in run_ids]
                if all(row.finished_at is not None for row in rows):
                    break
                await asyncio.sleep(0.1)
        assert [row.status for row in rows] == ["PASSED"] * 8
        events = sorted([(row.started_at, 1) for row in rows] + [(row.finished_at, -1) for row in rows])
        at_once = max(itertools.accumulate(change for _, change in events))
        assert at_once > 2, f"at most {at_once} runs at once"
        for run_id in run_ids:
            assert [row.seq for row in await step_rows(rt, run_id)] == [0, 1, 2]
    finally:
        await rt.stop()


async def test_the_heartbeat_writes_only_when_no_commit_renewed_the_lease_for_an_interval(
    settings: Settings, demo_url: str
) -> None:
    """Step commits renew the lease and read the cancel flag: the heartbeat waits a full interval after
    the last renewal of either kind, so short steps send none and a long step still gets them."""
    fast = settings.model_copy(update={"heartbeat_s": 0.2})
    rt = await Runtime.start(fast, run_scheduler=False, run_executor=False)
    try:
        steps: list[dict[str, Any]] = [
            {"name": f"s{i}", "request": {"url": "{{ env.base_url }}/slow?ms=20"}} for i in range(20)
        ]
        steps.append({"name": "long", "sleep": "1s"})
        run_id = await create_run(rt, demo_url, {"name": "t", "steps": steps})
        await rt.scheduler.run_once()
        executor = Executor(rt.db, rt.broker, fast)
        beating = executor.store.heartbeat
        since_renewal: list[float] = []

        async def heartbeat(lease: Lease) -> bool:
            since_renewal.append(time.monotonic() - (executor.store.renewed_at(lease) or 0.0))
            return await beating(lease)

        executor.store.heartbeat = heartbeat  # type: ignore[method-assign]
        consuming = asyncio.create_task(executor.run_forever())
        async with asyncio.timeout(60):
            while (await run_row(rt, run_id)).status != "PASSED":
                await asyncio.sleep(0.05)
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await executor.close()
        assert [row.seq for row in await step_rows(rt, run_id)] == list(range(21))
    finally:
        await rt.stop()
    assert len(since_renewal) >= 2  # the 1 s sleep: renewed by heartbeats every 0.2 s
    assert min(since_renewal) >= 0.2 - 0.01  # never sooner than an interval after a commit or heartbeat


async def test_a_write_through_the_pool_waits_out_a_crowded_pool(quiet: Runtime, demo_url: str) -> None:
    """A run without a held connection whose write finds every pooled connection busy past the pool's
    timeout tries again (nothing was sent) instead of ending in ERROR."""
    run_id = await create_run(quiet, demo_url, {"name": "t", "steps": [{"sleep": 1}]})
    await quiet.scheduler.run_once()
    engine = make_engine(quiet.db.url, quiet.db.context_key, pool_size=1, pool_timeout=1.0)  # 2 connections
    try:
        store = LeaseStore(engine, "crowded", lease_s=30, held_connections=0)
        lease = await store.take(run_id)
        assert lease is not None
        async with contextlib.AsyncExitStack() as busy:
            for _ in range(2):
                await busy.enter_async_context(engine.connect())

            async def free_later() -> None:  # past the first checkout's timeout
                await asyncio.sleep(1.5)
                await busy.aclose()

            freeing = asyncio.create_task(free_later())
            async with store.connect(lease.tenant_id) as conn:
                await store.commit_step(lease, record(0), '{"position": 1}', PAYLOAD, conn)
            await freeing
    finally:
        await engine.dispose()
    assert [row.seq for row in await step_rows(quiet, run_id)] == [0]


async def test_a_driver_statement_and_one_of_sqlalchemy_s_take_turns_on_a_connection(quiet: Runtime) -> None:
    """A step commit runs on the driver directly; a statement of SQLAlchemy's on the same connection at the
    same time waits for it instead of failing with asyncpg's "another operation is in progress"."""
    engine = make_engine(quiet.db.url, quiet.db.context_key, pool_size=1)
    try:
        slow = _DriverStatement.compiled(text("SELECT pg_sleep(0.3), CAST(:x AS int) AS x"), engine)
        async with engine.connect() as conn:
            driver_row, orm_result = await asyncio.gather(
                slow.first(conn, {"x": 7}), conn.execute(text("SELECT pg_sleep(0.3), 8 AS y"))
            )
        assert driver_row["x"] == 7
        assert orm_result.one().y == 8
    finally:
        await engine.dispose()


async def test_a_driver_statement_asks_for_the_driver_connection_once_per_connection(
    quiet: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver connection under a held connection is looked up at its first statement only, and again
    once SQLAlchemy replaced the DBAPI connection (invalidated): a statement never runs on a dropped one."""
    asked: list[object] = []
    original = AsyncConnection.get_raw_connection

    async def counted(self: AsyncConnection) -> Any:
        raw = await original(self)
        asked.append(raw.driver_connection)
        return raw

    monkeypatch.setattr(AsyncConnection, "get_raw_connection", counted)
    engine = make_engine(quiet.db.url, quiet.db.context_key, pool_size=1)
    try:
        statement = _DriverStatement.compiled(text("SELECT CAST(:x AS int) AS x"), engine)
        async with engine.connect() as conn:
            assert [(await statement.first(conn, {"x": x}))["x"] for x in range(3)] == [0, 1, 2]
            assert len(asked) == 1
            await conn.invalidate()
            await conn.rollback()  # the invalidated connection's transaction ends; the next use reconnects
            assert (await statement.first(conn, {"x": 3}))["x"] == 3
            assert (await statement.first(conn, {"x": 4}))["x"] == 4
        assert len(asked) == 2
        assert asked[0] is not asked[1]  # a new driver connection, not the dropped one
    finally:
        await engine.dispose()


async def test_no_row_trigger_of_the_run_table_looks_at_a_step_commit(quiet: Runtime) -> None:
    """A step commit sets only the run's context, heartbeat, lease expiry (and data plan): every row-level
    update trigger of ``test_runs`` names the columns it watches (UPDATE OF), none of these, so PostgreSQL
    skips each one before reading its WHEN clause, on every step of every run."""
    step_columns = {"context", "heartbeat_at", "lease_expires_at", "data_plan"}
    async with quiet.db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                """
                SELECT t.tgname,
                    array(SELECT a.attname FROM pg_attribute a
                          WHERE a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)) AS columns
                FROM pg_trigger t
                WHERE t.tgrelid = 'test_runs'::regclass AND NOT t.tgisinternal
                    AND t.tgtype & 1 = 1 AND t.tgtype & 16 = 16  -- FOR EACH ROW, ON UPDATE
                """
            )
        )
        triggers = {row.tgname: set(row.columns) for row in rows}
    assert triggers, "the run table has row-level update triggers (the query found them)"
    looking = {name: columns for name, columns in triggers.items() if not columns or columns & step_columns}
    assert looking == {}
