"""Per SUT operation trends from the daily rollup (``operation_days``, migration 0028): calls and errors
exact, latency percentiles from logarithmic buckets, within ``RELATIVE_ERROR`` of trends.operations_sql's.

A bucket ``b`` holds the latencies in [G^b, G^(b+1)) ms (G = 1.02), ``ZERO_BUCKET`` those of 0 ms or less.
A percentile is interpolated like percentile_cont between the values of rank floor(p·(n-1)) and
ceil(p·(n-1)), each taken as its bucket's middle, (G^b + G^(b+1)) / 2, which is within (G - 1) / 2 = 1 % of
any value of the bucket; an interpolation between two values each within 1 % is within 1 % of the exact
one. The window's first, partial day and the runs whose verdict the reaper gave (``operation_backlog``) are
counted from their steps into the same buckets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from orchestra.insights.flakiness_rollups import Window
from orchestra.insights.trends import ID_SEGMENT, PATH_OF_URL, Scope

GROWTH = 1.02
ZERO_BUCKET = -1_000_000
RELATIVE_ERROR = (GROWTH - 1) / 2
BUCKET = (
    f"CASE WHEN s.duration_ms <= 0 THEN {ZERO_BUCKET} "
    f"ELSE floor(ln(s.duration_ms) / ln({GROWTH}))::integer END"
)
_PATH = (
    "regexp_replace(regexp_replace(regexp_replace(s.request->>'url', :origin, ''), '[?#].*$', ''), "
    ":id_segment, '/{id}', 'g')"
)


def usable(scope: Scope) -> bool:
    """The rollup has no test case nor suite: their operations are computed from their steps."""
    return scope.test_case_id is None and scope.suite_id is None


def _live_calls(where: str) -> str:
    return f"""
        SELECT upper(coalesce(s.request->>'method', 'GET')) AS method,
               CASE WHEN {_PATH} = '' THEN '/' ELSE {_PATH} END AS path,
               {BUCKET} AS bucket, count(*) AS calls,
               count(*) FILTER (WHERE ((s.response->>'status') ~ '^[0-9]+$'
                                       AND (s.response->>'status')::int < 500) IS NOT TRUE) AS errors
        FROM test_runs r JOIN step_results s ON s.test_run_id = r.id
        WHERE {where} AND s.request->>'url' IS NOT NULL AND s.status <> 'skipped'
        GROUP BY 1, 2, 3"""


def _calls(scope: Scope) -> tuple[str, dict[str, Any]]:
    """The window's calls by operation and bucket, as rows to add up: the rollup's days, and the partial
    first day from its steps: the window's part of it added, or (when that is the larger part) the whole
    day from the rollup and the part before the window subtracted. The runs whose verdict the reaper gave
    are not in the rollup: all of the window's are counted from their steps."""
    window = Window.of(scope.since)
    where, params = scope.where()
    midnight = window.head_end - timedelta(days=1)
    backlog = "r.id IN (SELECT b.test_run_id FROM operation_backlog b WHERE b.project_id = :project)"
    first_day = window.first_day
    partial = window.first_day != scope.since.astimezone(UTC).date()
    if not partial or scope.since - midnight >= window.head_end - scope.since:
        parts = [
            _live_calls(f"{where} AND r.created_at < :head_end"),
            _live_calls(f"{where} AND r.created_at >= :head_end AND {backlog}"),
        ]
    else:
        first_day = midnight.date()
        start = "r.created_at >= :since"
        assert start in where, where
        before = where.replace(start, "r.created_at >= :midnight AND r.created_at < :since")
        subtracted = _live_calls(f"{before} AND NOT {backlog}")
        parts = [
            _live_calls(f"{where} AND {backlog}"),
            f"SELECT method, path, bucket, -calls, -errors FROM ({subtracted}) before_window",
        ]
    days = ["o.tenant_id = :tenant", "o.project_id = :project", "o.day >= :first_day"]
    if scope.environment_id is not None:
        days.append("o.environment_id = :environment")
    rolled_up = "SELECT o.method, o.path, o.bucket, o.calls, o.errors FROM operation_days o"
    parts.append(f"{rolled_up} WHERE {' AND '.join(days)}")
    return "\nUNION ALL\n".join(parts), {
        **params,
        "head_end": window.head_end,
        "midnight": midnight,
        "first_day": first_day,
        "origin": PATH_OF_URL,
        "id_segment": ID_SEGMENT,
    }


def operations_sql(scope: Scope, limit: int, offset: int) -> tuple[str, dict[str, Any]]:
    """The page of operations (by calls, then method and path) with their buckets, and how many there are."""
    calls, params = _calls(scope)
    sql = f"""
        WITH calls AS ({calls}),
        merged AS (
            SELECT method, path, bucket, sum(calls)::bigint AS calls, sum(errors)::bigint AS errors
            FROM calls GROUP BY 1, 2, 3 HAVING sum(calls) > 0
        ),
        operations AS (
            SELECT method, path, sum(calls)::bigint AS calls, sum(errors)::bigint AS errors
            FROM merged GROUP BY 1, 2
        ),
        page AS (
            SELECT *, count(*) OVER () AS total FROM operations
            ORDER BY calls DESC, method, path LIMIT {int(limit)} OFFSET {int(offset)}
        )
        SELECT p.method, p.path, p.calls, p.errors, p.total,
               array_agg(m.bucket ORDER BY m.bucket) AS buckets,
               array_agg(m.calls ORDER BY m.bucket) AS counts
        FROM page p JOIN merged m ON m.method = p.method AND m.path = p.path
        GROUP BY p.method, p.path, p.calls, p.errors, p.total
        ORDER BY p.calls DESC, p.method, p.path"""
    return sql, params


def middle(bucket: int) -> float:
    """The value a bucket stands for."""
    if bucket == ZERO_BUCKET:
        return 0.0
    return float((GROWTH**bucket + GROWTH ** (bucket + 1)) / 2)


@dataclass(frozen=True, slots=True)
class Histogram:
    buckets: Sequence[int]  # ascending
    counts: Sequence[int]

    def _value(self, rank: int) -> float:
        seen = 0
        for bucket, count in zip(self.buckets, self.counts, strict=True):
            seen += count
            if rank < seen:
                return middle(bucket)
        raise ValueError(f"rank {rank} past the {seen} values")

    def percentile(self, fraction: float) -> float | None:
        """As percentile_cont(fraction) over the values the buckets stand for."""
        total = sum(self.counts)
        if total == 0:
            return None
        position = fraction * (total - 1)
        low, high = math.floor(position), math.ceil(position)
        below = self._value(low)
        return below + (position - low) * (self._value(high) - below)
