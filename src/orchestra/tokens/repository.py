"""The SQL of API tokens (issuing and checking them is ``orchestra.auth.api_tokens``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import scalar_page
from orchestra.models import ApiToken


async def page(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[ApiToken], int]:
    """A page of the tenant's tokens, the newest first (revoked and expired ones included)."""
    query = select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(ApiToken.created_at.desc())
    return await scalar_page(session, query, limit, offset)
