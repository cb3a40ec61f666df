from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, UnaryExpression, case, cast, func, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.refs import by_ref
from orchestra.kit.repository import reachable, scalar_page
from orchestra.models import (
    Environment,
    FailureGroup,
    StepResult,
    Suite,
    SuiteRun,
    TestCase,
    TestCaseVersion,
    TestRun,
)
from orchestra.models.run_states import TRANSITIONS, sources_of

RunRow = tuple[TestRun, int, str]  # the run, its test-case version number, its environment name


def _run_rows() -> Select[TestRun, int, str]:
    return (
        select(TestRun, TestCaseVersion.version, Environment.name)
        .join(TestCaseVersion, TestCaseVersion.id == TestRun.test_case_version_id)
        .join(Environment, Environment.id == TestRun.environment_id)
    )


async def get_run(session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID) -> RunRow | None:
    row = (
        await session.execute(_run_rows().where(TestRun.tenant_id == tenant_id, TestRun.id == run_id))
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def runs_of_suite_run(
    session: AsyncSession, tenant_id: uuid.UUID, suite_run_id: uuid.UUID
) -> list[RunRow]:
    rows = await session.execute(
        _run_rows()
        .where(TestRun.tenant_id == tenant_id, TestRun.suite_run_id == suite_run_id)
        .order_by(TestRun.name, TestRun.created_at)  # a retry after the run it retries
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def phase_runs_of(
    session: AsyncSession, tenant_id: uuid.UUID, suite_run_id: uuid.UUID
) -> list[TestRun]:
    """The suite run's setup and teardown runs (runs/suite_phases.py), setup first."""
    rows = await session.execute(
        select(TestRun)
        .where(
            TestRun.tenant_id == tenant_id,
            TestRun.suite_run_id == suite_run_id,
            TestRun.suite_phase.is_not(None),
        )
        .order_by(TestRun.queue_key)
    )
    return list(rows.scalars())


async def steps_of(
    session: AsyncSession, run_id: uuid.UUID, after_seq: int | None = None
) -> list[StepResult]:
    """The run's steps in order (data-phase steps have negative seqs; see executor/data_phase.py)."""
    query = select(StepResult).where(StepResult.test_run_id == run_id)
    if after_seq is not None:
        query = query.where(StepResult.seq > after_seq)
    rows = await session.execute(query.order_by(StepResult.seq))
    return list(rows.scalars())


@dataclass(frozen=True)
class RunNarrowing:
    """What else the run list is narrowed to (besides column equalities): a suite (by id, or by id or name
    in every project), a tag of the test case's current version, a creation-time window (after: inclusive,
    before: exclusive) and a text in the run's name (case-insensitive, taken literally)."""

    suite_id: uuid.UUID | None = None
    suite_ref: str | None = None
    tag: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    text: str | None = None


_DURATION = TestRun.finished_at - TestRun.started_at
_SORT_KEYS: dict[str, Any] = {
    "created_at": TestRun.created_at,
    "name": TestRun.name,
    "status": TestRun.status,
    "duration": _DURATION,  # unfinished runs (no duration) come last ascending, first descending
}


def run_order(sort: str) -> tuple[UnaryExpression[Any], UnaryExpression[Any]]:
    """The ORDER BY of ``sort`` (a field, "-" for descending), with the id as tie-breaker in the same
    direction, so a page never repeats or skips a run of another."""
    descending = sort.startswith("-")
    key = _SORT_KEYS[sort.removeprefix("-")]
    if descending:
        return key.desc(), TestRun.id.desc()
    return key.asc(), TestRun.id.asc()


def like_literal(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere: its own wildcards (and the escape) are taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _narrowed(
    query: Select[uuid.UUID], tenant_id: uuid.UUID, narrowing: RunNarrowing
) -> Select[uuid.UUID] | None:
    """``query`` with ``narrowing``'s conditions, or None when nothing can match (a text no row can hold)."""
    if narrowing.suite_id is not None or narrowing.suite_ref is not None:
        suites = select(Suite.id).where(Suite.tenant_id == tenant_id)
        if narrowing.suite_id is not None:
            suites = suites.where(Suite.id == narrowing.suite_id)
        elif narrowing.suite_ref is not None:
            if not reachable(narrowing.suite_ref):
                return None
            suites = suites.where(by_ref(Suite.id, Suite.name, narrowing.suite_ref))
        of_suite = select(SuiteRun.id).where(SuiteRun.tenant_id == tenant_id, SuiteRun.suite_id.in_(suites))
        query = query.where(TestRun.suite_run_id.in_(of_suite))
    if narrowing.tag is not None:
        if not reachable(narrowing.tag):
            return None
        # Tags live in the current version's definition: one semi-join over the tenant's test cases.
        tagged = (
            select(TestCase.id)
            .join(
                TestCaseVersion,
                (TestCaseVersion.test_case_id == TestCase.id)
                & (TestCaseVersion.version == TestCase.current_version),
            )
            .where(
                TestCase.tenant_id == tenant_id,
                cast(TestCaseVersion.definition, JSONB).contains({"tags": [narrowing.tag]}),
            )
        )
        query = query.where(TestRun.test_case_id.in_(tagged))
    if narrowing.created_after is not None:
        query = query.where(TestRun.created_at >= narrowing.created_after)
    if narrowing.created_before is not None:
        query = query.where(TestRun.created_at < narrowing.created_before)
    if narrowing.text is not None:
        if not reachable(narrowing.text):
            return None
        query = query.where(TestRun.name.ilike(like_literal(narrowing.text), escape="\\"))
    return query


async def list_runs(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    *,
    environment_ref: str | None = None,
    test_case_ref: str | None = None,
    narrowing: RunNarrowing = RunNarrowing(),
    sort: str = "-created_at",
) -> tuple[list[RunRow], int]:
    """Runs matching ``filters`` (column: value), ``narrowing`` and, in every project, an environment and a
    test case named so (or with that id); in ``sort``'s order (newest first by default). The page's ids
    are found on ``test_runs`` alone (newest first: its index on tenant and time), then only those rows
    are joined: joined first, the planner (which cannot estimate rows under row-level security)
    re-scanned every run for each test-case version."""
    matching = select(TestRun.id).where(
        TestRun.tenant_id == tenant_id,
        TestRun.test_case_version_id.is_not(None),  # a suite's setup and teardown runs are not listed
    )
    for column, value in filters.items():
        matching = matching.where(getattr(TestRun, column) == value)
    if environment_ref is not None:
        named = select(Environment.id).where(
            Environment.tenant_id == tenant_id, by_ref(Environment.id, Environment.name, environment_ref)
        )
        matching = matching.where(TestRun.environment_id.in_(named))
    if test_case_ref is not None:
        matching = matching.where(by_ref(TestRun.test_case_id, TestRun.name, test_case_ref))
    narrowed = _narrowed(matching, tenant_id, narrowing)
    if narrowed is None:
        return [], 0
    order = run_order(sort)
    ids, total = await scalar_page(session, narrowed.order_by(*order), limit, offset)
    if not ids:
        return [], total
    rows = await session.execute(_run_rows().where(TestRun.id.in_(ids)).order_by(*order))
    return [(row[0], row[1], row[2]) for row in rows], total


async def get_suite_run(
    session: AsyncSession, tenant_id: uuid.UUID, suite_run_id: uuid.UUID
) -> tuple[SuiteRun, str] | None:
    row = (
        await session.execute(
            select(SuiteRun, Environment.name)
            .join(Environment, Environment.id == SuiteRun.environment_id)
            .where(SuiteRun.tenant_id == tenant_id, SuiteRun.id == suite_run_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def cancel(session: AsyncSession, run_ids: Sequence[uuid.UUID]) -> int:
    """One statement, so no run slips between states: runs the cancel operation may move (PENDING / QUEUED:
    nothing ran) end CANCELLED at once; the others that can still end CANCELLED (IN_PROGRESS, through their
    executor's verdict) get the flag their executor sees at its next step commit or heartbeat."""
    move = TRANSITIONS["cancel"]
    unstarted = TestRun.status.in_(move.sources)
    result = await session.execute(
        update(TestRun)
        .where(TestRun.id.in_(run_ids), TestRun.status.in_(sources_of(move.target)))
        .values(
            cancel_requested=True,
            status=case((unstarted, move.target), else_=TestRun.status),
            status_reason=case((unstarted, "cancelled before it started"), else_=TestRun.status_reason),
            finished_at=case((unstarted, func.now()), else_=TestRun.finished_at),
        )
        .returning(TestRun.id)
        .execution_options(synchronize_session="fetch")
    )
    return len(result.all())


async def known_issues(session: AsyncSession, runs: Sequence[TestRun]) -> dict[uuid.UUID, str]:
    """The known issue each run's failure is labelled with: its failure group's, when the run was created
    since the group was linked to it."""
    group_ids = {run.failure_group_id for run in runs if run.failure_group_id is not None}
    if not group_ids:
        return {}
    rows = await session.execute(
        select(FailureGroup.id, FailureGroup.issue_url, FailureGroup.issue_linked_at).where(
            FailureGroup.id.in_(group_ids), FailureGroup.issue_url.is_not(None)
        )
    )
    linked = {row[0]: (row[1], row[2]) for row in rows}
    labels = {}
    for run in runs:
        url, since = linked.get(run.failure_group_id, (None, None)) if run.failure_group_id else (None, None)
        if url is not None and since is not None and run.created_at >= since:
            labels[run.id] = url
    return labels


async def retries_of(session: AsyncSession, runs: Sequence[TestRun]) -> dict[uuid.UUID, uuid.UUID]:
    """The retry of each of these runs that has one (by the run it retries): only a FAILED run that asked
    for one can have it, so the others cost no query."""
    candidates = [run.id for run in runs if run.retry_failed > 0 and run.retry_of_id is None]
    if not candidates:
        return {}
    rows = await session.execute(
        select(TestRun.retry_of_id, TestRun.id).where(TestRun.retry_of_id.in_(candidates))
    )
    return {first: retry for first, retry in rows if first is not None}
