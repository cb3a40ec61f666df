"""The SQL of insights: compact rows of the history (runs, their steps) and the aggregates of trends. Every
query names the tenant and runs under its row-level security."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights.flakiness import FAILING, PASS, RunObservation, StepObservation
from orchestra.models import RunVerdict, StepResult, TestRun

VERDICTS = sorted({PASS, *FAILING})


async def verdict_runs(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    since: datetime,
    environment_id: uuid.UUID | None,
    test_case_id: uuid.UUID | None,
) -> list[RunObservation]:
    """The runs of the window that ended with a verdict, without their steps: the kept runs and the compact
    verdicts of those retention deleted (models/retention.py)."""
    observed = await _kept_verdict_runs(session, tenant_id, project_id, since, environment_id, test_case_id)
    deleted = select(
        RunVerdict.id,
        RunVerdict.test_case_id,
        RunVerdict.environment_id,
        RunVerdict.test_case_version_id,
        RunVerdict.status,
        RunVerdict.created_at,
        RunVerdict.retry_of_id,
    ).where(
        RunVerdict.tenant_id == tenant_id,
        RunVerdict.project_id == project_id,
        RunVerdict.created_at >= since,
        RunVerdict.status.in_(VERDICTS),
    )
    if environment_id is not None:
        deleted = deleted.where(RunVerdict.environment_id == environment_id)
    if test_case_id is not None:
        deleted = deleted.where(RunVerdict.test_case_id == test_case_id)
    observed += [
        RunObservation(row[0], row[1], row[2], row[3], str(row[4]), row[5], retry_of=row[6])
        for row in await session.execute(deleted)
    ]
    return observed


async def _kept_verdict_runs(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    since: datetime,
    environment_id: uuid.UUID | None,
    test_case_id: uuid.UUID | None,
) -> list[RunObservation]:
    query = select(
        TestRun.id,
        TestRun.test_case_id,
        TestRun.environment_id,
        TestRun.test_case_version_id,
        TestRun.status,
        TestRun.created_at,
        TestRun.retry_of_id,
    ).where(
        TestRun.tenant_id == tenant_id,
        TestRun.project_id == project_id,
        TestRun.created_at >= since,
        TestRun.status.in_(VERDICTS),
        TestRun.test_case_id.is_not(None),  # not a suite's setup or teardown
        TestRun.test_case_version_id.is_not(None),
    )
    if environment_id is not None:
        query = query.where(TestRun.environment_id == environment_id)
    if test_case_id is not None:
        query = query.where(TestRun.test_case_id == test_case_id)
    rows = await session.execute(query)
    return [
        RunObservation(row[0], row[1], row[2], row[3], str(row[4]), row[5], retry_of=row[6])
        for row in rows
        if row[1] is not None and row[3] is not None
    ]


async def steps_of_runs(
    session: AsyncSession, run_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[StepObservation, ...]]:
    """The steps of these runs (their verdicts only), by run, in step order."""
    found: dict[uuid.UUID, list[StepObservation]] = defaultdict(list)
    for start in range(0, len(run_ids), 5000):
        rows = await session.execute(
            select(
                StepResult.test_run_id,
                StepResult.phase,
                StepResult.name,
                StepResult.status,
                StepResult.attempts,
            )
            .where(StepResult.test_run_id.in_(run_ids[start : start + 5000]))
            .order_by(StepResult.test_run_id, StepResult.seq)
        )
        for run_id, phase, name, status, attempts in rows:
            found[run_id].append(StepObservation(phase, name, status, attempts))
    return {run_id: tuple(steps) for run_id, steps in found.items()}


async def last_pass_before(session: AsyncSession, tenant_id: uuid.UUID, run: TestRun) -> uuid.UUID | None:
    """The latest PASSED run of the same test case on the same environment created before ``run``."""
    found = await session.execute(
        select(TestRun.id)
        .where(
            TestRun.tenant_id == tenant_id,
            TestRun.test_case_id == run.test_case_id,
            TestRun.environment_id == run.environment_id,
            TestRun.status == PASS,
            TestRun.created_at < run.created_at,
        )
        .order_by(TestRun.created_at.desc())
        .limit(1)
    )
    return found.scalar_one_or_none()


async def rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in (await session.execute(text(sql), params)).mappings()]
