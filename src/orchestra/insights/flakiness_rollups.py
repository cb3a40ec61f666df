"""Flakiness from the daily rollup (``flakiness_days``, migration 0028): the figures of
insights/flakiness_queries.py, read from one row per series and day instead of from every run.

The window starts at an instant, not at midnight: its first, partial day (the *head*) is computed from the
runs like before, every later day comes from the rollup. Per series, the head and the days in order are
*segments*; a series' figures are the sums of its segments' and, between two consecutive segments, one more
transition and a flip when the last verdict of the one and the first of the next differ (what the lag over
the runs compares there). tests/integration/test_flakiness_queries.py checks them equal to the definition.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights.flakiness import MAX_EVIDENCE, PASS, CaseCounts
from orchestra.insights.flakiness_queries import SERIES, observed_runs
from orchestra.insights.trends import Scope


@dataclass(frozen=True, slots=True)
class Window:
    """The window's head (its runs from ``since`` to ``head_end``) and its first whole day in the rollup."""

    head_end: datetime
    first_day: date

    @classmethod
    def of(cls, since: datetime) -> Window:
        since = since.astimezone(UTC)
        midnight = datetime.combine(since.date(), time(), UTC)
        if since == midnight:  # no partial day: the head is empty
            return cls(midnight, since.date())
        return cls(midnight + timedelta(days=1), since.date() + timedelta(days=1))


def usable(scope: Scope) -> bool:
    """The rollup has no suite: a suite's flakiness is computed from its runs."""
    return scope.suite_id is None


def _segments(scope: Scope, cases: Sequence[uuid.UUID] | None) -> tuple[str, dict[str, Any]]:
    """Every series' segments (the head, then each day with a verdict), each with its first and last run and
    the verdict of the segment before it (``passed_before``), and whether it is its series' last."""
    window = Window.of(scope.since)
    observed, params = observed_runs(scope, cases, until=window.head_end)
    days = ["d.tenant_id = :tenant", "d.project_id = :project", "d.day >= :first_day", "d.runs > 0"]
    if scope.environment_id is not None:
        days.append("d.environment_id = :environment")
    if scope.test_case_id is not None:
        days.append("d.test_case_id = :test_case")
    if cases is not None:
        days.append("d.test_case_id = ANY(:cases)")
    sql = f"""
        head_runs AS (
            SELECT *, status = '{PASS}' AS passed, lag(status = '{PASS}') OVER series AS passed_before
            FROM ({observed}) o
            WINDOW series AS ({SERIES})
        ),
        segments AS (
            SELECT test_case_id, environment_id, version_id, CAST(:first_day AS date) - 1 AS day,
                   count(*) AS runs,
                   count(*) FILTER (WHERE passed) AS passes,
                   count(*) FILTER (WHERE passed <> passed_before) AS flips,
                   count(*) FILTER (WHERE passed AND NOT passed_before) AS recoveries,
                   count(*) FILTER (WHERE passed_before AND NOT passed) AS breaks,
                   count(*) FILTER (WHERE passed AND retry_of_id IS NOT NULL) AS passed_on_retry,
                   (array_agg(passed ORDER BY created_at, id))[1] AS first_passed,
                   (array_agg(id ORDER BY created_at DESC, id DESC))[1] AS last_run_id,
                   max(created_at) AS last_at,
                   (array_agg(passed ORDER BY created_at DESC, id DESC))[1] AS last_passed
            FROM head_runs
            GROUP BY test_case_id, environment_id, version_id
            UNION ALL
            SELECT d.test_case_id, d.environment_id, d.test_case_version_id, d.day, d.runs, d.passes, d.flips,
                   d.recoveries, d.breaks, d.passed_on_retry, d.first_status = '{PASS}', d.last_run_id,
                   d.last_at, d.last_status = '{PASS}'
            FROM flakiness_days d WHERE {" AND ".join(days)}
        ),
        joined AS (
            SELECT *, lag(last_passed) OVER segment_order AS passed_before,
                   lead(day) OVER segment_order IS NULL AS last_segment
            FROM segments
            WINDOW segment_order AS (PARTITION BY test_case_id, environment_id, version_id ORDER BY day)
        )"""
    return sql, {**params, "first_day": window.first_day}


async def case_counts(session: AsyncSession, scope: Scope) -> list[CaseCounts]:
    """Every test case of the scope with a verdict in the window, with the counts that classify it (as
    flakiness_queries.case_counts)."""
    segments, params = _segments(scope, None)
    sql = f"""
        WITH {segments},
        series AS (
            SELECT test_case_id,
                   sum(runs) AS runs,
                   sum(passes) AS passes,
                   sum(runs - 1) + count(passed_before) AS transitions,
                   sum(flips) + count(*) FILTER (WHERE passed_before <> first_passed) AS flips,
                   sum(recoveries) + count(*) FILTER (WHERE first_passed AND NOT passed_before) AS recoveries,
                   sum(breaks) + count(*) FILTER (WHERE passed_before AND NOT first_passed) AS breaks,
                   sum(passed_on_retry) AS passed_on_retry,
                   max(last_at) FILTER (WHERE last_segment) AS last_at,
                   (array_agg(last_run_id) FILTER (WHERE last_segment))[1] AS last_id,
                   bool_or(last_passed) FILTER (WHERE last_segment) AS last_passed
            FROM joined
            GROUP BY test_case_id, environment_id, version_id
        )
        SELECT test_case_id, sum(runs) AS runs, sum(passes) AS passes, sum(flips) AS flips,
               sum(transitions) AS transitions, sum(recoveries) AS recoveries,
               bool_or(breaks > 0 AND recoveries > 0) AS both_ways, sum(passed_on_retry) AS passed_on_retry,
               (array_agg(last_id ORDER BY last_at DESC, last_id DESC))[1] AS latest_run,
               (array_agg(last_passed ORDER BY last_at DESC, last_id DESC))[1] AS latest_passed
        FROM series
        GROUP BY test_case_id"""
    return [
        CaseCounts(
            test_case_id=row.test_case_id,
            runs=int(row.runs),
            passes=int(row.passes),
            flips=int(row.flips),
            transitions=int(row.transitions),
            recoveries=int(row.recoveries),
            both_ways=row.both_ways,
            passed_on_retry=int(row.passed_on_retry),
            latest_run=row.latest_run,
            latest_passed=row.latest_passed,
        )
        for row in await session.execute(text(sql), params)
    ]


async def evidence_ends(
    session: AsyncSession, scope: Scope, cases: Sequence[uuid.UUID]
) -> dict[uuid.UUID, datetime]:
    """For each of ``cases`` with a flip or a pass on retry, the end of the day by which it has its earliest
    ``MAX_EVIDENCE`` of each: the evidence is found among its runs created before then (the other cases have
    none to find)."""
    segments, params = _segments(scope, cases)
    sql = f"""
        WITH {segments},
        days AS (
            SELECT test_case_id, day,
                   sum(flips) + count(*) FILTER (WHERE passed_before <> first_passed) AS flips,
                   sum(passed_on_retry) AS retries
            FROM joined GROUP BY test_case_id, day
        ),
        counted AS (
            SELECT *, sum(flips) OVER earlier - flips AS flips_before,
                   sum(retries) OVER earlier - retries AS retries_before
            FROM days
            WINDOW earlier AS (PARTITION BY test_case_id ORDER BY day)
        )
        SELECT test_case_id,
               max(day) FILTER (WHERE (flips > 0 AND flips_before < {MAX_EVIDENCE})
                                   OR (retries > 0 AND retries_before < {MAX_EVIDENCE})) AS last_day
        FROM counted GROUP BY test_case_id"""
    return {
        row.test_case_id: datetime.combine(row.last_day + timedelta(days=1), time(), UTC)
        for row in await session.execute(text(sql), params)
        if row.last_day is not None
    }
