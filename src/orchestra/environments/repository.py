"""Environments are found by id or by a name unique within the project, and listed by name."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import ProjectScoped
from orchestra.models import Environment, SuiteRun, TestRun

_environments = ProjectScoped(
    Environment, Environment.id, Environment.name, (Environment.tenant_id, Environment.project_id)
)

find = _environments.find
find_by_name = _environments.find_by_name
list_page = _environments.page


async def insert_if_missing(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, name: str, content: dict[str, Any]
) -> bool:
    """Insert the environment (``content``: base_url, variables, secrets, and the id when the caller chose
    it) unless the project has one by this name; True when inserted. Concurrent creators wait for each
    other instead of failing."""
    values = {"id": uuid.uuid4(), **content}
    statement = (
        insert(Environment)
        .values(tenant_id=tenant_id, project_id=project_id, name=name, **values)
        .on_conflict_do_nothing(index_elements=[Environment.project_id, Environment.name])
        .returning(Environment.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def count_runs(session: AsyncSession, tenant_id: uuid.UUID, environment_id: uuid.UUID) -> int:
    """Test runs and suite runs that refer to the environment (they keep it from being deleted)."""
    runs = select(func.count()).where(
        TestRun.tenant_id == tenant_id, TestRun.environment_id == environment_id
    )
    suite_runs = select(func.count()).where(
        SuiteRun.tenant_id == tenant_id, SuiteRun.environment_id == environment_id
    )
    return int((await session.execute(runs)).scalar_one()) + int(
        (await session.execute(suite_runs)).scalar_one()
    )
