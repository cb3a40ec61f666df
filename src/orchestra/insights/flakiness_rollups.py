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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights.flakiness import MAX_EVIDENCE, PASS, CaseCounts, StepScore
from orchestra.insights.flakiness_queries import CASE_TOTALS, SERIES, counts_of, observed_runs
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
        {CASE_TOTALS}"""
    return counts_of(await session.execute(text(sql), params))


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


async def step_scores(
    session: AsyncSession, scope: Scope, cases: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StepScore]]:
    """The steps of ``cases`` scored per phase and name (as flakiness_queries.step_scores): each segment's
    figures from ``step_flakiness_days`` (the head's from its runs), its first run's occurrences compared
    with the step's last occurrence in the series' previous segment's last run; the earliest failed and
    retried runs read among the runs of the days that hold them."""
    segments, params = _segments(scope, cases)
    days = ["d.tenant_id = :tenant", "d.project_id = :project", "d.day >= :first_day", "d.runs > 0"]
    days.append("d.test_case_id = ANY(:cases)")
    if scope.environment_id is not None:
        days.append("d.environment_id = :environment")
    sql = f"""
        WITH {segments},
        head_ordered AS (
            SELECT id, test_case_id, environment_id, version_id, row_number() OVER series AS ordinal,
                   count(*) OVER (PARTITION BY test_case_id, environment_id, version_id) AS last_ordinal
            FROM head_runs
            WINDOW series AS ({SERIES})
        ),
        head_before AS (
            SELECT o.test_case_id, o.environment_id, o.version_id, o.ordinal, o.last_ordinal, s.seq, s.phase,
                   s.name, s.status = 'passed' AS passed, s.attempts,
                   lag(o.ordinal) OVER occurrences AS ordinal_before,
                   lag(s.status = 'passed') OVER occurrences AS passed_before
            FROM head_ordered o JOIN step_results s ON s.test_run_id = o.id
            WHERE s.status <> 'skipped'
            WINDOW occurrences AS (
                PARTITION BY o.test_case_id, o.environment_id, o.version_id, s.phase, s.name
                ORDER BY o.ordinal, s.seq)
        ),
        head_compared AS (
            SELECT *, first_value(CASE WHEN ordinal_before = ordinal - 1 THEN passed_before END)
                          OVER (PARTITION BY test_case_id, environment_id, version_id, phase, name, ordinal
                                ORDER BY seq) AS previous_passed
            FROM head_before
        ),
        step_segments AS (
            SELECT test_case_id, environment_id, version_id, CAST(:first_day AS date) - 1 AS day, phase, name,
                   count(*) AS runs,
                   count(*) FILTER (WHERE NOT passed) AS failures,
                   count(previous_passed) AS transitions,
                   count(*) FILTER (WHERE previous_passed <> passed) AS flips,
                   count(*) FILTER (WHERE passed AND attempts > 1) AS retried_passes,
                   count(*) FILTER (WHERE ordinal = 1) AS first_occurrences,
                   count(*) FILTER (WHERE ordinal = 1 AND passed) AS first_passes,
                   (array_agg(passed ORDER BY seq DESC)
                       FILTER (WHERE ordinal = last_ordinal))[1] AS last_passed
            FROM head_compared
            GROUP BY test_case_id, environment_id, version_id, phase, name
            UNION ALL
            SELECT d.test_case_id, d.environment_id, d.test_case_version_id, d.day, d.phase, d.name, d.runs,
                   d.failures, d.transitions, d.flips, d.retried_passes, d.first_occurrences, d.first_passes,
                   d.last_passed
            FROM step_flakiness_days d WHERE {" AND ".join(days)}
        ),
        marked AS (  -- each series' segments (with the day of the one before) among its steps' segments
            SELECT test_case_id, environment_id, version_id, day, NULL AS phase, NULL AS name, 0 AS runs,
                   0 AS failures, 0 AS transitions, 0 AS flips, 0 AS retried_passes, 0 AS first_occurrences,
                   0 AS first_passes, NULL::boolean AS last_passed,
                   lag(day) OVER (PARTITION BY test_case_id, environment_id, version_id ORDER BY day)
                       AS day_before
            FROM joined
            UNION ALL
            SELECT *, NULL FROM step_segments
        ),
        windowed AS (
            SELECT *,
                   max(day_before) FILTER (WHERE phase IS NULL)
                       OVER (PARTITION BY test_case_id, environment_id, version_id
                             ORDER BY day, phase IS NOT NULL) AS series_day_before,
                   lag(day) OVER step_order AS step_day_before,
                   lag(last_passed) OVER step_order AS step_last_passed
            FROM marked
            WINDOW step_order AS (
                PARTITION BY test_case_id, environment_id, version_id, phase, name ORDER BY day)
        ),
        stepped AS (  -- compared with the series' previous segment when the step is in its last run
            SELECT *, CASE WHEN step_day_before = series_day_before THEN step_last_passed END AS passed_before
            FROM windowed WHERE phase IS NOT NULL
        ),
        step_days AS (
            SELECT test_case_id, phase, name, day, sum(failures) AS failures,
                   sum(retried_passes) AS retried_passes
            FROM stepped GROUP BY test_case_id, phase, name, day
        ),
        evidence_days AS (  -- the last day each step's earliest failed and retried runs need
            SELECT test_case_id, phase, name,
                   max(day) FILTER (WHERE (failures > 0 AND failures_before < {MAX_EVIDENCE})
                                       OR (retried_passes > 0 AND retried_before < {MAX_EVIDENCE}))
                       AS last_day
            FROM (
                SELECT *, sum(failures) OVER earlier - failures AS failures_before,
                       sum(retried_passes) OVER earlier - retried_passes AS retried_before
                FROM step_days
                WINDOW earlier AS (PARTITION BY test_case_id, phase, name ORDER BY day)
            ) counted
            GROUP BY test_case_id, phase, name
        )
        SELECT s.test_case_id, s.phase, s.name,
               sum(runs) AS runs,
               sum(failures) AS failures,
               sum(transitions) + coalesce(sum(first_occurrences) FILTER (WHERE passed_before IS NOT NULL), 0)
                   AS transitions,
               sum(flips) + coalesce(sum(first_occurrences - first_passes) FILTER (WHERE passed_before), 0)
                   + coalesce(sum(first_passes) FILTER (WHERE NOT passed_before), 0) AS flips,
               sum(retried_passes) AS retried_passes,
               min(e.last_day) AS last_day
        FROM stepped s JOIN evidence_days e USING (test_case_id, phase, name)
        GROUP BY s.test_case_id, s.phase, s.name"""
    found: dict[uuid.UUID, list[StepScore]] = defaultdict(list)
    ends: dict[uuid.UUID, datetime] = {}
    for row in await session.execute(text(sql), params):
        found[row.test_case_id].append(
            StepScore(
                phase=row.phase,
                name=row.name,
                runs=int(row.runs),
                failures=int(row.failures),
                flips=int(row.flips),
                transitions=int(row.transitions),
                retried_passes=int(row.retried_passes),
            )
        )
        if row.last_day is not None:
            end = datetime.combine(row.last_day + timedelta(days=1), time(), UTC)
            ends[row.test_case_id] = max(end, ends.get(row.test_case_id, end))
    if ends:
        await _step_evidence(session, scope, ends, found)
    return found


async def _step_evidence(
    session: AsyncSession,
    scope: Scope,
    ends: dict[uuid.UUID, datetime],
    found: dict[uuid.UUID, list[StepScore]],
) -> None:
    """The earliest failed and retried runs of each step (by run creation, then step order), among the runs
    of each test case created before its end."""
    observed, params = observed_runs(scope, list(ends), ends=ends)
    sql = f"""
        SELECT o.test_case_id, s.phase, s.name,
               (array_agg(o.id ORDER BY o.created_at, o.id, s.seq)
                   FILTER (WHERE s.status <> 'passed'))[1:{MAX_EVIDENCE}] AS failed_runs,
               (array_agg(o.id ORDER BY o.created_at, o.id, s.seq)
                   FILTER (WHERE s.status = 'passed' AND s.attempts > 1))[1:{MAX_EVIDENCE}] AS retried_runs
        FROM ({observed}) o JOIN step_results s ON s.test_run_id = o.id
        WHERE s.status <> 'skipped' AND (s.status <> 'passed' OR s.attempts > 1)
        GROUP BY 1, 2, 3"""
    runs = {
        (row.test_case_id, row.phase, row.name): (row.failed_runs or [], row.retried_runs or [])
        for row in await session.execute(text(sql), params)
    }
    for case, steps in found.items():
        for step in steps:
            failed, retried = runs.get((case, step.phase, step.name), ([], []))
            step.failed_runs, step.retried_runs = list(failed), list(retried)
