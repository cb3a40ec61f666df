"""A project's retention policy: how long its finished runs are kept (the scheduler leader deletes the rest
in small batches, keeping one compact verdict row per deleted run)."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import AdminDep, SessionDep, ViewerDep
from orchestra.retention import service
from orchestra.retention.schemas import RetentionOut, RetentionUpdate

router = APIRouter(prefix="/projects/{project}/retention", tags=["retention"])


@router.get("", response_model=RetentionOut, description="The project's retention policy (nulls: keep all).")
async def get_retention(project: str, session: SessionDep, actor: ViewerDep) -> RetentionOut:
    return await service.get(session, actor, project)


@router.put(
    "",
    response_model=RetentionOut,
    description="Set how long finished runs are kept: `keep_days` and/or `keep_last` per test case (a "
    "field left out keeps its value, null switches it off). Runs past the rule are deleted by the next "
    "sweep with their steps; their verdicts stay as compact rows that insights read. Admins only.",
)
async def set_retention(
    project: str, data: RetentionUpdate, session: SessionDep, actor: AdminDep
) -> RetentionOut:
    return await service.update(session, actor, project, data)
