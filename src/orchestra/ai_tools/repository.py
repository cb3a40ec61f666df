"""Reads of the tool endpoints, all inside the caller's row-level-security scope."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.models import Environment, LedgerEntry, Project, StepResult, TestCase, TestCaseVersion, TestRun
from orchestra.models.run_states import RunStatus


async def environment(session: AsyncSession, environment_id: uuid.UUID) -> Environment | None:
    return await session.get(Environment, environment_id)


async def test_case_with_current_version(
    session: AsyncSession, test_case_id: uuid.UUID
) -> tuple[TestCase, TestCaseVersion] | None:
    row = (
        await session.execute(
            select(TestCase, TestCaseVersion)
            .join(TestCaseVersion, TestCaseVersion.test_case_id == TestCase.id)
            .where(TestCase.id == test_case_id, TestCaseVersion.version == TestCase.current_version)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def run_with_names(session: AsyncSession, run_id: uuid.UUID) -> tuple[TestRun, str, str] | None:
    """The run, its test case's name and its environment's name."""
    row = (
        await session.execute(
            select(TestRun, TestCase.name, Environment.name)
            .join(TestCase, TestCase.id == TestRun.test_case_id)
            .join(Environment, Environment.id == TestRun.environment_id)
            .where(TestRun.id == run_id)
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def steps_of(session: AsyncSession, run_id: uuid.UUID) -> list[StepResult]:
    rows = await session.execute(
        select(StepResult).where(StepResult.test_run_id == run_id).order_by(StepResult.seq)
    )
    return list(rows.scalars())


async def last_passing_run(
    session: AsyncSession, test_case_id: uuid.UUID, environment_id: uuid.UUID, before: datetime
) -> TestRun | None:
    """The latest PASSED run of the test case in the environment created before ``before``."""
    query = (
        select(TestRun)
        .where(
            TestRun.test_case_id == test_case_id,
            TestRun.environment_id == environment_id,
            TestRun.status == RunStatus.PASSED,
            TestRun.created_at < before,
        )
        .order_by(TestRun.created_at.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def project(session: AsyncSession, project_id: uuid.UUID) -> Project | None:
    return await session.get(Project, project_id)


async def recent_entities(
    session: AsyncSession, environment_id: uuid.UUID, operation: str | None, limit: int
) -> list[LedgerEntry]:
    """The newest data-ledger entries of the environment (what runs created there), optionally of one
    operation."""
    query = select(LedgerEntry).where(LedgerEntry.environment_id == environment_id)
    if operation is not None:
        query = query.where(LedgerEntry.operation == operation)
    rows = await session.execute(query.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id).limit(limit))
    return list(rows.scalars())
