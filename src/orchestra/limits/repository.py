from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.models import PlatformLimits, Tenant

_ROW_ID = 1  # platform_limits holds a single row


async def configured_max_active_runs(session: AsyncSession) -> int | None:
    query = select(PlatformLimits.max_active_runs).where(PlatformLimits.id == _ROW_ID)
    return (await session.execute(query)).scalar_one_or_none()


async def set_max_active_runs(session: AsyncSession, value: int | None) -> None:
    """Upsert the single row (safe when two writers race: the last one wins)."""
    statement = (
        insert(PlatformLimits)
        .values(id=_ROW_ID, max_active_runs=value)
        .on_conflict_do_update(
            index_elements=[PlatformLimits.id], set_={"max_active_runs": value, "updated_at": func.now()}
        )
    )
    await session.execute(statement)


async def find_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant | None:
    return (await session.execute(select(Tenant).where(Tenant.id == tenant_id))).scalar_one_or_none()
