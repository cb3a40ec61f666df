"""Benchmark: a sequential chain of HTTP steps through Orchestra vs. a bare httpx loop, in the same run.

Each step posts the value captured from the previous response and checks it. Orchestra commits every step
durably (step result + ExecutionContext + heartbeat). Prints both wall times (medians), their ratio and
Orchestra's overhead per step, and ends with one line of key=value figures. Beside wall time, the CPU time
each side spends (this process, and for Orchestra its PostgreSQL server's processes too; never the SUT's):
on a machine shared with other work, wall time swings with the load, CPU time much less.

    python bench/chain.py [--steps 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.actor import Actor
from orchestra.cli.demo_process import DemoProcess
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.environments import service as environments
from orchestra.executor.lease import LeaseStore, StepRecord
from orchestra.kit.logging import configure as configure_logging
from orchestra.models.run_states import TERMINAL, RunStatus
from orchestra.runs import service as runs
from orchestra.runs.schemas import RunCreate
from orchestra.runtime import Runtime
from orchestra.testcases import service as testcases


def chain_definition(steps: int) -> dict[str, object]:
    step = {
        "request": {"method": "POST", "url": "{{ env.base_url }}/chain", "json": {"value": "{{ next }}"}},
        "expect": {"status": 200, "json": {"$.value": "{{ next }}"}},
        "capture": {"next": "$.next"},
    }
    return {"name": f"chain of {steps}", "variables": {"next": 0}, "steps": [step] * steps}


def postgres_cpu_s(pgdata: Path) -> float:
    """CPU seconds of the PostgreSQL server of ``pgdata`` so far: its postmaster, its live processes and
    those that ended (Linux /proc; NaN elsewhere)."""
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            pid, parent = int(stat.parent.name), int(fields[1])
            if pid == postmaster:
                ticks += sum(int(value) for value in fields[11:15])  # its own and its ended children's
            elif parent == postmaster:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return math.nan


async def bare_httpx(base_url: str, steps: int) -> tuple[float, float]:
    """Wall and CPU seconds of the loop."""
    async with httpx.AsyncClient(trust_env=False) as client:
        cpu = time.process_time()
        started = time.perf_counter()
        value = 0
        for _ in range(steps):
            response = await client.post(f"{base_url}/chain", json={"value": value})
            body = response.json()
            if response.status_code != 200 or body["value"] != value:
                raise AssertionError(f"unexpected response {response.status_code} {body}")
            value = body["next"]
        return time.perf_counter() - started, time.process_time() - cpu


# As the owner: the scheduler's move, without the broker message that would tell an executor of the run.
_QUEUED_BY_HAND = text(
    "UPDATE test_runs SET status = 'QUEUED', queued_at = now() WHERE id = :id AND status = 'PENDING'"
)

# The chain run's context and its last step, as the executor committed them.
_LAST_STEP = text(
    "SELECT r.context::text AS context, s.name, s.status, s.request::text AS request,"
    " s.response::text AS response, s.assertions::text AS assertions, s.duration_ms"
    " FROM test_runs r JOIN step_results s ON s.test_run_id = r.id"
    " WHERE r.id = :id ORDER BY s.seq DESC LIMIT 1"
)


async def commit_alone(
    runtime: Runtime, chain_run: uuid.UUID, project: str, test_case: str, commits: int
) -> float:
    """Seconds per step commit alone: the executor's own statement (``LeaseStore.commit_step``) on a held
    connection, in a loop, with the last step record and context of ``chain_run``, for a run of the chain this
    bench leases itself — what the durable commit of a step costs before any of the step's other work."""
    actor = Actor(tenant_id=runtime.tenant_id)
    owner = create_async_engine(runtime.db.owner_url, poolclass=NullPool)
    store = LeaseStore(runtime.db.engine, "bench-commits", lease_s=60)
    try:
        async with owner.connect() as conn:
            step = (await conn.execute(_LAST_STEP, {"id": chain_run})).one()
        context = step.context
        payload = {
            "request": step.request,
            "response": step.response,
            "assertions": step.assertions,
            "error": None,
        }
        lease = None
        while lease is None:  # queued by hand, so no executor is told of it; one that took it anyway: again
            async with runtime.db.transaction(runtime.tenant_id) as session:
                created = await runs.create_run(
                    session, actor, RunCreate(project=project, environment="bench", test_case=test_case)
                )
            async with owner.begin() as conn:
                await conn.execute(_QUEUED_BY_HAND, {"id": created.id})
            lease = await store.take(created.id)
        async with store.connect(lease.tenant_id) as conn:
            record = StepRecord(0, "main", step.name, step.status, 1, datetime.now(UTC), step.duration_ms)
            await store.commit_step(lease, record, context, payload, conn)  # the statement prepared
            started = time.perf_counter()
            for seq in range(1, commits + 1):
                record = StepRecord(
                    seq, "main", step.name, step.status, 1, datetime.now(UTC), step.duration_ms
                )
                await store.commit_step(lease, record, context, payload, conn)
            elapsed = time.perf_counter() - started
            await store.finish(lease, RunStatus.PASSED, "commits measured alone", json.loads(context), conn)
    finally:
        await owner.dispose()
    return elapsed / commits


async def through_orchestra(
    runtime: Runtime, project: str, test_case: str, pgdata: Path
) -> tuple[float, float, float, uuid.UUID]:
    """The run's wall time (its start to its end, as the executor recorded them), the CPU seconds this
    process and the PostgreSQL server each spent from its creation to its end, and the run's id."""
    actor = Actor(tenant_id=runtime.tenant_id)
    # Woken when a run of this process ends, as `orchestra run` is, rather than reading the run every 50 ms:
    # the polls ran on the executor's event loop and were counted in its time. (A revision without the
    # event, compared by chain_revisions.py, is polled as before.)
    finished: asyncio.Event | None = getattr(runtime, "run_finished", None)
    if finished is not None:
        finished.clear()
    cpu, database = time.process_time(), postgres_cpu_s(pgdata)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        created = await runs.create_run(
            session, actor, RunCreate(project=project, environment="bench", test_case=test_case)
        )
    runtime.scheduler.wake()
    while True:
        if finished is None:
            await asyncio.sleep(0.05)
        else:
            with contextlib.suppress(TimeoutError):  # the run is read again at least every second
                await asyncio.wait_for(finished.wait(), 1.0)
            finished.clear()
        async with runtime.db.transaction(runtime.tenant_id) as session:
            run = await runs.get_run(session, actor, created.id, with_steps=False)
        if run.status in TERMINAL:
            break
    if run.status != "PASSED" or run.duration_ms is None:
        raise AssertionError(f"the chain run ended {run.status}: {run.status_reason}")
    cpu, database = time.process_time() - cpu, postgres_cpu_s(pgdata) - database
    # started_at → finished_at: the executor's work, every step committed
    return run.duration_ms / 1000, cpu, database, created.id


async def main(steps: int, rounds: int) -> None:
    configure_logging("warning")
    demo = await asyncio.to_thread(DemoProcess.start)
    data_dir = Path(tempfile.mkdtemp(prefix="orchestra-bench-"))  # removed at the end, with its database
    # the scheduler at its default interval, as users run it: the bench wakes it for each run it starts
    settings = Settings(data_dir=data_dir)
    runtime = await Runtime.start(settings)
    try:
        actor = Actor(tenant_id=runtime.tenant_id)
        project = f"bench-{uuid.uuid4().hex[:6]}"
        definition = validate_test_case_data(chain_definition(steps))
        async with runtime.db.transaction(runtime.tenant_id) as session:
            from orchestra.projects import service as projects

            await projects.ensure(session, actor, project)
            await environments.ensure(session, actor, project, "bench", demo.url, allow_private_network=True)
            await testcases.upsert_definition(session, actor, project, definition)
        pgdata = data_dir / "pg"
        await bare_httpx(demo.url, 50)  # warm-up: connections, caches
        await through_orchestra(runtime, project, definition.name, pgdata)
        orchestra_times, httpx_times, orchestra_cpu, database_cpu, httpx_cpu = [], [], [], [], []
        commit_times: list[float] = []
        for _ in range(rounds):
            wall, cpu = await bare_httpx(demo.url, steps)
            httpx_times.append(wall)
            httpx_cpu.append(cpu)
            wall, cpu, database, chain_run = await through_orchestra(
                runtime, project, definition.name, pgdata
            )
            orchestra_times.append(wall)
            orchestra_cpu.append(cpu + database)
            database_cpu.append(database)
            commit_times.append(await commit_alone(runtime, chain_run, project, definition.name, steps))
    finally:
        await runtime.stop()
        demo.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    orchestra_s, httpx_s = statistics.median(orchestra_times), statistics.median(httpx_times)
    overhead_ms = (orchestra_s - httpx_s) / steps * 1000
    orchestra_cpu_s, httpx_cpu_s = statistics.median(orchestra_cpu), statistics.median(httpx_cpu)
    cpu_overhead_ms = (orchestra_cpu_s - httpx_cpu_s) / steps * 1000
    database_cpu_ms = statistics.median(database_cpu) / steps * 1000
    commit_ms = statistics.median(commit_times) * 1000
    print(f"rounds: {rounds}, steps per chain: {steps}")
    print(
        f"orchestra (durable) median: {orchestra_s:.3f} s   "
        f"runs: {', '.join(f'{t:.3f}' for t in orchestra_times)}"
    )
    print(f"bare httpx loop median:     {httpx_s:.3f} s   runs: {', '.join(f'{t:.3f}' for t in httpx_times)}")
    print(f"CPU (medians): orchestra with PostgreSQL {orchestra_cpu_s:.3f} s, bare httpx {httpx_cpu_s:.3f} s")
    print(
        f"a step commit alone (median): {commit_ms:.3f} ms; the rest of a step's overhead: "
        f"{overhead_ms - commit_ms:.3f} ms"
    )
    print(
        f"steps={steps} orchestra_s={orchestra_s:.3f} httpx_s={httpx_s:.3f} "
        f"ratio={orchestra_s / httpx_s:.2f} overhead_ms_per_step={overhead_ms:.3f} "
        f"orchestra_cpu_s={orchestra_cpu_s:.3f} httpx_cpu_s={httpx_cpu_s:.3f} "
        f"cpu_overhead_ms_per_step={cpu_overhead_ms:.3f} database_cpu_ms_per_step={database_cpu_ms:.3f} "
        f"commit_ms={commit_ms:.3f} overhead_beyond_commit_ms={overhead_ms - commit_ms:.3f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.steps, args.rounds))
    sys.exit(0)
