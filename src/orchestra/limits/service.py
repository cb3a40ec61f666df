"""Platform-wide and tenant limits. The settings default is passed in by the caller, never read here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.errors import NotFound
from orchestra.limits import repository
from orchestra.limits.schemas import GlobalLimitsOut, GlobalLimitsPut, TenantUpdate
from orchestra.models import Tenant


async def effective_global_limit(session: AsyncSession, default: int) -> int:
    """The platform-wide limit of active runs in force: the one set through the API, else ``default``."""
    configured = await repository.configured_max_active_runs(session)
    return default if configured is None else configured


async def get_global(session: AsyncSession, actor: Actor, default: int) -> GlobalLimitsOut:
    configured = await repository.configured_max_active_runs(session)
    return GlobalLimitsOut(
        max_active_runs=default if configured is None else configured, configured=configured, default=default
    )


async def set_global(
    session: AsyncSession, actor: Actor, data: GlobalLimitsPut, default: int
) -> GlobalLimitsOut:
    await repository.set_max_active_runs(session, data.max_active_runs)
    return await get_global(session, actor, default)


async def get_tenant(session: AsyncSession, actor: Actor) -> Tenant:
    tenant = await repository.find_tenant(session, actor.tenant_id)
    if tenant is None:
        raise NotFound("the acting tenant does not exist")
    return tenant


async def update_tenant(session: AsyncSession, actor: Actor, data: TenantUpdate) -> Tenant:
    tenant = await get_tenant(session, actor)
    if data.weight is not None:
        tenant.weight = data.weight
    if "max_active_runs" in data.model_fields_set:
        tenant.max_active_runs = data.max_active_runs
    await session.flush()
    await session.refresh(tenant)
    return tenant
