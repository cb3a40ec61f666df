"""Benchmark: many runs at once — 1,000 short runs (steps against a SUT endpoint that answers after 200 ms)
created together, on one executor and then on two, in distributed mode as real processes: `orchestra api`
and `orchestra executor` on one PostgreSQL (embedded server unless --database-url) and a RabbitMQ queue of
its own, against the demo SUT.

For each topology (``--topologies 1 2``: that many executors, the runs' concurrency split between them, and
as many API replicas, at most 2) it creates the runs through the API (``--clients`` requests in flight,
alternately through each replica) and waits until all have finished, then reads from PostgreSQL:

- runs/s: runs from the first created to the last finished (PostgreSQL's clock);
- PENDING → IN_PROGRESS (``started_at - created_at``) p50 / p99;
- step latency: a step's own time (send, check, capture; ``duration_ms``) p50 / p99, and the gap from a
  step's end to the next one's start (its commit, the next rendering) p50 / p99;

and from /proc while the runs went on: CPU used by each process (API replicas, executors, PostgreSQL's
backends, the demo SUT, the broker — shared with whatever else uses it) in cores, and how long they were
runnable but waiting for a core (``/proc/PID/schedstat``: on a shared machine, the sign that the machine's
CPU, not one of them, is what saturates), the executors' peak RSS
(VmHWM), and what PostgreSQL's active backends were waiting on (pg_stat_activity sampled every 50 ms:
"Lock:object" at commit is the queue of notifying transactions, "LWLock:WALWrite"/"IO:WALSync" the WAL
flush). Every step is committed before the next starts, as always. Ends with one line of key=value figures.

    python bench/throughput.py [--runs 1000] [--steps 2] [--latency-ms 200] [--topologies 1 2]
                               [--amqp-url amqp://guest:guest@127.0.0.1:5672/] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from latency import Cluster, create, database
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.cli.demo_process import DemoProcess
from orchestra.embedded_pg import EmbeddedPostgres, normalise_database_url
from orchestra.kit.logging import configure as configure_logging

TERMINAL = ("PASSED", "FAILED", "ERROR", "CANCELLED", "TIMED_OUT")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """Seconds on a core and seconds runnable but waiting for one (``/proc/PID/schedstat``)."""
    try:
        on_cpu, waiting, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return 0.0, 0.0
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def status_kb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def processes_named(fragment: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if fragment in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
    return found


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds, and seconds spent waiting for a core, of named groups of processes between ``start``
    and ``used`` (processes that appear in between, as PostgreSQL's backends do, count from zero)."""

    def __init__(self, groups: dict[str, Any]) -> None:
        self.groups = groups  # name -> callable returning the pids of the group now
        self.seen: dict[str, dict[int, tuple[float, float]]] = {}
        self.first: dict[str, dict[int, tuple[float, float]]] = {}

    def sample(self) -> None:
        for name, pids_of in self.groups.items():
            seen = self.seen.setdefault(name, {})
            for pid in pids_of():
                now = cpu_seconds(pid)
                if now[0] > 0:
                    seen[pid] = now

    def start(self) -> None:
        self.sample()
        self.first = {name: dict(values) for name, values in self.seen.items()}

    def used(self) -> dict[str, tuple[float, float]]:
        self.sample()
        totals: dict[str, tuple[float, float]] = {}
        for name, values in self.seen.items():
            first = self.first.get(name, {})
            cpu = sum(v[0] - first.get(pid, (0.0, 0.0))[0] for pid, v in values.items())
            wait = sum(v[1] - first.get(pid, (0.0, 0.0))[1] for pid, v in values.items())
            totals[name] = (cpu, wait)
        return totals


async def sample_waits(owner: AsyncEngine, stop: asyncio.Event, waits: collections.Counter[str]) -> int:
    """What the database's active backends wait on, every 50 ms until ``stop``; returns the samples."""
    samples = 0
    async with owner.connect() as conn:
        while not stop.is_set():
            rows = await conn.execute(
                text(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, count(*)"
                    " FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                    " AND datname = current_database() GROUP BY 1"
                )
            )
            for wait, count in rows:
                waits[wait] += count
            samples += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.05)
    return samples


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run_topology(
    executors: int, args: argparse.Namespace, server_url: str, sut: DemoProcess, scratch: Path
) -> dict[str, str]:
    queue = f"orchestra.bench.{uuid.uuid4().hex[:8]}"
    concurrency = -(-args.runs // executors)
    try:
        async with database(server_url) as (owner_url, app_url):
            env = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
            env.update(
                ORCHESTRA_DATABASE_URL=app_url,
                ORCHESTRA_MIGRATION_DATABASE_URL=owner_url,
                ORCHESTRA_BROKER_URL=args.amqp_url,
                ORCHESTRA_BROKER_QUEUE=queue,
                ORCHESTRA_DATA_DIR=str(scratch / "data"),
                ORCHESTRA_MAX_ACTIVE_RUNS=str(args.runs),
                ORCHESTRA_LOG_LEVEL="warning",
            )
            cluster = Cluster(env, scratch, concurrency=concurrency)
            owner = create_async_engine(owner_url, isolation_level="AUTOCOMMIT")
            try:
                return await measure(cluster, owner, executors, concurrency, sut, args)
            finally:
                await asyncio.to_thread(cluster.stop_all)
                await owner.dispose()
    finally:
        with contextlib.suppress(Exception):
            connection = await aio_pika.connect(args.amqp_url)
            async with connection:
                await (await connection.channel()).queue_delete(queue)


async def measure(
    cluster: Cluster,
    owner: AsyncEngine,
    executors: int,
    concurrency: int,
    sut: DemoProcess,
    args: argparse.Namespace,
) -> dict[str, str]:
    sut_url, sut_pid = sut.url, sut.process.pid
    for _ in range(min(executors, 2)):
        await cluster.start("api")
    for _ in range(executors):
        await cluster.start("executor")
    token = (cluster.logs / "data" / "admin-token").read_text().strip()
    apis, workers = cluster.live("api"), cluster.live("executor")
    async with httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        base = apis[0].url + "/api/v1"
        steps = [
            {"name": f"step {i}", "request": {"url": f"{{{{ env.base_url }}}}/slow?ms={args.latency_ms}"}}
            for i in range(args.steps)
        ]
        cases = [{"name": "short", "steps": steps}]
        response = await client.post(f"{base}/projects/bench/apply", json={"test_cases": cases, "suites": []})
        response.raise_for_status()
        environment = {"base_url": sut_url, "allow_private_network": True}
        (await client.put(f"{base}/projects/bench/environments/sut", json=environment)).raise_for_status()
        for _ in range(3):  # warm-up: connections, caches, compiled plans
            await create(client, apis[0].url, "short")
        await wait_all_finished(owner, 60)
        async with owner.connect() as conn:
            await conn.execute(text("SELECT pg_stat_reset()"))
            first_id = (await conn.execute(text("SELECT max(created_at) FROM test_runs"))).scalar()

        postmaster = await postmaster_pid(owner)
        meter = CpuMeter(
            {
                **{service.name: (lambda s=service: [s.process.pid]) for service in apis + workers},
                "postgres": lambda: children_of(postmaster) if postmaster else [],
                "sut": lambda: [sut_pid],
                "broker": lambda: processes_named("beam.smp"),  # shared with whoever else uses it
            }
        )
        stop = asyncio.Event()
        waits: collections.Counter[str] = collections.Counter()
        sampler = asyncio.create_task(sample_waits(owner, stop, waits))
        meter.start()
        started = time.monotonic()
        gate = asyncio.Semaphore(args.clients)

        create_ms: list[float] = []

        async def one(index: int) -> uuid.UUID:
            async with gate:
                began = time.perf_counter()
                run_id = await create(client, apis[index % len(apis)].url, "short")
                create_ms.append((time.perf_counter() - began) * 1000)
                return run_id

        ids = await asyncio.gather(*(one(i) for i in range(args.runs)))
        created_s = time.monotonic() - started
        peaks: dict[str, float] = {}
        while True:
            for service in workers:
                peaks[service.name] = max(
                    peaks.get(service.name, 0.0), status_kb(service.process.pid, "VmRSS")
                )
            meter.sample()  # catches backends that come and go
            if await all_finished(owner, ids):
                break
            if time.monotonic() - started > args.timeout_s:
                raise RuntimeError(f"not finished within {args.timeout_s} s")
            await asyncio.sleep(0.2)
        wall = time.monotonic() - started
        used = meter.used()
        stop.set()
        samples = await sampler
        hwm = {service.name: status_kb(service.process.pid, "VmHWM") for service in workers}
    events = collections.Counter(
        event
        for service in workers
        for line in (cluster.logs / f"{service.name}.log").read_text(errors="replace").splitlines()
        for event in ("run.heartbeat_failed", "run.internal_error", "run.lease_lost", "run.finish_failed")
        if event in line
    )
    figures = await read_figures(owner, ids, first_id)
    commits = await xact_commits(owner)
    prefix = f"e{executors}_"
    print(
        f"\n{executors} executor(s) x concurrency {concurrency}, {len(apis)} API replica(s): "
        f"{args.runs} runs of {args.steps} step(s) x {args.latency_ms} ms"
    )
    print(f"  POST /runs p50 {statistics.median(create_ms):.0f} ms, p99 {percentile(create_ms, 0.99):.0f} ms")
    if figures["outcomes"]:
        print(f"  not passed: {figures['outcomes']}")
    print("  executor log: " + (", ".join(f"{event} x{n}" for event, n in events.items()) or "no errors"))
    print(
        f"  created in {created_s:.1f} s ({args.clients} requests in flight); "
        f"all finished after {wall:.1f} s; {figures['passed']} passed"
    )
    print(
        f"  runs/s {figures['runs_per_s']:.1f}; PENDING → IN_PROGRESS p50 {figures['start_p50']:.0f} ms, "
        f"p99 {figures['start_p99']:.0f} ms (PENDING → QUEUED p50 {figures['queued_p50']:.0f} ms, "
        f"QUEUED → IN_PROGRESS p50 {figures['leased_p50']:.0f} ms)"
    )
    print(
        f"  step p50 {figures['step_p50']:.0f} ms, p99 {figures['step_p99']:.0f} ms; gap to the next step "
        f"p50 {figures['gap_p50']:.1f} ms, p99 {figures['gap_p99']:.1f} ms; {commits / wall:.0f} commits/s"
    )
    print(
        "  CPU (cores, over the run; in brackets the time waiting for a core per second on one): "
        + ", ".join(
            f"{name} {cpu / wall:.2f} [{wait / max(cpu, 1e-9):.1f}]" for name, (cpu, wait) in used.items()
        )
    )
    print("  executor RSS peak: " + ", ".join(f"{name} {hwm[name]:.0f} MB" for name in hwm))
    busiest = ", ".join(f"{wait} {count / samples:.1f}" for wait, count in waits.most_common(6))
    print(f"  PostgreSQL active backends, mean per sample ({samples} samples): {busiest}")
    result = {
        "runs_per_s": f"{figures['runs_per_s']:.1f}",
        "start_p50_ms": f"{figures['start_p50']:.0f}",
        "start_p99_ms": f"{figures['start_p99']:.0f}",
        "step_p50_ms": f"{figures['step_p50']:.0f}",
        "step_p99_ms": f"{figures['step_p99']:.0f}",
        "gap_p50_ms": f"{figures['gap_p50']:.1f}",
        "gap_p99_ms": f"{figures['gap_p99']:.1f}",
        "passed": f"{figures['passed']}/{args.runs}",
        "create_p50_ms": f"{statistics.median(create_ms):.0f}",
        "executor_rss_mb": f"{max(hwm.values()):.0f}",
        "heartbeat_failed": str(events["run.heartbeat_failed"]),
        "internal_errors": str(events["run.internal_error"]),
        "commit_wait_share": f"{waits['Lock:object'] / max(1, sum(waits.values())):.2f}",
    }
    for name, (cpu, _waited) in used.items():
        result[f"cpu_{name}"] = f"{cpu / wall:.2f}"
    cpu_all, wait_all = (sum(values) for values in zip(*used.values(), strict=True))
    result["wait_per_cpu_s"] = f"{wait_all / max(cpu_all, 1e-9):.1f}"
    return {prefix + key: value for key, value in result.items()}


async def postmaster_pid(owner: AsyncEngine) -> int | None:
    async with owner.connect() as conn:
        backend = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
    stat = Path(f"/proc/{backend}/stat")
    if not stat.exists():  # a server on another machine
        return None
    return int(stat.read_text().rsplit(")", 1)[1].split()[1])


async def wait_all_finished(owner: AsyncEngine, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with owner.connect() as conn:
            left = (
                await conn.execute(
                    text("SELECT count(*) FROM test_runs WHERE status <> ALL(:done)"),
                    {"done": list(TERMINAL)},
                )
            ).scalar()
        if not left:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the warm-up runs did not finish")


async def all_finished(owner: AsyncEngine, ids: list[uuid.UUID]) -> bool:
    async with owner.connect() as conn:
        left = (
            await conn.execute(
                text("SELECT count(*) FROM test_runs WHERE id = ANY(:ids) AND status <> ALL(:done)"),
                {"ids": ids, "done": list(TERMINAL)},
            )
        ).scalar()
    return left == 0


async def xact_commits(owner: AsyncEngine) -> int:
    async with owner.connect() as conn:
        value = (
            await conn.execute(
                text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            )
        ).scalar()
    return int(value or 0)


async def read_figures(owner: AsyncEngine, ids: list[uuid.UUID], _after: Any) -> dict[str, Any]:
    async with owner.connect() as conn:
        span = (
            await conn.execute(
                text(
                    "SELECT extract(epoch FROM max(finished_at) - min(created_at)) AS seconds,"
                    " count(*) FILTER (WHERE status = 'PASSED') AS passed"
                    " FROM test_runs WHERE id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        ).one()
        moves = (
            await conn.execute(
                text(
                    "SELECT extract(epoch FROM started_at - created_at) * 1000 AS start,"
                    " extract(epoch FROM queued_at - created_at) * 1000 AS queued,"
                    " extract(epoch FROM started_at - queued_at) * 1000 AS leased"
                    " FROM test_runs WHERE id = ANY(:ids)"
                ),
                {"ids": ids},
            )
        ).all()
        starts = [float(row.start) for row in moves]
        rows = (
            await conn.execute(
                text(
                    "SELECT duration_ms, extract(epoch FROM lead(started_at) OVER w - started_at) * 1000"
                    " - duration_ms AS gap FROM step_results WHERE test_run_id = ANY(:ids)"
                    " WINDOW w AS (PARTITION BY test_run_id ORDER BY seq)"
                ),
                {"ids": ids},
            )
        ).all()
        outcomes = (
            await conn.execute(
                text(
                    "SELECT status, left(coalesce(status_reason, ''), 120) AS reason, count(*) FROM test_runs"
                    " WHERE id = ANY(:ids) AND status <> 'PASSED' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5"
                ),
                {"ids": ids},
            )
        ).all()
    durations = [float(row.duration_ms) for row in rows]
    gaps = [float(row.gap) for row in rows if row.gap is not None] or [float("nan")]
    return {
        "outcomes": "; ".join(f"{row.status} x{row.count}: {row.reason}" for row in outcomes),
        "runs_per_s": len(ids) / float(span.seconds),
        "passed": int(span.passed),
        "start_p50": statistics.median(starts),
        "start_p99": percentile(starts, 0.99),
        "queued_p50": statistics.median(float(row.queued) for row in moves),
        "leased_p50": statistics.median(float(row.leased) for row in moves),
        "step_p50": statistics.median(durations),
        "step_p99": percentile(durations, 0.99),
        "gap_p50": statistics.median(gaps),
        "gap_p99": percentile(gaps, 0.99),
    }


async def more_connections(embedded: EmbeddedPostgres, server_url: str) -> str:
    """Room for every process's pool: 2 executors may open about 2 x (32 + 5) connections each under this
    load, the API replicas theirs, PostgreSQL's default is 100."""
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text("ALTER SYSTEM SET max_connections = 400"))
    await admin.dispose()
    embedded.stop()
    return embedded.start()


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    scratch = Path(tempfile.mkdtemp(prefix="orchestra-throughput-"))
    embedded = None
    if args.database_url:
        server_url = normalise_database_url(args.database_url)
    else:
        embedded = EmbeddedPostgres(scratch / "pg")
        server_url = await more_connections(embedded, embedded.start())
    demo = DemoProcess.start()
    figures: dict[str, str] = {}
    finished = False
    try:
        for executors in args.topologies:
            logs = scratch / f"e{executors}"
            logs.mkdir()
            figures.update(await run_topology(executors, args, server_url, demo, logs))
        finished = True
    finally:
        demo.stop()
        if embedded is not None:
            embedded.stop()
        if finished:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"the services' logs are in {scratch}", file=sys.stderr)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores, shared)")
    print(" ".join(f"{key}={value}" for key, value in {"load": f"{load[0]:.1f}", **figures}.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--database-url", help="a server (superuser) with pgvector; default: embedded")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2, help="steps of each run")
    parser.add_argument("--latency-ms", type=int, default=200, help="the SUT's answer time per step")
    parser.add_argument("--topologies", type=int, nargs="+", default=[1, 2], help="executors per topology")
    parser.add_argument("--clients", type=int, default=20, help="run creations in flight")
    parser.add_argument("--timeout-s", type=float, default=900)
    asyncio.run(main(parser.parse_args()))
