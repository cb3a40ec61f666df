"""Environments of a project: where its tests run (base URL, variables, write-only secrets)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from orchestra.api_deps import EditorDep, SecretsDep, SessionDep, ViewerDep
from orchestra.environments import service
from orchestra.environments.schemas import (
    EnvironmentCreate,
    EnvironmentOut,
    EnvironmentPut,
    EnvironmentUpdate,
)
from orchestra.kit.pagination import Page, PageParams
from orchestra.projects.path_params import NameInPath

router = APIRouter(prefix="/projects/{project}/environments", tags=["environments"])


@router.get("", response_model=Page[EnvironmentOut])
async def list_environments(
    project: str, session: SessionDep, actor: ViewerDep, page: Annotated[PageParams, Depends()]
) -> Page[EnvironmentOut]:
    return await service.list_page(session, actor, project, page)


@router.post("", response_model=EnvironmentOut, status_code=status.HTTP_201_CREATED)
async def create_environment(
    project: str, data: EnvironmentCreate, session: SessionDep, actor: EditorDep, secrets: SecretsDep
) -> EnvironmentOut:
    return EnvironmentOut.of(await service.create(session, actor, project, data, secrets))


@router.get("/{environment}", response_model=EnvironmentOut)
async def get_environment(
    project: str, environment: str, session: SessionDep, actor: ViewerDep
) -> EnvironmentOut:
    return EnvironmentOut.of(await service.get(session, actor, project, environment))


@router.put(
    "/{name}",
    response_model=EnvironmentOut,
    responses={201: {"model": EnvironmentOut, "description": "Created"}},
    description="Create the environment or replace all of its content (200 replaced, 201 created).",
)
async def put_environment(
    project: str,
    name: NameInPath,
    data: EnvironmentPut,
    response: Response,
    session: SessionDep,
    actor: EditorDep,
    secrets: SecretsDep,
) -> EnvironmentOut:
    environment, created = await service.upsert(session, actor, project, name, data, secrets)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return EnvironmentOut.of(environment)


@router.patch("/{environment}", response_model=EnvironmentOut)
async def update_environment(
    project: str,
    environment: str,
    data: EnvironmentUpdate,
    session: SessionDep,
    actor: EditorDep,
    secrets: SecretsDep,
) -> EnvironmentOut:
    return EnvironmentOut.of(await service.update(session, actor, project, environment, data, secrets))


@router.delete("/{environment}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_environment(project: str, environment: str, session: SessionDep, actor: EditorDep) -> None:
    await service.delete(session, actor, project, environment)
