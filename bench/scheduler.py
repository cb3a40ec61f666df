"""Benchmark: one scheduling pass (admits a batch of 100) over 1,000 to 100,000 PENDING runs across 1,000
tenants, in PostgreSQL. Every pass runs in a transaction that is rolled back, so all passes see the same
state. Prints the medians, their ratio (the cost should not grow with the backlog) and ends with one line
of key=value figures.

    python bench/scheduler.py [--tenants 1000] [--sizes 1000 10000 100000] [--passes 41]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.embedded_pg import EmbeddedPostgres
from orchestra.kit.logging import configure as configure_logging
from orchestra.migrate import migrate_database
from orchestra.scheduler import admission

FIXTURES = [
    """INSERT INTO tenants (id, name, weight)
       SELECT md5('t' || i)::uuid, 'tenant-' || i, 1 + i % 3
       FROM generate_series(1, CAST(:tenants AS int)) i""",
    """INSERT INTO projects (id, tenant_id, name)
       SELECT md5('p' || i)::uuid, md5('t' || i)::uuid, 'project'
       FROM generate_series(1, CAST(:tenants AS int)) i""",
    """INSERT INTO environments
         (id, tenant_id, project_id, name, base_url, variables, secrets, max_active_runs)
       SELECT md5('e' || i)::uuid, md5('t' || i)::uuid, md5('p' || i)::uuid, 'sut', 'http://127.0.0.1:9',
              '{}', '{}', CASE WHEN i % 10 = 0 THEN 2 END
       FROM generate_series(1, CAST(:tenants AS int)) i""",
    """INSERT INTO test_cases (id, tenant_id, project_id, name, current_version)
       SELECT md5('c' || i)::uuid, md5('t' || i)::uuid, md5('p' || i)::uuid, 'case', 1
       FROM generate_series(1, CAST(:tenants AS int)) i""",
    """INSERT INTO test_case_versions (id, tenant_id, test_case_id, version, definition, content_hash)
       SELECT md5('v' || i)::uuid, md5('t' || i)::uuid, md5('c' || i)::uuid, 1, '{}', 'x'
       FROM generate_series(1, CAST(:tenants AS int)) i""",
]

ADD_PENDING = """
    INSERT INTO test_runs
        (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id, name,
         status, priority, queue_key, trigger, attempt, fencing_token, cancel_requested, variables, context)
    SELECT gen_random_uuid(), md5('t' || t)::uuid, md5('p' || t)::uuid, md5('c' || t)::uuid,
           md5('v' || t)::uuid, md5('e' || t)::uuid, 'case', 'PENDING', p,
           extract(epoch FROM now()) + n - p * 10,
           'api', 1, 0, false, '{}', '{}'
    FROM (SELECT n, 1 + (n * 7919) % CAST(:tenants AS int) AS t, (ARRAY[0, 100, 200])[1 + n % 3] AS p
          FROM generate_series(CAST(:start AS int), CAST(:stop AS int)) n) s
"""


async def seed(engine: AsyncEngine, tenants: int) -> None:
    async with engine.begin() as conn:
        for statement in FIXTURES:
            await conn.execute(text(statement), {"tenants": tenants})


async def add_pending(engine: AsyncEngine, tenants: int, start: int, stop: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(ADD_PENDING), {"tenants": tenants, "start": start, "stop": stop})
        await conn.execute(text("ANALYZE test_runs"))


def on_cpu_s(pid: int) -> float:
    """Seconds process ``pid`` has spent on a core (``/proc/PID/schedstat``; 0 where it is not readable)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


async def one_pass(engine: AsyncEngine, batch: int, triggers: bool) -> tuple[float, float, int]:
    """Milliseconds of a pass, rolled back, of wall time and of CPU time (this process's and its
    PostgreSQL backend's: what a machine's load does not stretch). ``triggers=False``: the same pass with
    the tables' triggers off (the live-update NOTIFYs and the suite-run summary of migrations 0026/0027):
    what they cost."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        backend = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        if not triggers:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        cpu = time.process_time() + on_cpu_s(backend)
        started = time.perf_counter()
        ids = await admission.admit(conn, default_global_max=1_000_000, batch=batch)
        elapsed = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() + on_cpu_s(backend) - cpu) * 1000
        await transaction.rollback()
    return elapsed, cpu, len(ids)


async def time_passes(engine: AsyncEngine, passes: int, batch: int) -> tuple[float, float, float, int]:
    """Median milliseconds of a pass with the triggers and without, the two alternating pass by pass (so
    that the machine's changing load hits both alike), the median CPU milliseconds of a pass with them,
    and how many runs a pass admitted."""
    times: dict[bool, list[float]] = {True: [], False: []}
    cpu: list[float] = []
    admitted = 0
    for index in range(passes):
        for triggers in (True, False) if index % 2 else (False, True):
            elapsed, used, admitted = await one_pass(engine, batch, triggers)
            times[triggers].append(elapsed)
            if triggers:
                cpu.append(used)
    return statistics.median(times[True]), statistics.median(times[False]), statistics.median(cpu), admitted


async def main(tenants: int, sizes: list[int], passes: int, batch: int) -> None:
    configure_logging("warning")
    data_dir = Path(tempfile.mkdtemp(prefix="orchestra-bench-sched-"))  # removed at the end
    server = EmbeddedPostgres(data_dir)
    owner_url = server.start()
    # The owner seeds the tenants' data directly; the passes run the same orchestra_sys_* functions the
    # scheduler calls (SECURITY DEFINER: they run as orchestra_system whoever calls them).
    owner = create_async_engine(owner_url)
    medians: dict[int, float] = {}
    untriggered: dict[int, float] = {}
    cpu: dict[int, float] = {}
    try:
        await migrate_database(owner_url)
        await seed(owner, tenants)
        loaded = 0
        for size in sizes:
            await add_pending(owner, tenants, loaded + 1, size)
            loaded = size
            await time_passes(owner, 3, batch)  # warm-up: caches, prepared statements
            medians[size], untriggered[size], cpu[size], admitted = await time_passes(owner, passes, batch)
            print(
                f"{size:>7} pending: {medians[size]:6.2f} ms per pass (median); admitted {admitted}; "
                f"{untriggered[size]:6.2f} ms with the triggers off; {cpu[size]:6.2f} ms of CPU"
            )
    finally:
        await owner.dispose()
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    first, last = sizes[0], sizes[-1]
    middle = sizes[len(sizes) // 2]
    print(f"tenants: {tenants}, batch: {batch}. A pass reads one index probe per (tenant, environment) with")
    print("pending work and a few candidates each, whatever the backlog; the rest is index size.")
    print(
        f"tenants={tenants} batch={batch} "
        + " ".join(f"pass_ms_{size}={medians[size]:.2f}" for size in sizes)
        + f" ratio_{last}_vs_{middle}={medians[last] / medians[middle]:.2f}"
        + f" ratio_{last}_vs_{first}={medians[last] / medians[first]:.2f}"
        + " "
        + " ".join(f"pass_ms_{size}_triggers_off={untriggered[size]:.2f}" for size in sizes)
        + " "
        + " ".join(f"pass_cpu_ms_{size}={cpu[size]:.2f}" for size in sizes)
        + f" load={os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--passes", type=int, default=41)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.tenants, sorted(args.sizes), args.passes, args.batch))
