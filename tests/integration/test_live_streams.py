"""Live streams are woken by PostgreSQL notifications (migration 0026, kit/live_changes.py), not by polling:
a step committed through the executor's own write reaches an open stream at once although the safety period
is a minute, idle streams cost no query, and a lost listener connection is made good."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.actor import Actor
from orchestra.cli.backends import RemoteBackend
from orchestra.cli.suite_run_feeds import STREAMED_WAIT_S
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.environments import service as environments
from orchestra.executor.lease import Lease, LeaseStore, StepRecord
from orchestra.kit.live_changes import CHANNEL, ListenedChanges, run_key
from orchestra.models.run_states import RunStatus
from orchestra.projects import service as projects
from orchestra.runs import service as runs
from orchestra.runs.schemas import RunCreate, SuiteRunCreate
from orchestra.runtime import Runtime
from orchestra.testcases import service as testcases
from tests.ports import refused_url

SAFETY_S = 60.0  # longer than any test here: what arrives, arrives through a notification
PAYLOAD: dict[str, str | None] = {"request": None, "response": None, "assertions": "[]", "error": None}


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Listening unless a test asks for ``poll`` (indirectly); polling every 0.1 s when it does."""
    mode = getattr(request, "param", "listen")
    return settings.model_copy(update={"live_safety_s": SAFETY_S, "live_updates": mode, "live_poll_s": 0.1})


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Scheduler and executor do nothing unless the test drives them: the test is the executor."""
    rt = await Runtime.start(settings, run_scheduler=False, run_executor=False)
    try:
        yield rt
    finally:
        await rt.stop()


async def leased_run(rt: Runtime) -> tuple[LeaseStore, Lease]:
    """A run IN_PROGRESS under a lease of the test's own store (as an executor in another process holds)."""
    actor = Actor(tenant_id=rt.tenant_id)
    definition = {"name": f"t{uuid.uuid4().hex[:6]}", "steps": [{"sleep": 1}]}
    async with rt.db.transaction(rt.tenant_id) as session:
        await projects.ensure(session, actor, "p")
        await environments.ensure(
            session, actor, "p", "sut", "http://127.0.0.1:9", allow_private_network=True
        )
        await testcases.upsert_definition(session, actor, "p", validate_test_case_data(definition))
        created = await runs.create_run(
            session, actor, RunCreate(project="p", environment="sut", test_case=definition["name"])
        )
    await rt.scheduler.run_once()  # PENDING → QUEUED
    store = LeaseStore(rt.db.engine, "test-executor", lease_s=600)
    lease = await store.take(created.id)
    assert lease is not None
    return store, lease


def step(seq: int) -> StepRecord:
    return StepRecord(
        seq=seq,
        phase="main",
        name=f"s{seq}",
        status="passed",
        attempts=1,
        started_at=datetime.now(UTC),
        duration_ms=1.0,
    )


class Stream:
    """An open ``/runs/{id}/events`` stream whose events are collected as they arrive."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def read(self, client: httpx.AsyncClient, url: str) -> None:
        name = ""
        async with client.stream("GET", url) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[len("event: ") :]
                elif line.startswith("data: "):
                    await self.events.put((name, json.loads(line[len("data: ") :])))

    async def next(self, timeout_s: float) -> tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout_s)

    async def until_status(self, timeout_s: float = 10.0) -> list[tuple[str, Any]]:
        """The events up to the first ``status`` (the end of the stream's first read), that one included."""
        seen = [await self.next(timeout_s)]
        while seen[-1][0] != "status":
            seen.append(await self.next(timeout_s))
        return seen


@contextlib.asynccontextmanager
async def streams(
    port: int, headers: dict[str, str], run_id: uuid.UUID, count: int = 1
) -> AsyncIterator[list[Stream]]:
    opened = [Stream() for _ in range(count)]
    limits = httpx.Limits(max_connections=count + 5)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers, limits=limits, timeout=None
    ) as client:
        tasks = [asyncio.create_task(s.read(client, f"/runs/{run_id}/events")) for s in opened]
        try:
            yield opened
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.contextmanager
def counted_queries(rt: Runtime) -> Iterator[list[str]]:
    """Every statement the process sends through the services' engine while the block runs."""
    statements: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(rt.db.engine.sync_engine, "before_cursor_execute", executed)
    try:
        yield statements
    finally:
        event.remove(rt.db.engine.sync_engine, "before_cursor_execute", executed)


async def test_a_committed_step_reaches_the_stream_at_once_without_polling(
    runtime: Runtime, server_port: int, auth_headers: dict[str, str]
) -> None:
    store, lease = await leased_run(runtime)
    async with streams(server_port, auth_headers, lease.run_id) as (stream,):
        assert await stream.until_status() == [
            ("status", {"id": str(lease.run_id), "status": "IN_PROGRESS", "reason": None})
        ]
        for seq in range(3):
            await store.commit_step(lease, step(seq), "{}", PAYLOAD)
            name, data = await stream.next(2.0)  # the safety read is a minute away
            assert (name, data["seq"], data["name"]) == ("step", seq, f"s{seq}")
        await store.finish(lease, RunStatus.PASSED, None, {})
        assert (await stream.next(2.0))[1]["status"] == "PASSED"
        assert await stream.next(2.0) == ("end", {"id": str(lease.run_id), "status": "PASSED"})


async def test_a_stream_resumed_after_the_last_event_id_misses_and_repeats_nothing(
    runtime: Runtime, server_port: int, auth_headers: dict[str, str]
) -> None:
    store, lease = await leased_run(runtime)
    for seq in range(2):
        await store.commit_step(lease, step(seq), "{}", PAYLOAD)
    resumed = {**auth_headers, "Last-Event-ID": "0"}
    async with streams(server_port, resumed, lease.run_id) as (stream,):
        first_read = await stream.until_status()  # committed before it connected
        assert [(name, data.get("seq")) for name, data in first_read] == [("step", 1), ("status", None)]
        await store.commit_step(lease, step(2), "{}", PAYLOAD)
        assert (await stream.next(2.0))[1]["seq"] == 2  # committed after: woken by its notification
        with pytest.raises(TimeoutError):
            await stream.next(0.5)


@pytest.mark.parametrize("settings", ["listen", "poll"], indirect=True)
async def test_idle_streams_issue_no_queries(
    settings: Settings, runtime: Runtime, server_port: int, auth_headers: dict[str, str]
) -> None:
    """20 open streams on a run where nothing happens: listening, not one statement in 1.5 s; polling every
    0.1 s (the setting for a database behind a transaction pooler), every stream reads all the time."""
    _, lease = await leased_run(runtime)
    async with streams(server_port, auth_headers, lease.run_id, count=20) as opened:
        for stream in opened:
            await stream.until_status()
        await asyncio.sleep(0.3)  # the wake-up of the listener's first LISTEN has been read
        with counted_queries(runtime) as statements:
            await asyncio.sleep(1.5)
    if settings.live_updates == "poll":
        assert len(statements) >= 20 * 5
    else:
        assert statements == []


async def test_a_step_committed_elsewhere_wakes_every_process_watching_its_run(runtime: Runtime) -> None:
    """Two API replicas (a listener each) watching the run an executor commits to: both are woken, each
    with one connection however many streams it serves."""
    store, lease = await leased_run(runtime)
    replicas = [ListenedChanges(runtime.db.url, safety_s=SAFETY_S) for _ in range(2)]
    try:
        with contextlib.ExitStack() as stack:
            watches = [stack.enter_context(replica.watch(run_key(lease.run_id))) for replica in replicas]
            watches += [stack.enter_context(replicas[0].watch(run_key(lease.run_id)))]  # a second stream
            for replica in replicas:
                await asyncio.wait_for(replica.wait_listening(), 5)
            for watch in watches:  # the wake-up of the first LISTEN
                assert await asyncio.wait_for(watch.next(), 1)
            async with runtime.db.engine.connect() as conn:
                listening = await conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND query = :listen"
                    ),
                    {"listen": f'LISTEN "{CHANNEL}"'},
                )
            assert listening == 2  # one session per replica, not per stream
            await store.commit_step(lease, step(0), "{}", PAYLOAD)
            for watch in watches:
                assert await asyncio.wait_for(watch.next(), 2)
    finally:
        for replica in replicas:
            await replica.close()


async def test_run_against_a_server_is_woken_by_the_suite_runs_events(
    runtime: Runtime, server_port: int, auth_headers: dict[str, str]
) -> None:
    """``orchestra run --server`` waits for a change of its suite runs on their event streams: a run that
    changes status wakes it at once, although it would otherwise wait the streamed safety period."""
    _, lease = await leased_run(runtime)  # project "p", environment "sut", one test case
    actor = Actor(tenant_id=runtime.tenant_id)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        name = await session.scalar(text("SELECT name FROM test_runs WHERE id = :id"), {"id": lease.run_id})
        created = await runs.create_suite_run(
            session, actor, SuiteRunCreate(project="p", environment="sut", tests=[name], name="suite")
        )
    backend = RemoteBackend(f"http://127.0.0.1:{server_port}", auth_headers["Authorization"].split()[1])
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(backend.wait_for_change([created.id], 0.01), 5)  # the stream's first read
        with contextlib.suppress(TimeoutError):  # (its events may have come in two parts) then none
            while True:
                await asyncio.wait_for(backend.wait_for_change([created.id], 0.01), 0.5)
        assert backend.feeds.streaming([created.id])
        waiting = asyncio.create_task(backend.wait_for_change([created.id], 0.01))
        await asyncio.sleep(0.5)
        assert not waiting.done()  # the stream is open: no change, no wake-up (not the 0.01 s of polling)
        started = loop.time()
        await runtime.scheduler.run_once()  # its run: PENDING → QUEUED, notified to the suite run's stream
        await asyncio.wait_for(waiting, 2)
        assert loop.time() - started < STREAMED_WAIT_S / 2
    finally:
        await backend.close()


async def test_the_listener_reconnects_and_wakes_every_watch(
    runtime: Runtime, owner_database_url: str
) -> None:
    changes = ListenedChanges(runtime.db.url, safety_s=SAFETY_S, retry_s=0.05)
    watched, other = uuid.uuid4(), uuid.uuid4()
    owner = create_async_engine(owner_database_url, isolation_level="AUTOCOMMIT")
    try:
        with changes.watch(run_key(watched)) as watch, changes.watch(run_key(other)) as unrelated:
            await asyncio.wait_for(changes.wait_listening(), 5)
            first = changes.backend_pid
            assert await asyncio.wait_for(watch.next(), 1)  # listening: read what came before the LISTEN
            assert await asyncio.wait_for(unrelated.next(), 1)
            async with owner.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            async with asyncio.timeout(5):
                while changes.backend_pid in (None, first):
                    await asyncio.sleep(0.02)
            # whatever was committed while it was down: every watch reads again
            assert await asyncio.wait_for(watch.next(), 1)
            assert await asyncio.wait_for(unrelated.next(), 1)
            async with (
                owner.connect() as conn
            ):  # the new session listens: a notification reaches its watch only
                await conn.execute(
                    text("SELECT pg_notify(:channel, :key)"), {"channel": CHANNEL, "key": run_key(watched)}
                )
            assert await asyncio.wait_for(watch.next(), 1)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(unrelated.next(), 0.3)
    finally:
        await owner.dispose()
        await changes.close()


async def test_while_the_listener_cannot_connect_watches_read_on_the_safety_period() -> None:
    unreachable = refused_url().replace("http://", "postgresql+asyncpg://orchestra@") + "/orchestra"
    changes = ListenedChanges(unreachable, safety_s=0.1, retry_s=0.05)
    try:
        with changes.watch(run_key(uuid.uuid4())) as watch:
            assert await asyncio.wait_for(watch.next(), 1)  # no listener: a read, after the safety period
            assert not changes.listening
    finally:
        await changes.close()
