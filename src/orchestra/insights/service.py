"""Insights of a project's history: flakiness, run comparison, trends. Reads only; under the tenant's RLS."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.environments import service as environments
from orchestra.errors import InvalidInput, NotFound
from orchestra.insights import (
    comparison,
    flakiness,
    flakiness_queries,
    flakiness_rollups,
    operation_rollups,
    repository,
    trend_rollups,
    trends,
)
from orchestra.insights.schemas import (
    FlakinessOut,
    FlipOut,
    OperationStats,
    RunComparison,
    RunSide,
    StepFailures,
    StepFlakinessOut,
    TrendBucket,
    TrendsOut,
)
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import TestCase, TestRun
from orchestra.projects import service as projects
from orchestra.runs import service as runs
from orchestra.runs.schemas import RunOut
from orchestra.suites import service as suites
from orchestra.testcases import service as testcases

LAST_PASS = "last_pass"


async def scope(
    session: AsyncSession,
    actor: Actor,
    project: str,
    days: int,
    environment: str | None = None,
    test_case: str | None = None,
    suite: str | None = None,
) -> trends.Scope:
    """The runs a question is about, its references resolved (an unknown one is a 404)."""
    owner = await projects.get(session, actor, project)
    return trends.Scope(
        tenant_id=actor.tenant_id,
        project_id=owner.id,
        since=datetime.now(UTC) - timedelta(days=days),
        environment_id=(await environments.get(session, actor, owner, environment)).id
        if environment
        else None,
        test_case_id=(await testcases.get_case(session, actor, owner, test_case)).id if test_case else None,
        suite_id=(await suites.get(session, actor, owner, suite)).id if suite else None,
    )


def _flakiness_out(score: flakiness.CaseScore, name: str) -> FlakinessOut:
    return FlakinessOut(
        test_case_id=score.test_case_id,
        test_case=name,
        classification=score.classification,
        score=score.score,
        runs=score.runs,
        passes=score.passes,
        failures=score.failures,
        flips=score.flips,
        transitions=score.transitions,
        recoveries=score.recoveries,
        retried_passes=score.retried_passes,
        latest_run=score.latest_run,
        evidence=[FlipOut.model_validate(flip, from_attributes=True) for flip in score.flip_evidence],
        passed_on_retry=score.passed_on_retry,
        retry_evidence=[FlipOut.model_validate(flip, from_attributes=True) for flip in score.retry_evidence],
        steps=[StepFlakinessOut.model_validate(step, from_attributes=True) for step in score.steps],
    )


async def flakiness_page(
    session: AsyncSession,
    where: trends.Scope,
    page: PageParams,
    classification: flakiness.Classification | None = None,
) -> Page[FlakinessOut]:
    """Every test case of the scope with a verdict in the window, the flakiest first: all of them counted
    in SQL (from the daily rollup where it serves the scope), then the page's evidence and steps."""
    rolled = flakiness_rollups.usable(where)
    counted = flakiness_rollups.case_counts if rolled else flakiness_queries.case_counts
    counts = flakiness.flakiest_first(await counted(session, where))
    if classification is not None:
        counts = [case for case in counts if case.classification == classification]
    shown = counts[page.offset : page.offset + page.limit]
    cases = [case.test_case_id for case in shown]
    evidence = flakiness_queries.Evidence()
    if cases and rolled:
        ends = await flakiness_rollups.evidence_ends(session, where, cases)
        if ends:
            evidence = await flakiness_queries.evidence(session, where, list(ends), ends)
    elif cases:
        evidence = await flakiness_queries.evidence(session, where, cases)
    step_scores = flakiness_rollups.step_scores if rolled else flakiness_queries.step_scores
    steps = await step_scores(session, where, cases) if cases else {}
    found = await session.execute(select(TestCase.id, TestCase.name).where(TestCase.id.in_(cases)))
    names: dict[uuid.UUID, str] = dict(found.all())
    return Page[FlakinessOut](
        items=[
            _flakiness_out(
                flakiness.CaseScore.of(
                    case,
                    evidence.flips.get(case.test_case_id, []),
                    evidence.retries.get(case.test_case_id, []),
                    steps.get(case.test_case_id, []),
                ),
                names.get(case.test_case_id, ""),
            )
            for case in shown
        ],
        total=len(counts),
        limit=page.limit,
        offset=page.offset,
    )


def _side(run: RunOut) -> RunSide:
    return RunSide(
        id=run.id,
        status=run.status,
        test_case_version=run.test_case_version,
        environment=run.environment,
        created_at=run.created_at,
        duration_ms=run.duration_ms,
    )


async def _stored_run(session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> TestRun:
    run = await session.get(TestRun, run_id)
    if run is None or run.tenant_id != actor.tenant_id:
        raise NotFound(f"run {run_id} does not exist")
    return run


async def compare(session: AsyncSession, actor: Actor, run_id: uuid.UUID, other: str) -> RunComparison:
    """Run ``run_id`` (left) beside ``other`` (right): a run id, or ``last_pass``, the latest run of the same
    test case on the same environment that passed before it."""
    left_row = await _stored_run(session, actor, run_id)
    if other == LAST_PASS:
        found = await repository.last_pass_before(session, actor.tenant_id, left_row)
        if found is None:
            raise NotFound(f"run {run_id} has no passing run of its test case and environment before it")
        right_id = found
    else:
        try:
            right_id = uuid.UUID(other)
        except ValueError:
            raise InvalidInput(f"'with' must be a run id or '{LAST_PASS}'") from None
    right_row = await _stored_run(session, actor, right_id)
    if right_row.test_case_id != left_row.test_case_id:
        raise InvalidInput(f"runs {run_id} and {right_id} are runs of different test cases")
    left = await runs.get_run(session, actor, run_id)
    right = await runs.get_run(session, actor, right_id)
    variables: tuple[Any, Any] = (left_row.context.get("vars", {}), right_row.context.get("vars", {}))
    return RunComparison(
        test_case_id=left.test_case_id,
        left=_side(left),
        right=_side(right),
        steps=comparison.compare_steps(left.steps or [], right.steps or []),
        captured=comparison.differences(*variables),
    )


async def trends_of(session: AsyncSession, where: trends.Scope, bucket: str) -> TrendsOut:
    """Days and weeks of a project or environment from the daily rollup (duration percentiles within
    operation_rollups.RELATIVE_ERROR), else from the runs."""
    if trend_rollups.usable(where, bucket):
        found = await trend_rollups.trend_buckets(session, where, bucket)
    else:
        sql, params = trends.buckets_sql(where, bucket)
        found = [trend_rollups.Bucket(**row) for row in await repository.rows(session, sql, params)]
    buckets = [_trend_bucket(row) for row in found]
    sql, params = trends.failures_by_step_sql(where)
    failing = [StepFailures(**row) for row in await repository.rows(session, sql, params)]
    return TrendsOut(bucket=bucket, since=where.since, buckets=buckets, failures_by_step=failing)


def _trend_bucket(row: trend_rollups.Bucket) -> TrendBucket:
    return TrendBucket(
        start=row.start,
        runs=row.runs,
        passes=row.passes,
        pass_rate=round(row.passes / row.runs, 4) if row.runs else None,
        duration_p50_ms=_ms(row.p50),
        duration_p95_ms=_ms(row.p95),
    )


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


async def operations_page(
    session: AsyncSession, where: trends.Scope, page: PageParams
) -> Page[OperationStats]:
    """The operations the scope's steps called, by calls: from the daily rollup where it serves the scope
    (latency percentiles within operation_rollups.RELATIVE_ERROR), else from the steps."""
    if operation_rollups.usable(where):
        return await _rolled_up_operations(session, where, page)
    sql, params = trends.operations_sql(where, page.limit, page.offset)
    found = await repository.rows(session, sql, params)
    items = [
        OperationStats(
            method=row["method"],
            path=row["path"],
            calls=row["calls"],
            errors=row["errors"],
            error_rate=round(row["errors"] / row["calls"], 4),
            latency_p50_ms=_ms(row["p50"]),
            latency_p95_ms=_ms(row["p95"]),
        )
        for row in found
    ]
    total = int(found[0]["total"]) if found else 0
    if not found and page.offset:  # past the end: the total still says how many there are
        sql, params = trends.operations_sql(where, 1, 0)
        first = await repository.rows(session, sql, params)
        total = int(first[0]["total"]) if first else 0
    return Page[OperationStats](items=items, total=total, limit=page.limit, offset=page.offset)


async def _rolled_up_operations(
    session: AsyncSession, where: trends.Scope, page: PageParams
) -> Page[OperationStats]:
    sql, params = operation_rollups.operations_sql(where, page.limit, page.offset)
    found = await repository.rows(session, sql, params)
    items = []
    for row in found:
        latency = operation_rollups.Histogram(row["buckets"], row["counts"])
        items.append(
            OperationStats(
                method=row["method"],
                path=row["path"],
                calls=row["calls"],
                errors=row["errors"],
                error_rate=round(row["errors"] / row["calls"], 4),
                latency_p50_ms=_ms(latency.percentile(0.5)),
                latency_p95_ms=_ms(latency.percentile(0.95)),
            )
        )
    total = int(found[0]["total"]) if found else 0
    if not found and page.offset:  # past the end: the total still says how many there are
        sql, params = operation_rollups.operations_sql(where, 1, 0)
        first = await repository.rows(session, sql, params)
        total = int(first[0]["total"]) if first else 0
    return Page[OperationStats](items=items, total=total, limit=page.limit, offset=page.offset)
