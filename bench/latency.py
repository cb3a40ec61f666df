"""Benchmark: distributed mode with its default settings, as real processes — 2 `orchestra api` replicas and
2 `orchestra executor`s (concurrency 4) on one PostgreSQL (embedded unless --database-url) and a RabbitMQ
queue of its own, running tests against the demo SUT. It measures:

- created → IN_PROGRESS with free slots: ``started_at - created_at`` of each run (both PostgreSQL's clock),
  runs created one after another, alternately through each replica (as a load balancer would);
- batch throughput: a batch of runs of a 30-step test against a 50 ms SUT endpoint, all created at once
  through both replicas, from the first created to the last finished (PostgreSQL's clock), on the 8 slots of
  the two executors (the ideal is 8 / 50 ms = 160 steps/s);
- hand-back: SIGTERM to the executor holding a long run, until the other executor holds it IN_PROGRESS;
- recovery: ``kill -9`` of the executor holding a long run, until the other executor holds it IN_PROGRESS;
- executor RSS, idle after start and idle again after the work.

Prints each figure and ends with one line of key=value figures.

    python bench/latency.py [--amqp-url amqp://guest:guest@127.0.0.1:5672/] [--runs 60] [--batch 60]
                            [--handbacks 3] [--kills 3] [--database-url postgresql://owner@host/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.cli.demo_process import DemoProcess
from orchestra.db import APP_ROLE
from orchestra.embedded_pg import EmbeddedPostgres, normalise_database_url
from orchestra.kit.logging import configure as configure_logging
from orchestra.migrate import upgrade_to_head

REPO = Path(__file__).resolve().parent.parent
APP_PASSWORD = "orchestra-bench"
TERMINAL = ("PASSED", "FAILED", "ERROR", "CANCELLED", "TIMED_OUT")
BATCH_STEPS = 30
SLOTS = 8  # 2 executors, concurrency 4 each


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for {self.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Cluster:
    def __init__(self, env: dict[str, str], logs: Path, concurrency: int = 4) -> None:
        self.env = env
        self.concurrency = concurrency
        self.logs = logs
        self.services: list[Service] = []
        self.spawned = 0

    def spawn(self, kind: str, port_flag: str) -> Service:
        self.spawned += 1
        name = f"{kind}{self.spawned}"
        port = free_port()
        with (self.logs / f"{name}.log").open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "orchestra.cli", kind, port_flag, str(port)]
                + (["--concurrency", str(self.concurrency)] if kind == "executor" else []),
                cwd=REPO,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        service = Service(name, process, f"http://127.0.0.1:{port}")
        self.services.append(service)
        return service

    async def start(self, kind: str) -> Service:
        if kind == "api":
            service, ready = self.spawn("api", "--port"), "/api/v1/health/ready"
        else:
            service, ready = self.spawn("executor", "--health-port"), "/health/ready"
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if service.process.poll() is not None:
                    raise RuntimeError(f"{service.name} exited; see {self.logs}/{service.name}.log")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(service.url + ready)).status_code == 200:
                        return service
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{service.name} not ready; see {self.logs}/{service.name}.log")

    def live(self, kind: str) -> list[Service]:
        return [s for s in self.services if s.name.startswith(kind) and s.process.poll() is None]

    async def owner_of(self, service: Service) -> str:
        async with httpx.AsyncClient(timeout=5) as client:
            owner: str = (await client.get(service.url + "/health/live")).json()["owner"]
            return owner

    def stop_all(self) -> None:
        for service in self.services:
            service.stop()


def long_case(name: str, steps: int) -> dict[str, Any]:
    """``steps`` requests (each sending the environment's secret, as real tests do), each with a pause."""
    body: list[dict[str, Any]] = []
    for index in range(steps):
        url = f"{{{{ env.base_url }}}}/echo?s={index}"
        headers = {"Authorization": "Bearer {{ secrets.token }}"}
        body.append({"name": f"step {index}", "request": {"method": "POST", "url": url, "headers": headers}})
        body.append({"name": f"pause {index}", "sleep": "100ms"})
    return {"name": name, "steps": body}


def batch_case(name: str, steps: int) -> dict[str, Any]:
    """``steps`` requests to an endpoint that answers after 50 ms."""
    body = [{"name": f"step {i}", "request": {"url": "{{ env.base_url }}/slow?ms=50"}} for i in range(steps)]
    return {"name": name, "steps": body}


async def run_row(owner: AsyncEngine, run_id: uuid.UUID) -> Any:
    async with owner.connect() as conn:
        return (
            await conn.execute(
                text(
                    "SELECT status, lease_owner, attempt, started_at, created_at, queued_at,"
                    " (SELECT count(*) FROM step_results WHERE test_run_id = r.id) AS steps"
                    " FROM test_runs r WHERE id = :id"
                ),
                {"id": run_id},
            )
        ).one()


async def wait_row(owner: AsyncEngine, run_id: uuid.UUID, check: Any, timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = await run_row(owner, run_id)
        if check(row):
            return row
        await asyncio.sleep(0.01)
    raise RuntimeError(f"run {run_id}: not within {timeout_s} s")


async def create(client: httpx.AsyncClient, base: str, test_case: str) -> uuid.UUID:
    response = await client.post(
        f"{base}/api/v1/runs", json={"project": "bench", "environment": "sut", "test_case": test_case}
    )
    response.raise_for_status()
    return uuid.UUID(response.json()["id"])


async def latency(
    cluster: Cluster, client: httpx.AsyncClient, owner: AsyncEngine, runs: int
) -> dict[str, list[float]]:
    """Milliseconds from created to IN_PROGRESS, by the replica (leader or standby) that took the request,
    and (under "queued" and "leased") the two parts: created → QUEUED (the request's commit, the wake-up,
    the scheduling pass up to its transaction's start) and QUEUED → IN_PROGRESS (the rest of the pass, the
    broker, the lease)."""
    apis = cluster.live("api")
    roles = {}
    for api in apis:
        health = (await client.get(api.url + "/api/v1/health")).json()
        roles[api.url] = str(health.get("scheduler_role"))
    by_role: dict[str, list[float]] = {"leader": [], "standby": [], "queued": [], "leased": []}
    for index in range(runs):
        api = apis[index % len(apis)]
        run_id = await create(client, api.url, "quick")
        row = await wait_row(owner, run_id, lambda r: r.status in TERMINAL, 30)
        by_role[roles[api.url]].append((row.started_at - row.created_at).total_seconds() * 1000)
        by_role["queued"].append((row.queued_at - row.created_at).total_seconds() * 1000)
        by_role["leased"].append((row.started_at - row.queued_at).total_seconds() * 1000)
        await asyncio.sleep(0.05)
    return by_role


async def batch(
    cluster: Cluster, client: httpx.AsyncClient, owner: AsyncEngine, runs: int
) -> tuple[float, int]:
    """Seconds from the first run created to the last finished, for ``runs`` runs created at once (through
    each replica in turn), and how many of them passed."""
    apis = cluster.live("api")
    created = await asyncio.gather(*(create(client, apis[i % len(apis)].url, "batch") for i in range(runs)))
    for run_id in created:
        await wait_row(owner, run_id, lambda r: r.status in TERMINAL, 600)
    async with owner.connect() as conn:
        span = (
            await conn.execute(
                text(
                    "SELECT extract(epoch FROM max(finished_at) - min(created_at)) AS seconds,"
                    " count(*) FILTER (WHERE status = 'PASSED') AS passed,"
                    " extract(epoch FROM sum(finished_at - started_at)) AS held"
                    " FROM test_runs WHERE id = ANY(:ids)"
                ),
                {"ids": list(created)},
            )
        ).one()
        steps = (
            await conn.execute(
                text(
                    "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS send,"
                    " percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) AS between FROM ("
                    "  SELECT duration_ms, extract(epoch FROM lead(started_at) OVER w - started_at) * 1000"
                    "   - duration_ms AS gap FROM step_results WHERE test_run_id = ANY(:ids)"
                    "  WINDOW w AS (PARTITION BY test_run_id ORDER BY seq)) s"
                ),
                {"ids": list(created)},
            )
        ).one()
    print(f"  slots holding a run: {100 * float(span.held) / (SLOTS * float(span.seconds)):.0f}% of the time")
    print(
        f"  a step: p50 {steps.send:.1f} ms sending, "
        f"p50 {steps.between:.1f} ms from its end to the next's start"
    )
    return float(span.seconds), int(span.passed)


async def takeover(
    cluster: Cluster, client: httpx.AsyncClient, owner: AsyncEngine, signum: signal.Signals
) -> float:
    """Seconds from ``signum`` to the holder of a long run until another executor holds it IN_PROGRESS."""
    run_id = await create(client, cluster.live("api")[0].url, "long")
    row = await wait_row(owner, run_id, lambda r: r.status == "IN_PROGRESS" and r.steps >= 6, 60)
    holder = row.lease_owner
    victim = None
    for service in cluster.live("executor"):
        if await cluster.owner_of(service) == holder:
            victim = service
    assert victim is not None, f"no executor is {holder}"
    sent = time.monotonic()
    os.kill(victim.process.pid, signum)
    await wait_row(owner, run_id, lambda r: r.status == "IN_PROGRESS" and r.lease_owner != holder, 120)
    elapsed = time.monotonic() - sent
    await asyncio.to_thread(victim.process.wait)
    await cluster.start("executor")  # back to two executors
    await wait_row(owner, run_id, lambda r: r.status in TERMINAL, 120)
    return elapsed


@contextlib.asynccontextmanager
async def database(server_url: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh migrated database: (owner URL, application role URL)."""
    name = f"orchestra_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    owner_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        migrating = create_async_engine(owner_url)
        try:
            await upgrade_to_head(migrating)
        finally:
            await migrating.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f"ALTER ROLE {APP_ROLE} LOGIN PASSWORD '{APP_PASSWORD}'"))
        app_url = (
            make_url(owner_url)
            .set(username=APP_ROLE, password=APP_PASSWORD)
            .render_as_string(hide_password=False)
        )
        yield owner_url, app_url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def main(args: argparse.Namespace) -> None:
    configure_logging("warning")
    scratch = Path(tempfile.mkdtemp(prefix="orchestra-latency-"))
    embedded = None
    if args.database_url:
        server_url = normalise_database_url(args.database_url)
    else:
        embedded = EmbeddedPostgres(scratch)
        server_url = embedded.start()
    demo = DemoProcess.start()
    queue = f"orchestra.bench.{uuid.uuid4().hex[:8]}"
    finished = False
    try:
        async with database(server_url) as (owner_url, app_url):
            env = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
            env.update(
                ORCHESTRA_DATABASE_URL=app_url,
                ORCHESTRA_MIGRATION_DATABASE_URL=owner_url,
                ORCHESTRA_BROKER_URL=args.amqp_url,
                ORCHESTRA_BROKER_QUEUE=queue,
                ORCHESTRA_DATA_DIR=str(scratch / "data"),
            )
            cluster = Cluster(env, scratch)
            owner = create_async_engine(owner_url, isolation_level="AUTOCOMMIT")
            try:
                await measure(cluster, owner, demo.url, args)
                finished = True
            finally:
                await asyncio.to_thread(cluster.stop_all)
                await owner.dispose()
    finally:
        demo.stop()
        with contextlib.suppress(Exception):
            connection = await aio_pika.connect(args.amqp_url)
            async with connection:
                await (await connection.channel()).queue_delete(queue)
        if embedded is not None:
            embedded.stop()
        if finished:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"the services' logs are in {scratch}", file=sys.stderr)


async def measure(cluster: Cluster, owner: AsyncEngine, sut_url: str, args: argparse.Namespace) -> None:
    await cluster.start("api")
    await cluster.start("api")
    for _ in range(2):
        await cluster.start("executor")
    await asyncio.sleep(5)  # settle: imports done, connections open, nothing to do
    idle_rss = max(service.rss_mb() for service in cluster.live("executor"))
    token = (cluster.logs / "data" / "admin-token").read_text().strip()
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        base = cluster.live("api")[0].url + "/api/v1"
        quick = {"name": "quick", "steps": [{"request": {"url": "{{ env.base_url }}/health"}}]}
        cases = [quick, long_case("long", 60), batch_case("batch", BATCH_STEPS)]
        response = await client.post(f"{base}/projects/bench/apply", json={"test_cases": cases, "suites": []})
        response.raise_for_status()
        environment = {"base_url": sut_url, "allow_private_network": True, "secrets": {"token": "s3cret"}}
        (await client.put(f"{base}/projects/bench/environments/sut", json=environment)).raise_for_status()
        for _ in range(3):  # warm-up: connections, caches, compiled plans
            await create(client, cluster.live("api")[0].url, "quick")
        await asyncio.sleep(2)

        by_role = await latency(cluster, client, owner, args.runs)
        every = sorted(by_role["leader"] + by_role["standby"])
        p50, p99 = statistics.median(every), every[min(len(every) - 1, round(0.99 * (len(every) - 1)))]
        print(f"created → IN_PROGRESS over {len(every)} runs: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        for role in ("leader", "standby"):
            if by_role[role]:
                print(f"  created through the {role}: p50 {statistics.median(by_role[role]):.1f} ms")
        print(
            f"  created → QUEUED p50 {statistics.median(by_role['queued']):.1f} ms, "
            f"QUEUED → IN_PROGRESS p50 {statistics.median(by_role['leased']):.1f} ms"
        )

        batch_s, passed = await batch(cluster, client, owner, args.batch) if args.batch else (float("nan"), 0)
        if args.batch:
            print(
                f"batch of {args.batch} runs of {BATCH_STEPS} steps (50 ms each): {batch_s:.1f} s, "
                f"{args.batch / batch_s:.2f} runs/s, {args.batch * BATCH_STEPS / batch_s:.0f} steps/s, "
                f"{passed} passed"
            )

        handbacks = [await takeover(cluster, client, owner, signal.SIGTERM) for _ in range(args.handbacks)]
        print(f"hand-back (SIGTERM → IN_PROGRESS elsewhere): {', '.join(f'{s:.2f}' for s in handbacks)} s")
        kills = [await takeover(cluster, client, owner, signal.SIGKILL) for _ in range(args.kills)]
        print(f"recovery (kill -9 → IN_PROGRESS elsewhere): {', '.join(f'{s:.2f}' for s in kills)} s")
    await asyncio.sleep(5)
    worked_rss = max(service.rss_mb() for service in cluster.live("executor"))
    print(f"executor RSS: idle after start {idle_rss:.0f} MB, idle after the work {worked_rss:.0f} MB")
    figures = {
        "latency_p50_ms": f"{p50:.1f}",
        "latency_p99_ms": f"{p99:.1f}",
        "leader_p50_ms": f"{statistics.median(by_role['leader']):.1f}" if by_role["leader"] else "nan",
        "standby_p50_ms": f"{statistics.median(by_role['standby']):.1f}" if by_role["standby"] else "nan",
        "batch_runs_per_s": f"{args.batch / batch_s:.2f}" if args.batch else "nan",
        "batch_steps_per_s": f"{args.batch * BATCH_STEPS / batch_s:.0f}" if args.batch else "nan",
        "batch_passed": f"{passed}/{args.batch}",
        "handback_s": f"{statistics.median(handbacks):.2f}" if handbacks else "nan",
        "recovery_s": f"{statistics.median(kills):.2f}" if kills else "nan",
        "recovery_max_s": f"{max(kills):.2f}" if kills else "nan",
        "executor_rss_idle_mb": f"{idle_rss:.0f}",
        "executor_rss_after_mb": f"{worked_rss:.0f}",
    }
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--database-url", help="a server (superuser) with pgvector; default: embedded")
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=60, help="runs in the throughput batch (0: skip)")
    parser.add_argument("--handbacks", type=int, default=3)
    parser.add_argument("--kills", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
