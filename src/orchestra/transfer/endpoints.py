"""A project as one document, out of one installation and into another (``orchestra admin export/import``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from orchestra.api_deps import AdminDep, SchedulerDep, SecretsDep, SessionDep, ViewerDep
from orchestra.projects.schemas import NAME_PATTERN
from orchestra.transfer import service
from orchestra.transfer.schemas import ImportResult, ProjectDocument, ProjectExport

router = APIRouter(tags=["transfer"])


@router.get(
    "/projects/{project}/export",
    response_model=ProjectExport,
    description="The project as one document: its test cases' current definitions, suites, environments "
    "(variables, request defaults, allowed hosts, limits, and the names of their secrets, never a value), "
    "schedules and retention policy. `POST /import` reads it back, here or in another installation.",
)
async def export_project(
    project: str, session: SessionDep, actor: ViewerDep, scheduler: SchedulerDep
) -> ProjectExport:
    return await service.export_project(session, actor, project, scheduler.clock())


@router.post(
    "/import",
    response_model=ImportResult,
    description="Create or update a project from an exported document (as `project`, else the name it "
    "has there): environments, test cases and suites (a new version only where a definition changed), "
    "schedules and retention; all or nothing, and importing the same document again changes nothing. "
    "Secret values are not in the document: `secrets_to_set` lists those to set. Admins only.",
)
async def import_project(
    document: ProjectDocument,
    session: SessionDep,
    actor: AdminDep,
    secrets: SecretsDep,
    scheduler: SchedulerDep,
    project: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NAME_PATTERN)] = None,
) -> ImportResult:
    return await service.import_project(session, actor, secrets, document, project, scheduler.clock())
