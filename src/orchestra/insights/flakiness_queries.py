"""Flakiness in SQL: the figures of insights/flakiness.py computed by the database with window functions over
the window's verdicts (the kept runs and the compact verdicts of deleted ones), so that a long history is
never read into Python. ``case_counts`` gives every test case's counts (its classification and its place in
the list); ``evidence`` and ``step_scores`` give the details of the test cases of one page. The results are
those of ``flakiness.score_case`` over the same runs (tests/integration/test_flakiness_queries.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights.flakiness import MAX_EVIDENCE, PASS, CaseCounts, Flip, StepScore
from orchestra.insights.trends import Scope

SERIES = "PARTITION BY test_case_id, environment_id, version_id ORDER BY created_at, id"


def _series_order(alias: str) -> str:
    columns = ("test_case_id", "environment_id", "test_case_version_id", "created_at", "id")
    return ", ".join(f"{alias}.{column}" for column in columns)


def observed_runs(
    scope: Scope,
    cases: Sequence[uuid.UUID] | None,
    until: datetime | None = None,
    ends: Mapping[uuid.UUID, datetime] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The window's runs with a verdict of the scope's test cases (or of ``cases``), kept or deleted; those
    created before ``until`` only, or before the end ``ends`` gives for their test case."""
    where, params = scope.where("r")
    deleted = scope.where_deleted("v")
    if cases is not None:
        where += " AND r.test_case_id = ANY(:cases)"
        deleted += " AND v.test_case_id = ANY(:cases)"
        params["cases"] = list(cases)
    if until is not None:
        where += " AND r.created_at < :until"
        deleted += " AND v.created_at < :until"
        params["until"] = until
    if ends is not None:
        end = (
            "(SELECT e.until FROM unnest(CAST(:end_cases AS uuid[]), CAST(:end_times AS timestamptz[])) "
            "AS e(test_case_id, until) WHERE e.test_case_id = {}.test_case_id)"
        )
        where += f" AND r.created_at < {end.format('r')}"
        deleted += f" AND v.created_at < {end.format('v')}"
        params["end_cases"], params["end_times"] = list(ends), list(ends.values())
    sql = f"""
        (SELECT r.id, r.test_case_id, r.environment_id, r.test_case_version_id AS version_id, r.status,
                r.created_at, r.retry_of_id
         FROM test_runs r
         WHERE {where} AND r.test_case_id IS NOT NULL AND r.test_case_version_id IS NOT NULL
         ORDER BY {_series_order("r")})
        UNION ALL
        (SELECT v.id, v.test_case_id, v.environment_id, v.test_case_version_id, v.status, v.created_at,
                v.retry_of_id
         FROM run_verdicts v WHERE {deleted}
         ORDER BY {_series_order("v")})"""
    return sql, params


async def case_counts(session: AsyncSession, scope: Scope) -> list[CaseCounts]:
    """Every test case of the scope with a verdict in the window, with the counts that classify it."""
    observed, params = observed_runs(scope, None)
    sql = f"""
        WITH observed AS ({observed}),
        paired AS (
            SELECT test_case_id, environment_id, version_id, id, created_at, status = '{PASS}' AS passed,
                   retry_of_id IS NOT NULL AND status = '{PASS}' AS passed_on_retry,
                   lag(status = '{PASS}') OVER series AS passed_before,
                   lead(id) OVER series IS NULL AS last_of_series
            FROM observed
            WINDOW series AS ({SERIES})
        ),
        series AS (
            SELECT test_case_id,
                   count(*) AS runs,
                   count(*) FILTER (WHERE passed) AS passes,
                   count(passed_before) AS transitions,
                   count(*) FILTER (WHERE passed <> passed_before) AS flips,
                   count(*) FILTER (WHERE passed AND NOT passed_before) AS recoveries,
                   count(*) FILTER (WHERE passed_before AND NOT passed) AS breaks,
                   count(*) FILTER (WHERE passed_on_retry) AS passed_on_retry,
                   max(created_at) FILTER (WHERE last_of_series) AS last_at,
                   (array_agg(id) FILTER (WHERE last_of_series))[1] AS last_id,
                   bool_or(passed) FILTER (WHERE last_of_series) AS last_passed
            FROM paired
            GROUP BY test_case_id, environment_id, version_id
        )
        {CASE_TOTALS}"""
    return counts_of(await session.execute(text(sql), params))


@dataclass(frozen=True, slots=True)
class Evidence:
    """The earliest flips and passes on retry of some test cases, at most ``MAX_EVIDENCE`` of each."""

    flips: dict[uuid.UUID, list[Flip]] = field(default_factory=lambda: defaultdict(list))
    retries: dict[uuid.UUID, list[Flip]] = field(default_factory=lambda: defaultdict(list))


async def evidence(
    session: AsyncSession,
    scope: Scope,
    cases: Sequence[uuid.UUID],
    ends: Mapping[uuid.UUID, datetime] | None = None,
) -> Evidence:
    """The flips (by the creation of the run after) and the passes on retry (by the creation of the retry)
    of ``cases``, the earliest first; with ``ends``, among each test case's runs created before its end
    (flakiness_rollups.evidence_ends: where its earliest ones are all found)."""
    observed, params = observed_runs(scope, cases, ends=ends)
    sql = f"""
        WITH observed AS ({observed}),
        paired AS (
            SELECT test_case_id, id, created_at, status, retry_of_id,
                   lag(id) OVER series AS before_id, lag(status) OVER series AS before_status
            FROM observed
            WINDOW series AS ({SERIES})
        ),
        found AS (
            SELECT test_case_id, 'flip' AS kind, before_id AS from_run, id AS to_run,
                   before_status AS from_status, status AS to_status, created_at, id
            FROM paired WHERE (before_status = '{PASS}') <> (status = '{PASS}')
            UNION ALL
            SELECT test_case_id, 'retry', retry_of_id, id, 'FAILED', status, created_at, id
            FROM paired WHERE status = '{PASS}' AND retry_of_id IS NOT NULL
        ),
        ranked AS (
            SELECT *, row_number() OVER (PARTITION BY test_case_id, kind ORDER BY created_at, id) AS rank
            FROM found
        )
        SELECT test_case_id, kind, from_run, to_run, from_status, to_status FROM ranked
        WHERE rank <= {MAX_EVIDENCE}
        ORDER BY test_case_id, kind, rank"""
    found = Evidence()
    for row in await session.execute(text(sql), params):
        flip = Flip(row.from_run, row.to_run, str(row.from_status), str(row.to_status))
        (found.flips if row.kind == "flip" else found.retries)[row.test_case_id].append(flip)
    return found


async def step_scores(
    session: AsyncSession, scope: Scope, cases: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StepScore]]:
    """The steps of ``cases`` scored per phase and name. A step's verdict is compared with the same step of
    the previous run of its series (its last occurrence there), when that run recorded it; a skipped step is
    not observed; the failed and retried runs are the earliest (by run creation, then step order)."""
    observed, params = observed_runs(scope, cases)
    sql = f"""
        WITH observed AS ({observed}),
        ordered AS (
            SELECT id, test_case_id, environment_id, version_id, created_at,
                   row_number() OVER series AS ordinal
            FROM observed
            WINDOW series AS ({SERIES})
        ),
        steps AS (
            SELECT o.test_case_id, o.environment_id, o.version_id, o.ordinal, o.id AS run_id, o.created_at,
                   s.seq, s.phase, s.name, s.status = 'passed' AS passed, s.attempts
            FROM ordered o JOIN step_results s ON s.test_run_id = o.id
            WHERE s.status <> 'skipped'
        ),
        before AS (  -- the step's previous occurrence in its series: in this run or in an earlier one
            SELECT *, lag(ordinal) OVER occurrences AS ordinal_before,
                   lag(passed) OVER occurrences AS passed_before
            FROM steps
            WINDOW occurrences AS (PARTITION BY test_case_id, environment_id, version_id, phase, name
                                   ORDER BY ordinal, seq)
        ),
        compared AS (  -- a run's first occurrence's is the last one of the run before: the one compared with
            SELECT *, first_value(CASE WHEN ordinal_before = ordinal - 1 THEN passed_before END)
                          OVER (PARTITION BY test_case_id, environment_id, version_id, phase, name, ordinal
                                ORDER BY seq) AS previous_passed
            FROM before
        )
        SELECT test_case_id, phase, name,
               count(*) AS runs,
               count(*) FILTER (WHERE NOT passed) AS failures,
               count(previous_passed) AS transitions,
               count(*) FILTER (WHERE previous_passed <> passed) AS flips,
               count(*) FILTER (WHERE passed AND attempts > 1) AS retried_passes,
               (array_agg(run_id ORDER BY created_at, run_id, seq)
                   FILTER (WHERE NOT passed))[1:{MAX_EVIDENCE}] AS failed_runs,
               (array_agg(run_id ORDER BY created_at, run_id, seq)
                   FILTER (WHERE passed AND attempts > 1))[1:{MAX_EVIDENCE}] AS retried_runs
        FROM compared
        GROUP BY test_case_id, phase, name"""
    found: dict[uuid.UUID, list[StepScore]] = defaultdict(list)
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
                failed_runs=list(row.failed_runs or []),
                retried_runs=list(row.retried_runs or []),
            )
        )
    return found


# A test case's counts over its series (``series``: one row per test case, environment and version with
# runs, passes, flips, transitions, recoveries, breaks, passes on retry and its last run), the same for the
# counts from the runs and from the daily rollups.
CASE_TOTALS = """SELECT test_case_id, sum(runs) AS runs, sum(passes) AS passes, sum(flips) AS flips,
               sum(transitions) AS transitions, sum(recoveries) AS recoveries,
               bool_or(breaks > 0 AND recoveries > 0) AS both_ways, sum(passed_on_retry) AS passed_on_retry,
               (array_agg(last_id ORDER BY last_at DESC, last_id DESC))[1] AS latest_run,
               (array_agg(last_passed ORDER BY last_at DESC, last_id DESC))[1] AS latest_passed
        FROM series
        GROUP BY test_case_id"""


def counts_of(rows: Iterable[Any]) -> list[CaseCounts]:
    """The rows of ``CASE_TOTALS`` as counts."""
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
        for row in rows
    ]
