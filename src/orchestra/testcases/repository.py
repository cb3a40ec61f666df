"""Test cases are found by id or by a name unique within the project; each has numbered versions, the
current one listed with it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, cast, func, select, true
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from orchestra.kit.repository import ProjectScoped, reachable, reachable_only, row_page, scalar_page
from orchestra.models import Environment, Suite, TestCase, TestCaseVersion, TestRun
from orchestra.models.run_states import RunStatus

# The latest run of a test case: id, status, environment name, version number, created, finished.
LastRunRow = tuple[uuid.UUID, RunStatus, str, int, datetime, datetime | None]


def as_jsonb(column: Any) -> ColumnElement[Any]:
    """A definition (stored as ``json``, in written order) read as JSONB, for containment."""
    return cast(column, JSONB)


def _with_current() -> Select[TestCase, TestCaseVersion]:
    return select(TestCase, TestCaseVersion).join(
        TestCaseVersion,
        (TestCaseVersion.test_case_id == TestCase.id) & (TestCaseVersion.version == TestCase.current_version),
    )


_test_cases = ProjectScoped(TestCase, TestCase.id, TestCase.name, (TestCase.tenant_id, TestCase.project_id))

find = _test_cases.find
find_by_name = _test_cases.find_by_name


async def insert_if_missing(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, name: str
) -> bool:
    """Insert the test case row (version 1 to follow) unless the project has one by this name; True when
    inserted. Concurrent creators wait for each other here instead of failing on the unique constraint."""
    if not reachable(name):
        raise ValueError(f"no test case can be named {name!r}")
    statement = (
        insert(TestCase)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, project_id=project_id, name=name, current_version=1)
        .on_conflict_do_nothing(index_elements=[TestCase.project_id, TestCase.name])
        .returning(TestCase.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def find_version(session: AsyncSession, case: TestCase, version: int) -> TestCaseVersion | None:
    query = select(TestCaseVersion).where(
        TestCaseVersion.tenant_id == case.tenant_id,
        TestCaseVersion.test_case_id == case.id,
        TestCaseVersion.version == version,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def last_version(session: AsyncSession, case: TestCase) -> int:
    query = select(func.coalesce(func.max(TestCaseVersion.version), 0)).where(
        TestCaseVersion.test_case_id == case.id
    )
    return int((await session.execute(query)).scalar_one())


def _last_run() -> Any:
    """Per test case, its newest run (a lateral subquery: one index look-up per listed test case)."""
    run_version = aliased(TestCaseVersion)
    return (
        select(
            TestRun.id,
            TestRun.status,
            Environment.name.label("environment"),
            run_version.version,
            TestRun.created_at,
            TestRun.finished_at,
        )
        .join(Environment, Environment.id == TestRun.environment_id)
        .join(run_version, run_version.id == TestRun.test_case_version_id)
        .where(TestRun.tenant_id == TestCase.tenant_id, TestRun.test_case_id == TestCase.id)
        .order_by(TestRun.created_at.desc(), TestRun.id.desc())
        .limit(1)
        .lateral("last_run")
    )


async def list_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    tag: str | None,
    limit: int,
    offset: int,
) -> tuple[list[tuple[TestCase, TestCaseVersion, LastRunRow | None]], int]:
    """A page of the project's test cases by name, each with its current version and its latest run."""
    if tag is not None and not reachable(tag):  # JSONB cannot hold it either, so no test case has this tag
        return [], 0
    last = _last_run()
    query = (
        select(TestCase, TestCaseVersion, *last.c)
        .join(
            TestCaseVersion,
            (TestCaseVersion.test_case_id == TestCase.id)
            & (TestCaseVersion.version == TestCase.current_version),
        )
        .outerjoin(last, true())
        .where(TestCase.tenant_id == tenant_id, TestCase.project_id == project_id)
    )
    if tag is not None:
        query = query.where(as_jsonb(TestCaseVersion.definition).contains({"tags": [tag]}))
    rows, total = await row_page(session, query.order_by(TestCase.name), limit, offset)
    return [(row[0], row[1], None if row[2] is None else row[2:]) for row in rows], total


async def list_current(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, names: list[str] | None
) -> list[tuple[TestCase, TestCaseVersion]]:
    query = _with_current().where(TestCase.tenant_id == tenant_id, TestCase.project_id == project_id)
    if names is not None:
        query = query.where(TestCase.name.in_(reachable_only(names)))
    rows = await session.execute(query.order_by(TestCase.name))
    return [(row[0], row[1]) for row in rows]


async def list_versions(
    session: AsyncSession, case: TestCase, limit: int, offset: int
) -> tuple[list[TestCaseVersion], int]:
    query = select(TestCaseVersion).where(
        TestCaseVersion.tenant_id == case.tenant_id, TestCaseVersion.test_case_id == case.id
    )
    return await scalar_page(session, query.order_by(TestCaseVersion.version), limit, offset)


async def suites_using(session: AsyncSession, case: TestCase) -> list[str]:
    """Names of the project's suites that list this test case by name."""
    query = select(Suite.name).where(
        Suite.tenant_id == case.tenant_id,
        Suite.project_id == case.project_id,
        as_jsonb(Suite.definition).contains({"tests": [case.name]}),
    )
    return list((await session.execute(query.order_by(Suite.name))).scalars())
