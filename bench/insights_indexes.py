"""Benchmark: the insights queries on a generated history of a million runs, without and with the indexes
of migration 0018 (a baseline in the same process, on one embedded PostgreSQL).

One project, 200 test cases on 2 environments, runs spread over 60 days (90 % passed, the rest failed, each
with one step that called the SUT); the failures of all but the last day are in 10 failure groups, those of
the last day not grouped yet. Each query is the one the endpoint runs (the repositories' own functions and
SQL), timed as the fastest of ``--rounds`` (the machine's other load only ever adds time), first with the
migration's indexes dropped, then with them. Ends with one line of key=value figures (milliseconds).

    python bench/insights_indexes.py [--runs 1000000] [--rounds 3]
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
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from orchestra.embedded_pg import EmbeddedPostgres
from orchestra.insights import group_repository, repository, trends
from orchestra.migrate import upgrade_to_head

INDEXES = {  # migration 0018's, as it creates them
    "ix_test_runs_failure_group": "(failure_group_id, created_at) WHERE failure_group_id IS NOT NULL",
    "ix_test_runs_grouped_failures": "(project_id, created_at) INCLUDE (failure_group_id, test_case_id, "
    "environment_id) WHERE failure_group_id IS NOT NULL",
    "ix_test_runs_ungrouped_failures": "(project_id, created_at) WHERE failure_group_id IS NULL AND status "
    "IN ('FAILED', 'ERROR', 'TIMED_OUT') AND test_case_id IS NOT NULL",
}
CASES, GROUPS, DAYS = 200, 10, 60

SEED = """
INSERT INTO tenants (id, name) VALUES (:tenant, 'bench');
INSERT INTO projects (id, tenant_id, name) VALUES (:project, :tenant, 'bench');
INSERT INTO environments (id, tenant_id, project_id, name, base_url, variables, secrets)
  SELECT gen_random_uuid(), :tenant, :project, 'env' || i, 'http://sut', '{{}}', '{{}}'
  FROM generate_series(1, 2) i;
INSERT INTO test_cases (id, tenant_id, project_id, name, current_version)
  SELECT gen_random_uuid(), :tenant, :project, 'case' || i, 1 FROM generate_series(1, {cases}) i;
INSERT INTO test_case_versions (id, tenant_id, test_case_id, version, definition, content_hash)
  SELECT gen_random_uuid(), :tenant, id, 1, '{{}}', 'h' FROM test_cases;
INSERT INTO failure_groups (id, tenant_id, project_id, fingerprint, signature, embedding, first_run_id,
                            first_seen_at, last_seen_at, failures)
  SELECT gen_random_uuid(), :tenant, :project, 'f' || i, 's' || i, array_fill(0.0::real, ARRAY[512])::vector,
         gen_random_uuid(), now(), now(), 0 FROM generate_series(1, {groups}) i;
"""
RUNS = """
WITH c AS (SELECT row_number() OVER (ORDER BY t.id) - 1 AS n, t.id AS case_id, v.id AS version_id
           FROM test_cases t JOIN test_case_versions v ON v.test_case_id = t.id),
     e AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM environments),
     g AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM failure_groups)
INSERT INTO test_runs (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id, name,
                       status, priority, queue_key, trigger, attempt, fencing_token, cancel_requested,
                       variables, context, created_at, started_at, finished_at, failure_group_id)
SELECT gen_random_uuid(), :tenant, :project, c.case_id, c.version_id, e.id, 'run',
       CASE WHEN s.i % 10 = 0 THEN 'FAILED' ELSE 'PASSED' END, 0, 0, 'api', 1, 1, false, '{{}}', '{{}}',
       s.at, s.at, s.at + interval '250 ms',
       CASE WHEN s.i % 10 = 0 AND s.at < now() - interval '1 day' THEN g.id END
FROM (SELECT i, now() - (i::float / :runs) * interval '60 days' AS at FROM generate_series(1, :runs) i) s
JOIN c ON c.n = s.i % {cases} JOIN e ON e.n = s.i % 2 JOIN g ON g.n = s.i % {groups}
"""
STEPS = """
INSERT INTO step_results (tenant_id, test_run_id, seq, phase, name, status, attempts, fencing_token, request,
                          response, assertions, started_at, duration_ms)
SELECT tenant_id, id, 0, 'main', 'call', CASE WHEN status = 'PASSED' THEN 'passed' ELSE 'failed' END, 1, 1,
       json_build_object('method', 'GET', 'url', 'http://sut/orders/' || (random() * 1000)::int),
       json_build_object('status', CASE WHEN status = 'PASSED' THEN 200 ELSE 503 END), '[]', created_at, 12.5
FROM test_runs
"""


async def generate(session: AsyncSession, tenant: uuid.UUID, project: uuid.UUID, runs: int) -> None:
    params = {"tenant": tenant, "project": project}
    for statement in SEED.format(cases=CASES, groups=GROUPS).split(";"):
        if statement.strip():
            await session.execute(text(statement), params)
    await session.execute(text(RUNS.format(cases=CASES, groups=GROUPS)), {**params, "runs": runs})
    await session.execute(text(STEPS))
    await session.execute(text("ANALYZE"))


Query = Callable[[AsyncSession], Awaitable[Any]]


def queries(tenant: uuid.UUID, project: uuid.UUID) -> dict[str, Query]:
    since = datetime.now(UTC) - timedelta(days=30)
    scope = trends.Scope(tenant, project, since)

    async def flakiness(session: AsyncSession) -> Any:
        return await repository.verdict_runs(session, tenant, project, since, None, None)

    async def trend_buckets(session: AsyncSession) -> Any:
        sql, params = trends.buckets_sql(scope, "day")
        return await repository.rows(session, sql, params)

    async def operations(session: AsyncSession) -> Any:
        sql, params = trends.operations_sql(scope, 50, 0)
        return await repository.rows(session, sql, params)

    async def failure_groups(session: AsyncSession) -> Any:
        return await group_repository.counts_page(session, tenant, project, since, None, None, None, 50, 0)

    async def ungrouped(session: AsyncSession) -> Any:
        return await group_repository.ungrouped_failures(session, tenant, project, 1000)

    async def group_members(session: AsyncSession) -> Any:
        group = (await session.execute(text("SELECT id FROM failure_groups LIMIT 1"))).scalar_one()
        return await group_repository.latest_members(session, group, 20)

    return {
        "flakiness": flakiness,
        "trends": trend_buckets,
        "operations": operations,
        "failure_groups": failure_groups,
        "ungrouped_failures": ungrouped,
        "group_members": group_members,
    }


async def fastest(session: AsyncSession, query: Query, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        await query(session)
        best = min(best, time.perf_counter() - started)
        await session.rollback()
    return best * 1000


async def main(runs: int, rounds: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-insights-"))
    server = EmbeddedPostgres(directory)
    try:
        engine = create_async_engine(server.start())
        await upgrade_to_head(engine)
        tenant, project = uuid.uuid4(), uuid.uuid4()
        started = time.perf_counter()
        async with AsyncSession(engine) as session, session.begin():
            await generate(session, tenant, project, runs)
        print(f"generated {runs} runs with their steps in {time.perf_counter() - started:.1f} s")
        figures: dict[str, tuple[float, float]] = {}
        measured = queries(tenant, project)
        async with AsyncSession(engine) as session:
            baseline: dict[str, float] = {}
            async with session.begin():
                for name in INDEXES:
                    await session.execute(text(f"DROP INDEX {name}"))
            await session.execute(text("ANALYZE test_runs"))
            await session.commit()
            for query in measured.values():  # warm the cache: both sides then read from memory
                await fastest(session, query, 1)
            for name, query in measured.items():
                baseline[name] = await fastest(session, query, rounds)
            async with session.begin():
                for name, definition in INDEXES.items():
                    await session.execute(text(f"CREATE INDEX {name} ON test_runs {definition}"))
            await session.execute(text("ANALYZE test_runs"))
            await session.commit()
            for name, query in measured.items():
                figures[name] = (baseline[name], await fastest(session, query, rounds))
        await engine.dispose()
        print(f"{'query':<20} {'without (ms)':>13} {'with (ms)':>10}")
        for name, (without, with_) in figures.items():
            print(f"{name:<20} {without:>13.1f} {with_:>10.1f}")
        print(
            f"runs={runs} "
            + " ".join(
                f"{name}_without_ms={without:.1f} {name}_with_ms={with_:.1f}"
                for name, (without, with_) in figures.items()
            )
        )
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.rounds))
