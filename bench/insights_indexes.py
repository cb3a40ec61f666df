"""Benchmark: the insights queries on a generated history of a million runs, before and after (a baseline
in the same process, on one embedded PostgreSQL): before, without the indexes of migrations 0018 and 0025 and
with flakiness scored in Python as it was; after, with the indexes and flakiness as the endpoint computes it
(since migration 0028, from the daily rollups).

One project, 200 test cases on 2 environments, runs spread over 60 days (90 % passed, the rest failed, each
with one step that called the SUT); the failures of all but the last day are in 10 failure groups, those of
the last day not grouped yet. Each query is the one the endpoint runs (the repositories' own functions and
SQL; flakiness: the first page of 50 test cases with their evidence and steps), timed as the fastest of
``--rounds`` (the machine's other load only ever adds time), the cache warm, first before, then after. The
table is vacuumed once after it is generated (as autovacuum would have), so that index-only scans read no
table.

Then a grouping pass (insights/grouping.py) over ``--messages`` distinct causes, each with a group already,
and five times as many failures not grouped yet: the pass as it is (a batch's existing groups found in one
query, its runs assigned in one statement) against the pass with one group query per new fingerprint and one
assignment per group (how it worked before), in the same process on the same data, each rolled back; the
figures are the fastest round and the SQL statements each pass sent. Ends with one line of key=value figures
(milliseconds).

Then the daily rollups (migrations 0028 and 0029, kept by triggers while the history is generated): the
flakiness page (the first 50 test cases, their counts, evidence and steps), the page of SUT operations and
the trends by day, each computed from the runs (flakiness_queries.py, trends.operations_sql,
trends.buckets_sql: how they were computed before the rollups) and from the rollups (what the endpoints do
now), in the same process on the same data, fastest of ``--rounds``. The two flakiness pages must be equal,
the operations' calls and errors and the trends' runs and passes equal, and their percentiles within
operation_rollups.RELATIVE_ERROR.

    python bench/insights_indexes.py [--runs 1000000] [--rounds 3] [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from orchestra.embedded_pg import EmbeddedPostgres
from orchestra.insights import (
    flakiness,
    flakiness_queries,
    group_repository,
    grouping,
    operation_rollups,
    repository,
    service,
    trend_rollups,
    trends,
)
from orchestra.insights.failure_messages import fingerprint, normalise
from orchestra.kit.pagination import PageParams
from orchestra.migrate import upgrade_to_head
from orchestra.models import FailureGroup, TestRun

INDEXES = {  # migration 0018's and 0025's, as they create them
    "ix_test_runs_failure_group": "(failure_group_id, created_at) WHERE failure_group_id IS NOT NULL",
    "ix_test_runs_grouped_failures": "(project_id, created_at) INCLUDE (failure_group_id, test_case_id, "
    "environment_id) WHERE failure_group_id IS NOT NULL",
    "ix_test_runs_ungrouped_failures": "(project_id, created_at) WHERE failure_group_id IS NULL AND status "
    "IN ('FAILED', 'ERROR', 'TIMED_OUT') AND test_case_id IS NOT NULL",
    "ix_test_runs_flakiness_series": "(project_id, test_case_id, environment_id, test_case_version_id, "
    "created_at, id) INCLUDE (status, retry_of_id, tenant_id) WHERE status IN ('PASSED', 'FAILED', 'ERROR', "
    "'TIMED_OUT') AND test_case_id IS NOT NULL AND test_case_version_id IS NOT NULL",
}
CASES, GROUPS, DAYS, PAGE = 200, 10, 60, 50

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


Query = Callable[[AsyncSession], Awaitable[Any]]

FORMER_VERDICTS = """
SELECT id, test_case_id, environment_id, test_case_version_id, status, created_at, retry_of_id FROM test_runs
WHERE tenant_id = :tenant AND project_id = :project AND created_at >= :since AND status IN :verdicts
  AND test_case_id IS NOT NULL AND test_case_version_id IS NOT NULL
UNION ALL
SELECT id, test_case_id, environment_id, test_case_version_id, status, created_at, retry_of_id
FROM run_verdicts
WHERE tenant_id = :tenant AND project_id = :project AND created_at >= :since AND status IN :verdicts
"""
FORMER_STEPS = """
SELECT test_run_id, phase, name, status, attempts FROM step_results WHERE test_run_id = ANY(:runs)
ORDER BY test_run_id, seq
"""


async def former_flakiness_page(session: AsyncSession, scope: trends.Scope) -> list[uuid.UUID]:
    """How the flakiness page was computed before: every run of the window read into Python and scored
    there, then the page's runs again with their steps (in batches of 5,000 runs)."""
    params = {"tenant": scope.tenant_id, "project": scope.project_id, "since": scope.since}
    verdicts = text(FORMER_VERDICTS).bindparams(bindparam("verdicts", expanding=True))
    observed = [
        flakiness.RunObservation(*row[:6], retry_of=row[6])
        for row in await session.execute(verdicts, {**params, "verdicts": repository.VERDICTS})
    ]
    cases = {score.test_case_id for score in flakiness.score_cases(observed)[:PAGE]}
    page_runs = [run for run in observed if run.test_case_id in cases]
    steps: dict[uuid.UUID, list[flakiness.StepObservation]] = defaultdict(list)
    for start in range(0, len(page_runs), 5000):
        ids = [run.id for run in page_runs[start : start + 5000]]
        for run_id, *step in await session.execute(text(FORMER_STEPS), {"runs": ids}):
            steps[run_id].append(flakiness.StepObservation(*step))
    scores = flakiness.score_cases(replace(run, steps=tuple(steps[run.id])) for run in page_runs)
    return [score.test_case_id for score in scores]


async def flakiness_page(session: AsyncSession, scope: trends.Scope) -> list[uuid.UUID]:
    page = await service.flakiness_page(session, scope, PageParams(limit=PAGE))
    return [item.test_case_id for item in page.items]


def queries(tenant: uuid.UUID, project: uuid.UUID, after: bool) -> dict[str, Query]:
    since = datetime.now(UTC) - timedelta(days=30)
    scope = trends.Scope(tenant, project, since)

    async def flakiness(session: AsyncSession) -> Any:
        return await (flakiness_page if after else former_flakiness_page)(session, scope)

    async def trend_buckets(session: AsyncSession) -> Any:
        sql, params = trends.buckets_sql(scope, "day")
        return await repository.rows(session, sql, params)

    async def trend_step_failures(session: AsyncSession) -> Any:  # the trends page's failures by step
        sql, params = trends.failures_by_step_sql(scope)
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
        "trend_step_failures": trend_step_failures,
        "operations": operations,
        "failure_groups": failure_groups,
        "ungrouped_failures": ungrouped,
        "group_members": group_members,
    }


GROUPING_SEED = """
INSERT INTO projects (id, tenant_id, name) VALUES (:project, :tenant, 'bench-groups');
INSERT INTO environments (id, tenant_id, project_id, name, base_url, variables, secrets)
  VALUES (:environment, :tenant, :project, 'env', 'http://sut', '{}', '{}');
INSERT INTO test_cases (id, tenant_id, project_id, name, current_version)
  VALUES (:case, :tenant, :project, 'case', 1);
INSERT INTO test_case_versions (id, tenant_id, test_case_id, version, definition, content_hash)
  VALUES (:version, :tenant, :case, 1, '{}', 'h');
INSERT INTO test_runs (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id, name,
                       status, status_reason, priority, queue_key, trigger, attempt, fencing_token,
                       cancel_requested, variables, context, created_at)
  SELECT gen_random_uuid(), :tenant, :project, :case, :version, :environment, 'run', 'FAILED',
         (CAST(:reasons AS text[]))[1 + i % cardinality(CAST(:reasons AS text[]))],
         0, 0, 'api', 1, 1, false, '{}', '{}',
         now() - interval '1 hour' + i * interval '1 ms'
  FROM generate_series(0, :failures - 1) i
"""


def cause(number: int) -> str:
    """A cause in words (digits would be masked): 'cause bcd …', distinct for each number."""
    letters = "".join("bcdfghjklmnpqrstvwxz"[int(digit)] for digit in f"{number:06d}")
    return f"upstream {letters} refused the call"


async def seed_grouping(session: AsyncSession, tenant: uuid.UUID, messages: int) -> uuid.UUID:
    """A project whose failures have ``messages`` causes, each with its group, none grouped yet."""
    project = uuid.uuid4()
    reasons = [cause(number) for number in range(messages)]
    params = {
        "tenant": tenant,
        "project": project,
        "environment": uuid.uuid4(),
        "case": uuid.uuid4(),
        "version": uuid.uuid4(),
        "reasons": reasons,
        "failures": messages * 5,
    }
    for statement in GROUPING_SEED.split(";"):
        if statement.strip():
            await session.execute(text(statement), params)
    first = (await session.execute(select(TestRun.id).where(TestRun.project_id == project).limit(1))).scalar()
    for reason in reasons:
        signature = normalise(f"FAILED: {reason}")
        session.add(
            FailureGroup(
                id=uuid.uuid4(),
                tenant_id=tenant,
                project_id=project,
                fingerprint=fingerprint(signature),
                signature=signature,
                embedding=grouping.EMBEDDER.vector(signature),
                first_run_id=first,
                first_seen_at=datetime.now(UTC) - timedelta(days=2),
                last_seen_at=datetime.now(UTC) - timedelta(days=2),
                failures=0,
            )
        )
    await session.flush()
    return project


async def one_query_per_fingerprint(
    session: AsyncSession, project_id: uuid.UUID, fingerprints: list[str]
) -> dict[str, FailureGroup]:
    """How the pass found existing groups before: one query per fingerprint new to the pass."""
    found = {}
    for key in fingerprints:
        query = select(FailureGroup).where(
            FailureGroup.project_id == project_id, FailureGroup.fingerprint == key
        )
        group = (await session.execute(query)).scalar_one_or_none()
        if group is not None:
            found[key] = group
    return found


async def one_update_per_group(session: AsyncSession, groups_of: dict[uuid.UUID, uuid.UUID]) -> None:
    """How the pass assigned runs before: one statement per group."""
    members: dict[uuid.UUID, list[uuid.UUID]] = {}
    for run_id, group_id in groups_of.items():
        members.setdefault(group_id, []).append(run_id)
    for group_id, run_ids in members.items():
        await session.execute(
            update(TestRun).where(TestRun.id.in_(run_ids)).values(failure_group_id=group_id),
            execution_options={"synchronize_session": False},
        )


async def grouping_pass(
    engine: AsyncEngine, tenant: uuid.UUID, project: uuid.UUID, rounds: int
) -> tuple[float, int, int]:
    """The fastest of ``rounds`` grouping passes (each rolled back), the statements one sent, the runs
    grouped."""
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    best, sent, grouped = float("inf"), 0, 0
    for _ in range(rounds):
        async with AsyncSession(engine) as session:
            await session.begin()
            statements = 0
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            started = time.perf_counter()
            grouped = await grouping.group_failures(session, tenant, project)
            best = min(best, time.perf_counter() - started)
            event.remove(engine.sync_engine, "before_cursor_execute", count)
            sent = statements
            await session.rollback()
    return best * 1000, sent, grouped


async def flakiness_from_runs(session: AsyncSession, scope: trends.Scope) -> list[flakiness.CaseScore]:
    """The first page of the flakiness page as it was computed before the rollups: every case counted
    over the window's runs, the page's evidence and steps read from all of their runs."""
    counts = flakiness.flakiest_first(await flakiness_queries.case_counts(session, scope))[:PAGE]
    cases = [case.test_case_id for case in counts]
    evidence = await flakiness_queries.evidence(session, scope, cases)
    steps = await flakiness_queries.step_scores(session, scope, cases)
    return [
        flakiness.CaseScore.of(
            case,
            evidence.flips.get(case.test_case_id, []),
            evidence.retries.get(case.test_case_id, []),
            steps.get(case.test_case_id, []),
        )
        for case in counts
    ]


async def flakiness_from_rollups(session: AsyncSession, scope: trends.Scope) -> list[Any]:
    page = await service.flakiness_page(session, scope, PageParams(limit=PAGE))
    return list(page.items)


async def operations_from_runs(session: AsyncSession, scope: trends.Scope) -> list[dict[str, Any]]:
    sql, params = trends.operations_sql(scope, PAGE, 0)
    return await repository.rows(session, sql, params)


async def operations_from_rollups(session: AsyncSession, scope: trends.Scope) -> list[Any]:
    page = await service.operations_page(session, scope, PageParams(limit=PAGE))
    return list(page.items)


async def trends_from_runs(session: AsyncSession, scope: trends.Scope) -> list[dict[str, Any]]:
    sql, params = trends.buckets_sql(scope, "day")
    return await repository.rows(session, sql, params)


async def trends_from_rollups(session: AsyncSession, scope: trends.Scope) -> list[Any]:
    assert trend_rollups.usable(scope, "day")
    return [
        service._trend_bucket(found) for found in await trend_rollups.trend_buckets(session, scope, "day")
    ]


def same_trends(from_runs: list[dict[str, Any]], from_rollups: list[Any]) -> None:
    assert [(row["start"], row["runs"], row["passes"]) for row in from_runs] == [
        (item.start, item.runs, item.passes) for item in from_rollups
    ]
    for row, item in zip(from_runs, from_rollups, strict=True):
        for exact, estimate in ((row["p50"], item.duration_p50_ms), (row["p95"], item.duration_p95_ms)):
            bound = operation_rollups.RELATIVE_ERROR * abs(exact) + 0.001  # and the rounding to 3 places
            assert abs(estimate - exact) <= bound, (row, item)


def same_flakiness(from_runs: list[flakiness.CaseScore], from_rollups: list[Any]) -> None:
    assert [case.test_case_id for case in from_runs] == [item.test_case_id for item in from_rollups]
    for case, item in zip(from_runs, from_rollups, strict=True):
        expected = service._flakiness_out(case, item.test_case)
        assert expected == item, (expected, item)


def same_operations(from_runs: list[dict[str, Any]], from_rollups: list[Any]) -> None:
    assert [(row["method"], row["path"]) for row in from_runs] == [(o.method, o.path) for o in from_rollups]
    for row, operation in zip(from_runs, from_rollups, strict=True):
        assert (row["calls"], row["errors"]) == (operation.calls, operation.errors)
        for exact, estimate in (
            (row["p50"], operation.latency_p50_ms),
            (row["p95"], operation.latency_p95_ms),
        ):
            bound = operation_rollups.RELATIVE_ERROR * abs(exact) + 0.001  # and the rounding to 3 places
            assert abs(estimate - exact) <= bound, (row, operation)


async def rollups(engine: AsyncEngine, scope: trends.Scope, rounds: int) -> dict[str, tuple[float, float]]:
    """Milliseconds from the runs and from the rollups, for the flakiness page, the operations and the
    trends (day buckets)."""
    measured: dict[str, tuple[float, float]] = {}
    async with AsyncSession(engine) as session:
        for name, from_runs, from_rollups, same in (
            ("flakiness", flakiness_from_runs, flakiness_from_rollups, same_flakiness),
            ("operations", operations_from_runs, operations_from_rollups, same_operations),
            ("trends", trends_from_runs, trends_from_rollups, same_trends),
        ):
            runs_query: Query = partial(from_runs, scope=scope)
            rollup_query: Query = partial(from_rollups, scope=scope)
            await fastest(session, runs_query, 1)  # the cache warm for both
            await fastest(session, rollup_query, 1)
            runs_ms, expected = await fastest(session, runs_query, rounds)
            rollup_ms, found = await fastest(session, rollup_query, rounds)
            same(expected, found)
            measured[name] = (runs_ms, rollup_ms)
    return measured


async def fastest(session: AsyncSession, query: Query, rounds: int) -> tuple[float, Any]:
    """The fastest of ``rounds`` in milliseconds, and what the query answered."""
    best, answer = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        answer = await query(session)
        best = min(best, time.perf_counter() - started)
        await session.rollback()
    return best * 1000, answer


async def main(runs: int, rounds: int, messages: int) -> None:
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
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
        figures: dict[str, tuple[float, float]] = {}
        async with AsyncSession(engine) as session:
            before: dict[str, tuple[float, Any]] = {}
            async with session.begin():
                for name in INDEXES:
                    await session.execute(text(f"DROP INDEX {name}"))
            await session.execute(text("ANALYZE test_runs"))
            await session.commit()
            measured = queries(tenant, project, after=False)
            for query in measured.values():  # warm the cache: both sides then read from memory
                await fastest(session, query, 1)
            for name, query in measured.items():
                before[name] = await fastest(session, query, rounds)
            async with session.begin():
                for name, definition in INDEXES.items():
                    await session.execute(text(f"CREATE INDEX {name} ON test_runs {definition}"))
            await session.execute(text("ANALYZE test_runs"))
            await session.commit()
            measured = queries(tenant, project, after=True)
            for name, query in measured.items():
                after_ms, answer = await fastest(session, query, rounds)
                figures[name] = (before[name][0], after_ms)
                if name == "flakiness":  # the same page, in the same order
                    assert answer == before[name][1], (answer, before[name][1])
        rolled = await rollups(
            engine, trends.Scope(tenant, project, datetime.now(UTC) - timedelta(days=30)), rounds
        )
        async with AsyncSession(engine) as session, session.begin():
            grouped_project = await seed_grouping(session, tenant, messages)
        with (
            mock.patch.object(group_repository, "by_fingerprints", one_query_per_fingerprint),
            mock.patch.object(group_repository, "assign", one_update_per_group),
        ):
            before_ms, before_sent, before_grouped = await grouping_pass(
                engine, tenant, grouped_project, rounds
            )
        after_ms, after_sent, after_grouped = await grouping_pass(engine, tenant, grouped_project, rounds)
        assert before_grouped == after_grouped == messages * 5, (before_grouped, after_grouped)
        await engine.dispose()
        print(f"{'query':<20} {'before (ms)':>12} {'after (ms)':>11}")
        for name, (without, with_) in figures.items():
            print(f"{name:<20} {without:>12.1f} {with_:>11.1f}")
        for name, (from_runs, from_rollups) in rolled.items():
            print(f"{name:<20} from the runs {from_runs:>9.1f} ms, from the rollups {from_rollups:>7.1f} ms")
        print(
            f"grouping pass over {after_grouped} failures of {messages} known causes: "
            f"per fingerprint {before_ms:.1f} ms ({before_sent} statements), "
            f"batched {after_ms:.1f} ms ({after_sent} statements)"
        )
        print(
            f"runs={runs} "
            + " ".join(
                f"{name}_before_ms={without:.1f} {name}_after_ms={with_:.1f}"
                for name, (without, with_) in figures.items()
            )
            + f" grouping_failures={after_grouped} grouping_per_fingerprint_ms={before_ms:.1f}"
            f" grouping_per_fingerprint_statements={before_sent} grouping_batched_ms={after_ms:.1f}"
            f" grouping_batched_statements={after_sent} grouping_speedup={before_ms / after_ms:.2f}"
            + "".join(
                f" {name}_runs_ms={from_runs:.1f} {name}_rollup_ms={from_rollups:.1f}"
                f" {name}_rollup_speedup={from_runs / from_rollups:.1f}"
                for name, (from_runs, from_rollups) in rolled.items()
            )
        )
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000, help="distinct causes in the grouping pass")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.rounds, args.messages))
