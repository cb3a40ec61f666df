"""Limits: the platform-wide cap on active runs and the acting tenant's weight and cap."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import PlatformAdminDep, SessionDep, SettingsDep, ViewerDep
from orchestra.limits import service
from orchestra.limits.schemas import GlobalLimitsOut, GlobalLimitsPut, TenantOut, TenantUpdate

router = APIRouter(tags=["limits"])


@router.get("/limits", response_model=GlobalLimitsOut)
async def get_limits(session: SessionDep, actor: ViewerDep, settings: SettingsDep) -> GlobalLimitsOut:
    return await service.get_global(session, actor, settings.max_active_runs)


@router.put("/limits", response_model=GlobalLimitsOut)
async def put_limits(
    data: GlobalLimitsPut, session: SessionDep, actor: PlatformAdminDep, settings: SettingsDep
) -> GlobalLimitsOut:
    return await service.set_global(session, actor, data, settings.max_active_runs)


@router.get("/tenant", response_model=TenantOut)
async def get_tenant(session: SessionDep, actor: ViewerDep) -> TenantOut:
    return TenantOut.model_validate(await service.get_tenant(session, actor))


@router.patch("/tenant", response_model=TenantOut)
async def update_tenant(data: TenantUpdate, session: SessionDep, actor: PlatformAdminDep) -> TenantOut:
    return TenantOut.model_validate(await service.update_tenant(session, actor, data))
