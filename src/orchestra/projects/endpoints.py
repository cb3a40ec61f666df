from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from orchestra.api_deps import AdminDep, EditorDep, SessionDep, ViewerDep
from orchestra.kit.pagination import Page, PageParams
from orchestra.projects import service
from orchestra.projects.schemas import ProjectCreate, ProjectOut, ProjectUpdate

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=Page[ProjectOut])
async def list_projects(
    session: SessionDep, actor: ViewerDep, page: Annotated[PageParams, Depends()]
) -> Page[ProjectOut]:
    return await service.list_page(session, actor, page)


@router.post("", response_model=ProjectOut, status_code=status.HTTP_201_CREATED)
async def create_project(data: ProjectCreate, session: SessionDep, actor: EditorDep) -> ProjectOut:
    return ProjectOut.model_validate(await service.create(session, actor, data))


@router.get("/{project}", response_model=ProjectOut)
async def get_project(project: str, session: SessionDep, actor: ViewerDep) -> ProjectOut:
    return ProjectOut.model_validate(await service.get(session, actor, project))


@router.patch("/{project}", response_model=ProjectOut)
async def update_project(
    project: str, data: ProjectUpdate, session: SessionDep, actor: AdminDep
) -> ProjectOut:
    return ProjectOut.model_validate(await service.update(session, actor, project, data))


@router.delete("/{project}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(project: str, session: SessionDep, actor: AdminDep) -> None:
    await service.delete(session, actor, project)
