from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.refs import by_ref
from orchestra.models import Environment, SuiteRun, TestRun


async def find(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, ref: str
) -> Environment | None:
    """An environment of the project by id or by name."""
    if "\x00" in ref:  # PostgreSQL text cannot hold NUL, so no object has this name
        return None
    where = by_ref(Environment.id, Environment.name, ref)
    query = select(Environment).where(
        Environment.tenant_id == tenant_id, Environment.project_id == project_id, where
    )
    return (await session.execute(query)).scalar_one_or_none()


async def find_by_name(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, name: str, *, lock: bool = False
) -> Environment | None:
    if "\x00" in name:
        return None
    query = select(Environment).where(
        Environment.tenant_id == tenant_id, Environment.project_id == project_id, Environment.name == name
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


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


async def list_page(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Environment], int]:
    base = select(Environment).where(Environment.tenant_id == tenant_id, Environment.project_id == project_id)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = await session.execute(base.order_by(Environment.name).limit(limit).offset(offset))
    return list(rows.scalars()), total


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
