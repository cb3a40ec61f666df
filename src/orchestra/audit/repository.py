"""The SQL of reading the audit log (rows are written by ``service.record`` with the change they describe)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import scalar_page
from orchestra.models import AuditEvent


async def page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    action: str | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[AuditEvent], int]:
    """A page of the tenant's events, the newest first; ``action`` and ``since`` narrow it when given."""
    conditions = [AuditEvent.tenant_id == tenant_id]
    if action:
        conditions.append(AuditEvent.action == action)
    if since is not None:
        conditions.append(AuditEvent.at >= since)
    query = select(AuditEvent).where(*conditions).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return await scalar_page(session, query, limit, offset)
