from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.refs import by_ref
from orchestra.kit.repository import scalar_page
from orchestra.models import Environment, FailureGroup, StepResult, SuiteRun, TestCaseVersion, TestRun
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


async def list_runs(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: dict[str, Any],
    limit: int,
    offset: int,
    *,
    environment_ref: str | None = None,
    test_case_ref: str | None = None,
) -> tuple[list[RunRow], int]:
    """Runs matching ``filters`` (column: value) and, in every project, an environment and a test case
    named so (or with that id); newest first. The page's ids are found on ``test_runs`` alone (its index on
    tenant and time), then only those rows are joined: joined first, the planner (which cannot estimate
    rows under row-level security) re-scanned every run for each test-case version."""
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
    newest_first = (TestRun.created_at.desc(), TestRun.id.desc())  # read backwards along the index
    ids, total = await scalar_page(session, matching.order_by(*newest_first), limit, offset)
    if not ids:
        return [], total
    rows = await session.execute(_run_rows().where(TestRun.id.in_(ids)).order_by(*newest_first))
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


async def list_suite_runs(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[list[uuid.UUID], int]:
    query = select(SuiteRun.id).where(SuiteRun.tenant_id == tenant_id)
    if project_id is not None:
        query = query.where(SuiteRun.project_id == project_id)
    return await scalar_page(session, query.order_by(SuiteRun.created_at.desc()), limit, offset)


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
