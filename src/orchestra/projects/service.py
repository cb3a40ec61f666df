from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.errors import Conflict, Forbidden, NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.kit.repository import reachable
from orchestra.models import Project
from orchestra.projects import repository
from orchestra.projects.schemas import ProjectCreate, ProjectOut, ProjectUpdate


async def get(session: AsyncSession, actor: Actor, ref: Project | str) -> Project:
    """The project itself when given one, else the tenant's project with this id or name."""
    if isinstance(ref, Project):
        return ref
    project = await repository.find(session, actor.tenant_id, ref)
    if project is None:
        shown = f"'{ref}'" if reachable(ref) else repr(ref)  # a NUL is shown escaped, not sent raw
        raise NotFound(f"project {shown} does not exist")
    return project


async def create(session: AsyncSession, actor: Actor, data: ProjectCreate) -> Project:
    if actor.project_id is not None:
        raise Forbidden("a project-scoped token cannot create projects")
    if await repository.find_by_name(session, actor.tenant_id, data.name):
        raise Conflict(f"project '{data.name}' already exists")
    project = Project(
        tenant_id=actor.tenant_id,
        name=data.name,
        description=data.description,
        max_active_runs=data.max_active_runs,
    )
    session.add(project)
    await session.flush()
    return project


async def ensure(session: AsyncSession, actor: Actor, name: str) -> Project:
    """The project with this name, created if missing (used by ``apply`` and the CLI)."""
    project = await repository.find_by_name(session, actor.tenant_id, name)
    if project is not None:
        return project
    return await create(session, actor, ProjectCreate(name=name))


async def update(session: AsyncSession, actor: Actor, ref: str, data: ProjectUpdate) -> Project:
    project = await get(session, actor, ref)
    if data.name is not None and data.name != project.name:
        if await repository.find_by_name(session, actor.tenant_id, data.name):
            raise Conflict(f"project '{data.name}' already exists")
        project.name = data.name
    if "description" in data.model_fields_set:
        project.description = data.description
    if "max_active_runs" in data.model_fields_set:
        project.max_active_runs = data.max_active_runs
    await session.flush()
    await session.refresh(project)
    return project


async def delete(session: AsyncSession, actor: Actor, ref: str) -> None:
    project = await get(session, actor, ref)
    await session.delete(project)
    await session.flush()


async def list_page(session: AsyncSession, actor: Actor, params: PageParams) -> Page[ProjectOut]:
    rows, total = await repository.list_page(session, actor.tenant_id, params.limit, params.offset)
    return Page[ProjectOut](
        items=[ProjectOut.model_validate(row) for row in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )
