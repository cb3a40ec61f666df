"""The SQL of failure groups: failures not grouped yet, their failed steps, the groups of a project (by
fingerprint, by embedding distance with pgvector), and the aggregates the endpoints page through."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights.flakiness import FAILING
from orchestra.models import Environment, FailureGroup, StepResult, TestCase, TestRun


@dataclass(frozen=True, slots=True)
class FailedRun:
    id: uuid.UUID
    status: str
    status_reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredFailedStep:
    phase: str
    name: str
    status: str
    error: str | None
    assertions: list[dict[str, Any]]


async def lock_project(session: AsyncSession, project_id: uuid.UUID) -> None:
    """One grouping pass per project at a time (until the transaction ends)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('failure-groups:' || :p, 0))"),
        {"p": str(project_id)},
    )


async def ungrouped_failures(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, limit: int
) -> list[FailedRun]:
    """The oldest failed runs of tests not grouped yet (the partial index ix_test_runs_ungrouped_failures)."""
    rows = await session.execute(
        select(TestRun.id, TestRun.status, TestRun.status_reason, TestRun.created_at)
        .where(
            TestRun.tenant_id == tenant_id,
            TestRun.project_id == project_id,
            TestRun.failure_group_id.is_(None),
            TestRun.status.in_(sorted(FAILING)),
            TestRun.test_case_id.is_not(None),
        )
        .order_by(TestRun.created_at, TestRun.id)
        .limit(limit)
    )
    return [FailedRun(row[0], str(row[1]), row[2], row[3]) for row in rows]


async def failed_steps(
    session: AsyncSession, run_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StoredFailedStep]]:
    """The failed and errored steps of these runs, in step order."""
    found: dict[uuid.UUID, list[StoredFailedStep]] = defaultdict(list)
    if not run_ids:
        return found
    rows = await session.execute(
        select(
            StepResult.test_run_id,
            StepResult.phase,
            StepResult.name,
            StepResult.status,
            StepResult.error,
            StepResult.assertions,
        )
        .where(StepResult.test_run_id.in_(run_ids), StepResult.status.in_(("failed", "error")))
        .order_by(StepResult.test_run_id, StepResult.seq)
    )
    for run_id, phase, name, status, error, assertions in rows:
        found[run_id].append(StoredFailedStep(phase, name, status, error, list(assertions or [])))
    return found


async def by_fingerprints(
    session: AsyncSession, project_id: uuid.UUID, fingerprints: Sequence[str]
) -> dict[str, FailureGroup]:
    """The project's groups with these fingerprints (one query for a whole batch of failures)."""
    if not fingerprints:
        return {}
    query = select(FailureGroup).where(
        FailureGroup.project_id == project_id, FailureGroup.fingerprint.in_(fingerprints)
    )
    return {group.fingerprint: group for group in (await session.execute(query)).scalars()}


async def nearest(
    session: AsyncSession, project_id: uuid.UUID, vector: list[float], max_distance: float
) -> FailureGroup | None:
    """The project's group with the nearest message embedding (cosine distance), within ``max_distance``."""
    distance = FailureGroup.embedding.cosine_distance(vector)
    query = (
        select(FailureGroup)
        .where(FailureGroup.project_id == project_id, distance <= max_distance)
        .order_by(distance, FailureGroup.first_seen_at)
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


_ASSIGN = text(
    """
    UPDATE test_runs SET failure_group_id = chosen.group_id
    FROM unnest(CAST(:runs AS uuid[]), CAST(:groups AS uuid[])) AS chosen(run_id, group_id)
    WHERE test_runs.id = chosen.run_id
    """
)


async def assign(session: AsyncSession, groups_of: dict[uuid.UUID, uuid.UUID]) -> None:
    """Put each run (key) into its group (value): one statement for a whole batch."""
    if groups_of:
        runs, groups = zip(*groups_of.items(), strict=True)
        await session.execute(_ASSIGN, {"runs": list(runs), "groups": list(groups)})


@dataclass(frozen=True, slots=True)
class GroupCounts:
    group_id: uuid.UUID
    failures: int
    test_cases: int
    last_seen_at: datetime
    since_issue: int


def _window(
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    since: datetime,
    environment_id: uuid.UUID | None,
    test_case_id: uuid.UUID | None,
) -> list[Any]:
    conditions: list[Any] = [
        TestRun.tenant_id == tenant_id,
        TestRun.project_id == project_id,
        TestRun.failure_group_id.is_not(None),
        TestRun.created_at >= since,
    ]
    if environment_id is not None:
        conditions.append(TestRun.environment_id == environment_id)
    if test_case_id is not None:
        conditions.append(TestRun.test_case_id == test_case_id)
    return conditions


async def counts_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    since: datetime,
    environment_id: uuid.UUID | None,
    test_case_id: uuid.UUID | None,
    has_issue: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[GroupCounts], int]:
    """The groups with failures in the window, the most failures first: their counts there, and how many
    groups there are."""
    since_issue = func.count().filter(TestRun.created_at >= FailureGroup.issue_linked_at)
    query = (
        select(
            TestRun.failure_group_id,
            func.count(),
            func.count(func.distinct(TestRun.test_case_id)),
            func.max(TestRun.created_at),
            since_issue,
        )
        .join(FailureGroup, FailureGroup.id == TestRun.failure_group_id)
        .where(*_window(tenant_id, project_id, since, environment_id, test_case_id))
        .group_by(TestRun.failure_group_id, FailureGroup.issue_linked_at)
    )
    if has_issue is not None:
        query = query.where(
            FailureGroup.issue_url.is_not(None) if has_issue else FailureGroup.issue_url.is_(None)
        )
    total = int((await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    rows = await session.execute(
        query.order_by(func.count().desc(), func.max(TestRun.created_at).desc(), TestRun.failure_group_id)
        .limit(limit)
        .offset(offset)
    )
    return [GroupCounts(cast(uuid.UUID, row[0]), row[1], row[2], row[3], row[4]) for row in rows], total


async def groups(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, FailureGroup]:
    found = await session.execute(select(FailureGroup).where(FailureGroup.id.in_(ids)))
    return {group.id: group for group in found.scalars()}


async def get(session: AsyncSession, tenant_id: uuid.UUID, group_id: uuid.UUID) -> FailureGroup | None:
    group = await session.get(FailureGroup, group_id)
    return group if group is not None and group.tenant_id == tenant_id else None


async def latest_members(
    session: AsyncSession, group_id: uuid.UUID, limit: int
) -> list[tuple[TestRun, str, str]]:
    """The group's latest runs with their test case's and environment's names."""
    rows = await session.execute(
        select(TestRun, TestCase.name, Environment.name)
        .join(TestCase, TestCase.id == TestRun.test_case_id)
        .join(Environment, Environment.id == TestRun.environment_id)
        .where(TestRun.failure_group_id == group_id)
        .order_by(TestRun.created_at.desc(), TestRun.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def test_cases_of(session: AsyncSession, group_id: uuid.UUID) -> list[tuple[str, int]]:
    """The test cases the group's failures are in, with how many each, the most first."""
    rows = await session.execute(
        select(TestCase.name, func.count())
        .join(TestRun, TestRun.test_case_id == TestCase.id)
        .where(TestRun.failure_group_id == group_id)
        .group_by(TestCase.name)
        .order_by(func.count().desc(), TestCase.name)
    )
    return [(row[0], row[1]) for row in rows]


async def run_before(session: AsyncSession, run: TestRun) -> TestRun | None:
    """The latest run of the same test case and environment created before ``run`` that passed."""
    query = (
        select(TestRun)
        .where(
            TestRun.tenant_id == run.tenant_id,
            TestRun.test_case_id == run.test_case_id,
            TestRun.environment_id == run.environment_id,
            TestRun.status == "PASSED",
            TestRun.created_at < run.created_at,
        )
        .order_by(TestRun.created_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def steps(session: AsyncSession, run_id: uuid.UUID) -> list[StepResult]:
    rows = await session.execute(
        select(StepResult).where(StepResult.test_run_id == run_id).order_by(StepResult.seq)
    )
    return list(rows.scalars())


async def failures_since(session: AsyncSession, group_id: uuid.UUID, since: datetime) -> int:
    query = select(func.count()).where(TestRun.failure_group_id == group_id, TestRun.created_at >= since)
    return int((await session.execute(query)).scalar_one())
