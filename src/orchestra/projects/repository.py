from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.refs import by_ref
from orchestra.models import Project


async def find(session: AsyncSession, tenant_id: uuid.UUID, ref: str) -> Project | None:
    """A project by id or by name, within the tenant."""
    where = by_ref(Project.id, Project.name, ref)
    return (
        await session.execute(select(Project).where(Project.tenant_id == tenant_id, where))
    ).scalar_one_or_none()


async def find_by_name(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> Project | None:
    return (
        await session.execute(select(Project).where(Project.tenant_id == tenant_id, Project.name == name))
    ).scalar_one_or_none()


async def list_page(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Project], int]:
    base = select(Project).where(Project.tenant_id == tenant_id)
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    rows = await session.execute(base.order_by(Project.name).limit(limit).offset(offset))
    return list(rows.scalars()), total
