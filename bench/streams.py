"""Benchmark: idle live streams (``GET /runs/{id}/events`` over HTTP) woken by PostgreSQL notifications,
against the polling they replace (``ORCHESTRA_LIVE_UPDATES=poll``: every stream reads every 0.25 s), in the
same process on the same embedded PostgreSQL.

For each mode an embedded Orchestra: the API under uvicorn and the scheduler, no executor (the benchmark
commits steps itself through the executor's ``LeaseStore``, as an executor in another process would), and one
run IN_PROGRESS. It measures:

- database load: transactions committed per second (``pg_stat_database.xact_commit`` of the database) and
  statements the API process sent (counted on its engine), over ``--window`` seconds, first idle with no
  stream, then with ``--streams`` streams open on the run while nothing happens;
- latency: ``--steps`` steps committed one every 0.2 s with one stream open, then ``--steps`` more, one
  every second, with all of them open; for each, from the start of its commit to its ``step`` event on
  every stream (p50 and p99 over all of them);
- the cost to the executor: one step commit with the step's NOTIFY trigger and without it.

The streams are opened 10 at a time, each ten waiting for their first read; when the API cannot serve ten
more within 30 s (its connection pool exhausted), the figures are of the streams it does serve.

Ends with one line of key=value figures (``*_added_tps``: with the streams minus idle).

    python bench/streams.py [--streams 200] [--window 20] [--steps 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.actor import Actor
from orchestra.app import create_app
from orchestra.auth.local_admin import ensure_local_admin_token
from orchestra.cli.serving import served_here
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.environments import service as environments
from orchestra.executor.lease import Lease, LeaseStore, StepRecord
from orchestra.kit.live_changes import ListenedChanges, run_key
from orchestra.kit.logging import configure as configure_logging
from orchestra.models.run_states import RunStatus
from orchestra.projects import service as projects
from orchestra.runs import service as runs
from orchestra.runs.schemas import RunCreate
from orchestra.runtime import Runtime
from orchestra.testcases import service as testcases

PAYLOAD: dict[str, str | None] = {"request": None, "response": None, "assertions": "[]", "error": None}
STEP_EVERY_S = 0.2  # steps seen by one stream
CROWD_STEP_EVERY_S = 1.0  # steps seen by every stream (each one is a read of every stream)
RAMP = 10  # streams opened at once
RAMP_TIMEOUT_S = 30.0  # longest the streams of one ramp may wait for their first read
COMMIT_BLOCK, COMMIT_ROUNDS = 50, 10  # step commits timed with and without the NOTIFY trigger, alternating


@dataclass
class Figures:
    streams: int  # served: each had its first read
    idle_tps: float
    streams_tps: float
    idle_statements_per_s: float
    streams_statements_per_s: float
    step_ms: list[float]  # one stream open
    crowd_step_ms: list[float]  # every stream open


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def committed(owner: AsyncEngine) -> int:
    async with owner.connect() as conn:
        row = await conn.execute(
            text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        )
        return int(row.scalar_one())


@contextlib.contextmanager
def counted(runtime: Runtime) -> Iterator[list[int]]:
    """How many statements the process sends through the services' engine while the block runs."""
    count = [0]

    def executed(*_: Any) -> None:
        count[0] += 1

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", executed)
    try:
        yield count
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", executed)


async def load(runtime: Runtime, owner: AsyncEngine, window_s: float) -> tuple[float, float]:
    """(transactions, statements of this process) per second over the window."""
    await asyncio.sleep(2.0)  # the state just entered has settled, and its statistics have been flushed
    with counted(runtime) as statements:
        before, started = await committed(owner), time.perf_counter()
        await asyncio.sleep(window_s)
        after, elapsed = await committed(owner), time.perf_counter() - started
    return (after - before) / elapsed, statements[0] / elapsed


async def leased_run(runtime: Runtime, name: str) -> tuple[LeaseStore, Lease]:
    actor = Actor(tenant_id=runtime.tenant_id)
    definition = {"name": name, "steps": [{"sleep": 1}]}
    async with runtime.db.transaction(runtime.tenant_id) as session:
        await projects.ensure(session, actor, "bench")
        await environments.ensure(
            session, actor, "bench", "sut", "http://127.0.0.1:9", allow_private_network=True
        )
        await testcases.upsert_definition(session, actor, "bench", validate_test_case_data(definition))
        created = await runs.create_run(
            session, actor, RunCreate(project="bench", environment="sut", test_case=name)
        )
    store = LeaseStore(runtime.db.engine, "bench-executor", lease_s=3600)
    async with asyncio.timeout(30):
        while (lease := await store.take(created.id)) is None:  # once the scheduler has queued it
            await asyncio.sleep(0.05)
    return store, lease


class Stream:
    def __init__(self) -> None:
        self.first_read = asyncio.Event()
        self.arrived: dict[int, float] = {}  # step seq → when its event was read

    async def read(self, client: httpx.AsyncClient, url: str) -> None:
        with contextlib.suppress(httpx.HTTPError):  # a stream the API could not serve counts as not served
            async with client.stream("GET", url) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if line == "event: status":
                        self.first_read.set()
                    elif line.startswith("data: ") and '"seq"' in line:
                        self.arrived[json.loads(line[len("data: ") :])["seq"]] = time.perf_counter()


@contextlib.asynccontextmanager
async def served(settings: Settings, runtime: Runtime) -> AsyncIterator[int]:
    async with served_here(create_app(settings, runtime)) as port:
        yield port


async def open_streams(
    client: httpx.AsyncClient, url: str, count: int
) -> list[tuple[Stream, asyncio.Task[None]]]:
    """``count`` streams, opened ``RAMP`` at a time (as clients arrive, not all in one instant), each ramp
    waiting for their first reads; when the API cannot serve a ramp within ``RAMP_TIMEOUT_S``, no more."""
    opened: list[tuple[Stream, asyncio.Task[None]]] = []
    for batch in range(0, count, RAMP):
        ramp = [Stream() for _ in range(min(RAMP, count - batch))]
        opened += [(stream, asyncio.create_task(stream.read(client, url))) for stream in ramp]
        try:
            async with asyncio.timeout(RAMP_TIMEOUT_S):
                await asyncio.gather(*(stream.first_read.wait() for stream in ramp))
        except TimeoutError:
            break
    return opened


async def step_latencies(
    store: LeaseStore, lease: Lease, streams: list[Stream], seqs: range, every_s: float
) -> list[float]:
    """Commit these steps, one every ``every_s``; for each stream and step, milliseconds from the start of
    the commit to the step's event (a step that never came within 60 s is left out)."""
    started: dict[int, float] = {}
    for seq in seqs:
        record = StepRecord(seq, "main", f"s{seq}", "passed", 1, datetime.now(UTC), 1.0)
        started[seq] = time.perf_counter()
        await store.commit_step(lease, record, "{}", PAYLOAD)
        await asyncio.sleep(every_s)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            while not all(seq in stream.arrived for stream in streams for seq in seqs):
                await asyncio.sleep(0.05)
    return [
        (stream.arrived[seq] - started[seq]) * 1000
        for stream in streams
        for seq in seqs
        if seq in stream.arrived
    ]


async def measure(data_dir: Path, mode: str, streams: int, window_s: float, steps: int) -> Figures:
    settings = Settings(data_dir=data_dir, live_updates=mode, ai_url="http://127.0.0.1:9")
    runtime = await Runtime.start(settings, run_executor=False)
    owner = create_async_engine(runtime.db.owner_url, isolation_level="AUTOCOMMIT")
    try:
        admin = await ensure_local_admin_token(runtime.db, runtime.tenant_id, data_dir)
        store, lease = await leased_run(runtime, f"{mode} {uuid.uuid4().hex[:6]}")
        idle_tps, idle_statements = await load(runtime, owner, window_s)
        async with (
            served(settings, runtime) as port,
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}/api/v1",
                headers={"Authorization": f"Bearer {admin.token}"},
                limits=httpx.Limits(max_connections=streams + 5),
                timeout=None,
            ) as client,
        ):
            url = f"/runs/{lease.run_id}/events"
            ((single, single_reader),) = await open_streams(client, url, 1)
            single_latencies = await step_latencies(store, lease, [single], range(steps), STEP_EVERY_S)
            single_reader.cancel()
            crowd = await open_streams(client, url, streams)
            served_streams = sum(stream.first_read.is_set() for stream, _ in crowd)
            streams_tps, streams_statements = await load(runtime, owner, window_s)
            crowd_latencies = await step_latencies(
                store, lease, [stream for stream, _ in crowd], range(steps, 2 * steps), CROWD_STEP_EVERY_S
            )
            await store.finish(lease, RunStatus.PASSED, None, {})
            async with asyncio.timeout(120):
                await asyncio.gather(*(reader for _, reader in crowd), single_reader, return_exceptions=True)
        return Figures(
            served_streams,
            idle_tps,
            streams_tps,
            idle_statements,
            streams_statements,
            single_latencies,
            crowd_latencies,
        )
    finally:
        await owner.dispose()
        await runtime.stop()


async def commit_cost(data_dir: Path, rounds: int) -> tuple[float, float]:
    """Median milliseconds of one step commit (``LeaseStore.commit_step``) with the step's NOTIFY trigger
    and without it (disabled by the owner), alternating blocks of ``COMMIT_BLOCK`` commits, the listener
    listening (a notification is delivered to it)."""
    settings = Settings(data_dir=data_dir, ai_url="http://127.0.0.1:9")
    runtime = await Runtime.start(settings, run_executor=False)
    owner = create_async_engine(runtime.db.owner_url, isolation_level="AUTOCOMMIT")
    timings: dict[bool, list[float]] = {True: [], False: []}
    try:
        store, lease = await leased_run(runtime, f"commits {uuid.uuid4().hex[:6]}")
        with runtime.changes.watch(run_key(lease.run_id)):
            if isinstance(runtime.changes, ListenedChanges):
                await runtime.changes.wait_listening()
            seq = 0
            async with store.connect(lease.tenant_id) as conn:  # as the executor: one connection per run
                for _ in range(rounds):
                    for notify in (True, False):
                        state = "ENABLE" if notify else "DISABLE"
                        async with owner.connect() as admin:
                            await admin.execute(
                                text(f"ALTER TABLE step_results {state} TRIGGER step_results_notify")
                            )
                        for _ in range(COMMIT_BLOCK):
                            record = StepRecord(seq, "main", f"s{seq}", "passed", 1, datetime.now(UTC), 1.0)
                            started = time.perf_counter()
                            await store.commit_step(lease, record, "{}", PAYLOAD, conn)
                            timings[notify].append((time.perf_counter() - started) * 1000)
                            seq += 1
        async with owner.connect() as admin:
            await admin.execute(text("ALTER TABLE step_results ENABLE TRIGGER step_results_notify"))
    finally:
        await owner.dispose()
        await runtime.stop()
    return statistics.median(timings[True]), statistics.median(timings[False])


async def main(streams: int, window_s: float, steps: int) -> None:
    configure_logging("warning")
    data_dir = Path(tempfile.mkdtemp(prefix="orchestra-bench-streams-"))
    try:
        results = {
            mode: await measure(data_dir, mode, streams, window_s, steps) for mode in ("poll", "listen")
        }
        notified_ms, plain_ms = await commit_cost(data_dir, COMMIT_ROUNDS)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{streams} streams, {window_s:.0f} s windows, {steps} steps with one stream and with all")
    print(
        f"{'':<8} {'served':>7} {'idle tx/s':>10} {'streams tx/s':>13} {'stmts/s':>8} {'1 p50 ms':>9} "
        f"{'all p50 ms':>11} {'all p99 ms':>11}"
    )
    line = [f"streams={streams}"]
    for mode, result in results.items():
        p50 = statistics.median(result.step_ms)
        crowd_p50 = statistics.median(result.crowd_step_ms)
        crowd_p99 = percentile(result.crowd_step_ms, 0.99)
        print(
            f"{mode:<8} {result.streams:>7} {result.idle_tps:>10.1f} {result.streams_tps:>13.1f} "
            f"{result.streams_statements_per_s:>8.1f} {p50:>9.1f} {crowd_p50:>11.1f} {crowd_p99:>11.1f}"
        )
        line += [
            f"{mode}_served_streams={result.streams}",
            f"{mode}_idle_tps={result.idle_tps:.1f}",
            f"{mode}_streams_tps={result.streams_tps:.1f}",
            f"{mode}_added_tps={result.streams_tps - result.idle_tps:.1f}",
            f"{mode}_idle_statements_per_s={result.idle_statements_per_s:.1f}",
            f"{mode}_streams_statements_per_s={result.streams_statements_per_s:.1f}",
            f"{mode}_step_p50_ms={p50:.1f}",
            f"{mode}_all_streams_step_p50_ms={crowd_p50:.1f}",
            f"{mode}_all_streams_step_p99_ms={crowd_p99:.1f}",
        ]
    print(
        f"step commit: {notified_ms:.2f} ms with its NOTIFY, {plain_ms:.2f} ms without (median of "
        f"{COMMIT_ROUNDS * COMMIT_BLOCK} each)"
    )
    line += [
        f"commit_notify_ms={notified_ms:.2f}",
        f"commit_plain_ms={plain_ms:.2f}",
        f"commit_ratio={notified_ms / plain_ms:.2f}",
    ]
    print(" ".join(line))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.streams, args.window, args.steps))
