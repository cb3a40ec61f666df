"""Trends by day or week from the daily rollup (``trend_days``, migration 0029): the buckets of
trends.buckets_sql with runs and passes exact and the duration percentiles read from the logarithmic buckets
of operation_rollups (within ``operation_rollups.RELATIVE_ERROR`` of the exact ones).

The window's first, partial day (from ``since`` to the next UTC midnight) is counted from its runs and the
compact verdicts of deleted ones into the same buckets (or, when that is the larger part of the day, the
day is read from the rollup and its part before the window subtracted), every later day comes from the
rollup. A suite, a
test case (the rollup has neither: one test case's runs are few and indexed) and hour buckets are computed
from the runs like before."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights import repository
from orchestra.insights.flakiness_rollups import Window
from orchestra.insights.operation_rollups import GROWTH, ZERO_BUCKET, Histogram
from orchestra.insights.trends import Scope

NO_DURATION = -2_000_000  # a verdict without a start or an end: counted, no duration
DURATION = "extract(epoch FROM finished_at - started_at) * 1000"
BUCKET = (
    f"CASE WHEN {DURATION} IS NULL THEN {NO_DURATION} WHEN {DURATION} <= 0 THEN {ZERO_BUCKET} "
    f"ELSE floor(ln({DURATION}) / ln({GROWTH}))::integer END"
)


def usable(scope: Scope, bucket: str) -> bool:
    return bucket in ("day", "week") and scope.suite_id is None and scope.test_case_id is None


def _verdicts(where: str, deleted: str) -> str:
    """The runs and the compact verdicts of deleted ones, counted per trend bucket and duration bucket."""
    return f"""
        SELECT date_trunc(:bucket, created_at, 'UTC') AS start, {BUCKET} AS bucket,
               count(*) AS runs, count(*) FILTER (WHERE status = 'PASSED') AS passes
        FROM (
            SELECT r.created_at, r.status, r.started_at, r.finished_at FROM test_runs r WHERE {where}
            UNION ALL
            SELECT v.created_at, v.status, v.started_at, v.finished_at FROM run_verdicts v WHERE {deleted}
        ) verdicts
        GROUP BY 1, 2"""


def buckets_sql(scope: Scope, bucket: str) -> tuple[str, dict[str, Any]]:
    """Per trend bucket and duration bucket: the runs and the passes, as rows to add up: the rollup's days,
    and the partial first day from its runs: the window's part of it added, or (when that is the larger
    part) the whole day from the rollup and the part before the window subtracted."""
    window = Window.of(scope.since)
    where, params = scope.where()
    deleted = scope.where_deleted()
    midnight = window.head_end - timedelta(days=1)
    first_day = window.first_day
    partial = window.first_day != scope.since.astimezone(UTC).date()
    if not partial or scope.since - midnight >= window.head_end - scope.since:
        head = _verdicts(f"{where} AND r.created_at < :head_end", f"{deleted} AND v.created_at < :head_end")
    else:
        first_day = midnight.date()
        runs_start, verdicts_start = "r.created_at >= :since", "v.created_at >= :since"
        assert runs_start in where, where
        assert verdicts_start in deleted, deleted
        before = _verdicts(
            where.replace(runs_start, "r.created_at >= :midnight AND r.created_at < :since"),
            deleted.replace(verdicts_start, "v.created_at >= :midnight AND v.created_at < :since"),
        )
        head = f"SELECT start, bucket, -runs AS runs, -passes AS passes FROM ({before}) before_window"
    days = ["d.tenant_id = :tenant", "d.project_id = :project", "d.day >= :first_day", "d.runs > 0"]
    if scope.environment_id is not None:
        days.append("d.environment_id = :environment")
    sql = f"""
        WITH parts AS (
            {head}
            UNION ALL
            SELECT date_trunc(:bucket, d.day::timestamp AT TIME ZONE 'UTC', 'UTC'), d.bucket, d.runs, d.passes
            FROM trend_days d WHERE {" AND ".join(days)}
        )
        SELECT start, bucket, sum(runs)::bigint AS runs, sum(passes)::bigint AS passes
        FROM parts GROUP BY 1, 2 HAVING sum(runs) > 0 ORDER BY 1, 2"""
    return sql, {
        **params,
        "bucket": bucket,
        "head_end": window.head_end,
        "midnight": midnight,
        "first_day": first_day,
    }


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    runs: int
    passes: int
    p50: float | None
    p95: float | None


async def trend_buckets(session: AsyncSession, scope: Scope, bucket: str) -> list[Bucket]:
    sql, params = buckets_sql(scope, bucket)
    rows: dict[datetime, list[dict[str, Any]]] = defaultdict(list)
    for row in await repository.rows(session, sql, params):
        rows[row["start"]].append(row)
    found = []
    for start, parts in rows.items():
        timed = [part for part in parts if part["bucket"] != NO_DURATION]
        durations = Histogram([part["bucket"] for part in timed], [part["runs"] for part in timed])
        runs = sum(part["runs"] for part in parts)
        if runs == 0:
            continue
        found.append(
            Bucket(
                start=start,
                runs=runs,
                passes=sum(part["passes"] for part in parts),
                p50=durations.percentile(0.5),
                p95=durations.percentile(0.95),
            )
        )
    return found
