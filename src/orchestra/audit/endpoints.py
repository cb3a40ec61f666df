from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from orchestra.api_deps import AdminDep, SessionDep
from orchestra.audit import service
from orchestra.audit.schemas import AuditEventOut
from orchestra.kit.pagination import Page, PageParams

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEventOut], description="The tenant's audit log, newest first.")
async def list_audit_events(
    session: SessionDep,
    actor: AdminDep,
    page: Annotated[PageParams, Depends()],
    action: Annotated[str | None, Query(max_length=60)] = None,
    since: AwareDatetime | None = None,
) -> Page[AuditEventOut]:
    return await service.list_page(session, actor, page, action, since)
