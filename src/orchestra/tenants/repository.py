"""Tenants are looked up (and created on first use) by name across tenants, so only through the narrow
``orchestra_sys_tenant`` function: the application role cannot read other tenants' rows."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_TENANT = text("SELECT orchestra_sys_tenant(:name)")


async def ensure_tenant(session: AsyncSession, name: str) -> uuid.UUID:
    """Return the tenant's id, creating it on first use (safe when several processes start together)."""
    tenant_id: uuid.UUID = (await session.execute(_TENANT, {"name": name})).scalar_one()
    return tenant_id
