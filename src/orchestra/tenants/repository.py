from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.models import Tenant


async def ensure_tenant(session: AsyncSession, name: str) -> uuid.UUID:
    """Return the tenant's id, creating it on first use (safe when several processes start together)."""
    await session.execute(insert(Tenant).values(id=uuid.uuid4(), name=name).on_conflict_do_nothing())
    return (await session.execute(select(Tenant.id).where(Tenant.name == name))).scalar_one()
