"""``POST /projects/{project}/apply`` and ``POST /apply``: sync test cases and suites from their
definitions, all or nothing."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import EditorDep, SessionDep
from orchestra.apply import service
from orchestra.apply.schemas import (
    ApplyFilesRequest,
    ApplyProjectsRequest,
    ApplyProjectsResult,
    ApplyRequest,
    ApplyResult,
)
from orchestra.projects.path_params import NameInPath

router = APIRouter(tags=["apply"])


@router.post(
    "/projects/{project}/apply",
    response_model=ApplyResult,
    description="Create or update the project's test cases, then its suites, in one transaction; the project "
    "is created if missing. Identical content is left unchanged. Any invalid item: 422 listing every "
    "problem, and nothing is stored. A suite whose `project` names another project is such a problem: "
    "apply it to that project, or use `POST /apply` for the definitions of several projects.",
)
async def apply(
    project: NameInPath, data: ApplyRequest, session: SessionDep, actor: EditorDep
) -> ApplyResult:
    return await service.apply_request(session, actor, project, data)


@router.post(
    "/projects/{project}/apply/files",
    response_model=ApplyResult,
    description="`POST /projects/{project}/apply` from YAML files, as `orchestra apply --project` reads a "
    "folder: each file a test case or a suite. Any problem: 422 listing every one with its `file`, `line` "
    "and `column`, and nothing is stored.",
)
async def apply_files(
    project: NameInPath, data: ApplyFilesRequest, session: SessionDep, actor: EditorDep
) -> ApplyResult:
    return await service.apply_files(session, actor, project, data)


@router.post(
    "/apply",
    response_model=ApplyProjectsResult,
    description="`POST /projects/{project}/apply` for several projects in one transaction (e.g. a folder "
    "whose suites name different projects): each entry names its project and carries its test cases and "
    "suites; each project is created if missing. Any invalid item of any project, or a project given "
    "twice: 422 listing every problem (paths start with `projects[i]`), and nothing is stored.",
)
async def apply_projects(
    data: ApplyProjectsRequest, session: SessionDep, actor: EditorDep
) -> ApplyProjectsResult:
    return await service.apply_projects_request(session, actor, data)
