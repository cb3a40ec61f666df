"""Benchmark: a page of GET /suite-runs on 100,000 suite runs of one tenant in every order and with each
filter, with and without migration 0027's indexes, in the same process on the same embedded PostgreSQL.

One project, 20 suites over 200 test cases on 2 environments, suite runs spread over 60 days with 3 runs
each (300,000 runs): one suite run in 10 has a failed run, one in 50 a failed run retried into a pass, one
in 100 a run still in progress; migration 0027's triggers keep their summaries as the runs are written.
Each page is the repository's own query (the page's ids and the total), timed as the fastest of
``--rounds`` (the machine's other load only ever adds time); the first page and one deep page (offset
50,000) of each, first with the indexes, then with them dropped. The run list's order by duration (its own
index in 0027) is timed the same way. Ends with one line of key=value figures (milliseconds; ``*_ratio``:
without the indexes against with them).

    python bench/suite_runs_list.py [--suite-runs 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from orchestra.embedded_pg import EmbeddedPostgres
from orchestra.migrate import upgrade_to_head
from orchestra.models.run_states import RunStatus
from orchestra.runs import repository, suite_run_list

SUITES = 20
CASES = 200
RUNS_PER_SUITE_RUN = 3
# Migration 0027's indexes: what this benchmark drops to time the lists without them.
INDEXES = (
    "ix_suite_runs_tenant_created",
    "ix_suite_runs_tenant_name",
    "ix_suite_runs_tenant_status",
    "ix_suite_runs_tenant_duration",
    "ix_suite_runs_suite_created",
    "ix_test_runs_tenant_duration",
)
SEED = """
INSERT INTO tenants (id, name) VALUES (:tenant, 'bench');
INSERT INTO projects (id, tenant_id, name) VALUES (:project, :tenant, 'bench');
INSERT INTO environments (id, tenant_id, project_id, name, base_url, variables, secrets)
  SELECT gen_random_uuid(), :tenant, :project, 'env' || i, 'http://sut', '{{}}', '{{}}'
  FROM generate_series(1, 2) i;
INSERT INTO suites (id, tenant_id, project_id, name, definition)
  SELECT gen_random_uuid(), :tenant, :project, 'suite' || i, '{{}}' FROM generate_series(1, {suites}) i;
INSERT INTO test_cases (id, tenant_id, project_id, name, current_version)
  SELECT gen_random_uuid(), :tenant, :project, 'case' || i, 1 FROM generate_series(1, {cases}) i;
INSERT INTO test_case_versions (id, tenant_id, test_case_id, version, definition, content_hash)
  SELECT gen_random_uuid(), :tenant, id, 1, '{{}}', 'h' FROM test_cases;
"""
SUITE_RUNS = """
WITH s AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, name FROM suites),
     e AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM environments)
INSERT INTO suite_runs (id, tenant_id, project_id, suite_id, environment_id, name, priority, trigger,
                        variables, created_at)
SELECT gen_random_uuid(), :tenant, :project, s.id, e.id, s.name || ' nightly ' || (g.i % 7), 0,
       CASE WHEN g.i % 3 = 0 THEN 'ci' ELSE 'schedule' END, '{{}}',
       now() - (g.i::float / :suite_runs) * interval '60 days'
FROM generate_series(1, :suite_runs) g(i) JOIN s ON s.n = g.i % {suites} JOIN e ON e.n = g.i % 2
"""
# Run k of each suite run (k < 3): the suite run's n-th in creation order decides its runs' verdicts.
RUNS = """
WITH sr AS (SELECT row_number() OVER (ORDER BY created_at) AS n, id, environment_id, created_at
            FROM suite_runs),
     c AS (SELECT row_number() OVER (ORDER BY t.id) - 1 AS n, t.id AS case_id, v.id AS version_id, t.name
           FROM test_cases t JOIN test_case_versions v ON v.test_case_id = t.id)
INSERT INTO test_runs (id, tenant_id, project_id, suite_run_id, test_case_id, test_case_version_id,
                       environment_id, name, status, priority, queue_key, trigger, attempt, fencing_token,
                       cancel_requested, variables, context, created_at, started_at, finished_at)
SELECT gen_random_uuid(), :tenant, :project, sr.id, c.case_id, c.version_id, sr.environment_id, c.name,
       CASE WHEN k = 2 AND sr.n % 100 = 0 THEN 'IN_PROGRESS'
            WHEN k = 1 AND (sr.n % 10 = 0 OR sr.n % 50 = 7) THEN 'FAILED' ELSE 'PASSED' END,
       0, 0, 'schedule', 1, 1, false, '{{}}', '{{}}', sr.created_at, sr.created_at + k * interval '1 s',
       CASE WHEN k = 2 AND sr.n % 100 = 0 THEN NULL
            ELSE sr.created_at + k * interval '1 s' + (sr.n % 997) * interval '1 ms' END
FROM sr CROSS JOIN generate_series(0, {per} - 1) k JOIN c ON c.n = ((sr.n - 1) * {per} + k) % {cases}
"""
# One suite run in 50 had its failed run retried, and the retry passed.
RETRIES = """
WITH sr AS (SELECT row_number() OVER (ORDER BY created_at) AS n, id FROM suite_runs)
INSERT INTO test_runs (id, tenant_id, project_id, suite_run_id, test_case_id, test_case_version_id,
                       environment_id, name, status, priority, queue_key, trigger, attempt, fencing_token,
                       cancel_requested, variables, context, created_at, started_at, finished_at, retry_of_id)
SELECT gen_random_uuid(), r.tenant_id, r.project_id, r.suite_run_id, r.test_case_id, r.test_case_version_id,
       r.environment_id, r.name, 'PASSED', 0, 0, r.trigger, 1, 1, false, '{}', '{}', r.created_at,
       r.finished_at, r.finished_at + interval '5 ms', r.id
FROM test_runs r JOIN sr ON sr.id = r.suite_run_id
WHERE r.status = 'FAILED' AND sr.n % 50 = 7
"""

Timed = Callable[[AsyncSession, int], Awaitable[int]]


async def fastest(session: AsyncSession, rounds: int, offset: int, page: Timed) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = await page(session, offset)
        best = min(best, time.perf_counter() - started)
        assert total > 0
        await session.rollback()
    return best * 1000


def suite_runs_page(tenant: uuid.UUID, sort: str = "-created_at", **wanted: Any) -> Timed:
    async def page(session: AsyncSession, offset: int) -> int:
        narrowing = suite_run_list.SuiteRunNarrowing(**wanted)
        ids, total = await suite_run_list.list_suite_runs(session, tenant, 25, offset, narrowing, sort)
        assert ids or offset >= total
        return total

    return page


def runs_page(tenant: uuid.UUID, sort: str) -> Timed:
    async def page(session: AsyncSession, offset: int) -> int:
        return (await repository.list_runs(session, tenant, {}, 25, offset, sort=sort))[1]

    return page


async def measure(
    engine: AsyncEngine, cases: dict[str, Timed], rounds: int, deep: int
) -> dict[str, tuple[float, float]]:
    figures = {}
    async with AsyncSession(engine) as session:
        for page in cases.values():  # warm the cache: every case then reads from memory
            await fastest(session, 1, 0, page)
        for name, page in cases.items():
            figures[name] = (
                await fastest(session, rounds, 0, page),
                await fastest(session, rounds, deep, page),
            )
    return figures


async def seed(engine: AsyncEngine, tenant: uuid.UUID, project: uuid.UUID, suite_runs: int) -> None:
    params = {"tenant": tenant, "project": project}
    async with AsyncSession(engine) as session, session.begin():
        for statement in SEED.format(suites=SUITES, cases=CASES).split(";"):
            if statement.strip():
                await session.execute(text(statement), params)
        await session.execute(text(SUITE_RUNS.format(suites=SUITES)), {**params, "suite_runs": suite_runs})
        await session.execute(text(RUNS.format(per=RUNS_PER_SUITE_RUN, cases=CASES)), params)
        await session.execute(text(RETRIES))
    async with engine.connect() as connection:
        await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(
            text("VACUUM ANALYZE")
        )


async def main(suite_runs: int, rounds: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-suite-runs-list-"))
    server = EmbeddedPostgres(directory)
    try:
        engine = create_async_engine(server.start())
        await upgrade_to_head(engine)
        tenant, project = uuid.uuid4(), uuid.uuid4()
        await seed(engine, tenant, project, suite_runs)
        now = datetime.now(UTC)
        cases: dict[str, Timed] = {
            "default": suite_runs_page(tenant),
            **{
                f"sort_{key.replace('-', 'desc_')}": suite_runs_page(tenant, key)
                for key in ["created_at", "name", "-name", "status", "-status", "duration", "-duration"]
            },
            "status_failed": suite_runs_page(tenant, status=RunStatus.FAILED),
            "status_in_progress": suite_runs_page(tenant, status=RunStatus.IN_PROGRESS),
            "q": suite_runs_page(tenant, text="suite1 nightly 3"),
            "project": suite_runs_page(tenant, project_id=project),
            "window": suite_runs_page(tenant, created_after=now - timedelta(days=30)),
            "suite_trigger_window_by_name": suite_runs_page(
                tenant, "name", suite_ref="suite3", trigger="ci", created_after=now - timedelta(days=30)
            ),
            "runs_sort_duration": runs_page(tenant, "duration"),
            "runs_sort_desc_duration": runs_page(tenant, "-duration"),
        }
        deep = suite_runs // 2
        indexed = await measure(engine, cases, rounds, deep)
        async with engine.begin() as connection:
            for index in INDEXES:
                await connection.execute(text(f"DROP INDEX {index}"))
            await connection.execute(text("ANALYZE"))
        bare = await measure(engine, cases, rounds, deep)
        await engine.dispose()
        print(f"{'page':<30} {'first (ms)':>11} {'no index':>9} {f'offset {deep}':>13} {'no index':>9}")
        for name, (first, deep_ms) in indexed.items():
            print(f"{name:<30} {first:>11.1f} {bare[name][0]:>9.1f} {deep_ms:>13.1f} {bare[name][1]:>9.1f}")
        print(
            f"suite_runs={suite_runs} runs={suite_runs * RUNS_PER_SUITE_RUN} "
            + " ".join(
                f"{name}_ms={first:.1f} {name}_deep_ms={deep_ms:.1f} {name}_noindex_ms={bare[name][0]:.1f} "
                f"{name}_ratio={bare[name][0] / first:.2f}"
                for name, (first, deep_ms) in indexed.items()
            )
        )
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--suite-runs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.suite_runs, args.rounds))
