from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.refs import by_ref
from orchestra.models import Suite, TestCase


async def find(session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, ref: str) -> Suite | None:
    """A suite of the project by id or by name."""
    if "\x00" in ref:  # PostgreSQL text cannot hold NUL, so no object has this name
        return None
    where = by_ref(Suite.id, Suite.name, ref)
    query = select(Suite).where(Suite.tenant_id == tenant_id, Suite.project_id == project_id, where)
    return (await session.execute(query)).scalar_one_or_none()


async def find_by_name(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, name: str, *, lock: bool = False
) -> Suite | None:
    if "\x00" in name:
        return None
    query = select(Suite).where(
        Suite.tenant_id == tenant_id, Suite.project_id == project_id, Suite.name == name
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def insert_if_missing(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, name: str, definition: dict[str, Any]
) -> bool:
    """Insert the suite unless the project has one by this name; True when inserted. Concurrent creators
    wait for each other here instead of failing on the unique constraint."""
    statement = (
        insert(Suite)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, project_id=project_id, name=name, definition=definition)
        .on_conflict_do_nothing(index_elements=[Suite.project_id, Suite.name])
        .returning(Suite.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def list_page(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Suite], int]:
    base = select(Suite).where(Suite.tenant_id == tenant_id, Suite.project_id == project_id)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = await session.execute(base.order_by(Suite.name).limit(limit).offset(offset))
    return list(rows.scalars()), total


async def existing_test_names(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, names: list[str]
) -> set[str]:
    """Those of ``names`` that are test cases of the project."""
    names = [name for name in names if "\x00" not in name]  # PostgreSQL text cannot hold NUL
    if not names:
        return set()
    query = select(TestCase.name).where(
        TestCase.tenant_id == tenant_id, TestCase.project_id == project_id, TestCase.name.in_(names)
    )
    return set((await session.execute(query)).scalars())
