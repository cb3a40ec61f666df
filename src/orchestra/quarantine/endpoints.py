"""Mutes of a project: a test case muted on an environment, with a reason and an expiry."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from orchestra.api_deps import EditorDep, SessionDep, ViewerDep
from orchestra.kit.pagination import Page, PageParams
from orchestra.quarantine import service
from orchestra.quarantine.schemas import MuteCreate, MuteOut

router = APIRouter(prefix="/projects/{project}/mutes", tags=["mutes"])
Ref = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get(
    "",
    response_model=Page[MuteOut],
    description="The project's mutes in force (with `include_expired`, the expired ones too), the soonest "
    "to expire first.",
)
async def list_mutes(
    project: str,
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    environment: Ref = None,
    test_case: Ref = None,
    include_expired: bool = False,
) -> Page[MuteOut]:
    return await service.list_page(session, actor, project, page, environment, test_case, include_expired)


@router.post(
    "",
    response_model=MuteOut,
    status_code=status.HTTP_201_CREATED,
    description="Mute a test case on an environment until `expires_at`: its runs created meanwhile still "
    "run and are recorded, but their failures do not fail a suite run or the CLI's exit code. 409 when a "
    "mute of the pair is in force (an expired one is replaced).",
)
async def create_mute(project: str, data: MuteCreate, session: SessionDep, actor: EditorDep) -> MuteOut:
    return await service.create(session, actor, project, data)


@router.get("/{mute_id}", response_model=MuteOut)
async def get_mute(project: str, mute_id: uuid.UUID, session: SessionDep, actor: ViewerDep) -> MuteOut:
    return await service.get(session, actor, project, mute_id)


@router.delete(
    "/{mute_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    description="End the mute now; runs created under it keep it.",
)
async def delete_mute(project: str, mute_id: uuid.UUID, session: SessionDep, actor: EditorDep) -> None:
    await service.delete(session, actor, project, mute_id)
