from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.models import Project
from orchestra.projects import service as projects
from orchestra.retention import repository
from orchestra.retention.schemas import RetentionOut, RetentionUpdate


async def get(session: AsyncSession, actor: Actor, project_ref: Project | str) -> RetentionOut:
    project = await projects.get(session, actor, project_ref)
    policy = await repository.get_policy(session, project.id)
    return RetentionOut(
        project_id=project.id,
        keep_days=policy.keep_days if policy else None,
        keep_last=policy.keep_last if policy else None,
        updated_at=policy.updated_at if policy else None,
        verdicts=await repository.count_verdicts(session, project.id),
    )


async def update(
    session: AsyncSession, actor: Actor, project_ref: Project | str, data: RetentionUpdate
) -> RetentionOut:
    project = await projects.get(session, actor, project_ref)
    policy = await repository.locked_policy(session, actor.tenant_id, project.id)
    if "keep_days" in data.model_fields_set:
        policy.keep_days = data.keep_days
    if "keep_last" in data.model_fields_set:
        policy.keep_last = data.keep_last
    await session.flush()
    await session.refresh(policy)
    return await get(session, actor, project)
