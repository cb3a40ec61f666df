"""The SQL of API tokens (issuing and checking them is ``orchestra.auth.api_tokens``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import scalar_page
from orchestra.models import ApiToken


async def page(
    session: AsyncSession, tenant_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[ApiToken], int]:
    """A page of the tenant's tokens, the newest first (revoked and expired ones included)."""
    query = select(ApiToken).where(ApiToken.tenant_id == tenant_id).order_by(ApiToken.created_at.desc())
    return await scalar_page(session, query, limit, offset)


async def other_valid_platform_admins(
    session: AsyncSession, tenant_id: uuid.UUID, token_id: uuid.UUID, now: datetime
) -> bool:
    """Whether a platform-admin token other than ``token_id`` is valid (not revoked, not expired)."""
    query = select(
        exists().where(
            ApiToken.tenant_id == tenant_id,
            ApiToken.id != token_id,
            ApiToken.platform_admin.is_(True),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    )
    return bool((await session.execute(query)).scalar_one())
