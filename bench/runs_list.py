"""Benchmark: a page of GET /runs on 100,000 runs of one tenant in every order and with each filter, against
the default page (newest first, no filter) in the same process on the same embedded PostgreSQL.

One project, 200 test cases (every tenth tagged ``smoke``) on 2 environments, runs spread over 60 days; each
page is the repository's own query (ids from test_runs, then the page joined), timed as the fastest of
``--rounds`` (the machine's other load only ever adds time). The first page and one deep page (offset
50,000) of each. Ends with one line of key=value figures (milliseconds; ``*_ratio``: against the default).

    python bench/runs_list.py [--runs 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from orchestra.embedded_pg import EmbeddedPostgres
from orchestra.migrate import upgrade_to_head
from orchestra.runs import repository

CASES = 200
SEED = """
INSERT INTO tenants (id, name) VALUES (:tenant, 'bench');
INSERT INTO projects (id, tenant_id, name) VALUES (:project, :tenant, 'bench');
INSERT INTO environments (id, tenant_id, project_id, name, base_url, variables, secrets)
  SELECT gen_random_uuid(), :tenant, :project, 'env' || i, 'http://sut', '{{}}', '{{}}'
  FROM generate_series(1, 2) i;
INSERT INTO test_cases (id, tenant_id, project_id, name, current_version)
  SELECT gen_random_uuid(), :tenant, :project, 'case' || i, 1 FROM generate_series(1, {cases}) i;
INSERT INTO test_case_versions (id, tenant_id, test_case_id, version, definition, content_hash)
  SELECT gen_random_uuid(), :tenant, id, 1,
         CASE WHEN right(name, 1) = '0' THEN '{{"tags": ["smoke"]}}' ELSE '{{}}' END::json, 'h'
  FROM test_cases;
"""
RUNS = """
WITH c AS (SELECT row_number() OVER (ORDER BY t.id) - 1 AS n, t.id AS case_id, v.id AS version_id, t.name
           FROM test_cases t JOIN test_case_versions v ON v.test_case_id = t.id),
     e AS (SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM environments)
INSERT INTO test_runs (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id, name,
                       status, priority, queue_key, trigger, attempt, fencing_token, cancel_requested,
                       variables, context, created_at, started_at, finished_at)
SELECT gen_random_uuid(), :tenant, :project, c.case_id, c.version_id, e.id, c.name || ' row ' || (s.i % 7),
       CASE WHEN s.i % 10 = 0 THEN 'FAILED' ELSE 'PASSED' END, 0, 0, 'api', 1, 1, false, '{{}}', '{{}}',
       s.at, s.at, s.at + (s.i % 997) * interval '1 ms'
FROM (SELECT i, now() - (i::float / :runs) * interval '60 days' AS at FROM generate_series(1, :runs) i) s
JOIN c ON c.n = s.i % {cases} JOIN e ON e.n = s.i % 2
"""


async def fastest(
    session: AsyncSession, tenant: uuid.UUID, rounds: int, offset: int, **options: Any
) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        rows, total = await repository.list_runs(session, tenant, {}, 25, offset, **options)
        best = min(best, time.perf_counter() - started)
        assert total == 0 or rows or offset >= total, options
        await session.rollback()
    return best * 1000


async def main(runs: int, rounds: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-runs-list-"))
    server = EmbeddedPostgres(directory)
    try:
        engine = create_async_engine(server.start())
        await upgrade_to_head(engine)
        tenant, project = uuid.uuid4(), uuid.uuid4()
        params = {"tenant": tenant, "project": project}
        async with AsyncSession(engine) as session, session.begin():
            for statement in SEED.format(cases=CASES).split(";"):
                if statement.strip():
                    await session.execute(text(statement), params)
            await session.execute(text(RUNS.format(cases=CASES)), {**params, "runs": runs})
            await session.execute(text("ANALYZE"))
        now = datetime.now(UTC)
        cases: dict[str, dict[str, Any]] = {
            "default": {},
            **{
                f"sort_{key.replace('-', 'desc_')}": {"sort": key}
                for key in ["created_at", "name", "-name", "status", "-status", "duration", "-duration"]
            },
            "q": {"narrowing": repository.RunNarrowing(text="case1 row")},
            "tag": {"narrowing": repository.RunNarrowing(tag="smoke")},
            "window": {"narrowing": repository.RunNarrowing(created_after=now - timedelta(days=30))},
            "tag_q_window_by_name": {
                "narrowing": repository.RunNarrowing(
                    tag="smoke", text="row 3", created_after=now - timedelta(days=30)
                ),
                "sort": "name",
            },
        }
        figures: dict[str, tuple[float, float]] = {}
        async with AsyncSession(engine) as session:
            for options in cases.values():  # warm the cache: every case then reads from memory
                await fastest(session, tenant, 1, 0, **options)
            for name, options in cases.items():
                figures[name] = (
                    await fastest(session, tenant, rounds, 0, **options),
                    await fastest(session, tenant, rounds, runs // 2, **options),
                )
        await engine.dispose()
        base_first, base_deep = figures["default"]
        deep_heading = f"offset {runs // 2} (ms)"
        print(f"{'page':<24} {'first (ms)':>11} {deep_heading:>20}")
        for name, (first, deep) in figures.items():
            print(f"{name:<24} {first:>11.1f} {deep:>20.1f}")
        print(
            f"runs={runs} "
            + " ".join(
                f"{name}_ms={first:.1f} {name}_ratio={first / base_first:.2f} {name}_deep_ms={deep:.1f}"
                for name, (first, deep) in figures.items()
            )
            + f" default_deep_ratio={base_deep / base_first:.2f}"
        )
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.rounds))
