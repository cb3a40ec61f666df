"""Test cases of a project: definitions as JSON (the YAML format), versioned on every change."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from orchestra.api_deps import EditorDep, SessionDep, ViewerDep
from orchestra.kit.pagination import Page, PageParams
from orchestra.projects.schemas import NameInPath
from orchestra.testcases import service
from orchestra.testcases.schemas import (
    TestCaseOut,
    TestCasePutOut,
    TestCaseSummary,
    VersionOut,
    VersionSummary,
)

router = APIRouter(prefix="/projects/{project}/test-cases", tags=["test cases"])

Definition = Annotated[
    dict[str, Any],
    Body(description="A test case definition, exactly as in a YAML file (see the JSON Schema)."),
]
VersionNumber = Annotated[int, Path(ge=1, le=2_147_483_647)]


@router.get("", response_model=Page[TestCaseSummary])
async def list_test_cases(
    project: str,
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    tag: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only test cases with this tag.")
    ] = None,
) -> Page[TestCaseSummary]:
    return await service.list_page(session, actor, project, page, tag)


@router.post("", response_model=TestCaseOut, status_code=status.HTTP_201_CREATED)
async def create_test_case(
    project: str, data: Definition, session: SessionDep, actor: EditorDep
) -> TestCaseOut:
    return TestCaseOut.of(*await service.create(session, actor, project, data))


@router.get("/{test_case}", response_model=TestCaseOut)
async def get_test_case(project: str, test_case: str, session: SessionDep, actor: ViewerDep) -> TestCaseOut:
    return TestCaseOut.of(*await service.get(session, actor, project, test_case))


@router.put(
    "/{name}",
    response_model=TestCasePutOut,
    responses={201: {"model": TestCasePutOut, "description": "Created"}},
    description="Create the test case (201) or add a version when the content differs (200; "
    "identical content adds none: changed=false).",
)
async def put_test_case(
    project: str,
    name: NameInPath,
    data: Definition,
    response: Response,
    session: SessionDep,
    actor: EditorDep,
) -> TestCasePutOut:
    case, version, result = await service.put(session, actor, project, name, data)
    response.status_code = status.HTTP_201_CREATED if result == "created" else status.HTTP_200_OK
    return TestCasePutOut.of_write(case, version, result)


@router.delete("/{test_case}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_test_case(project: str, test_case: str, session: SessionDep, actor: EditorDep) -> None:
    await service.delete(session, actor, project, test_case)


@router.get("/{test_case}/versions", response_model=Page[VersionSummary])
async def list_versions(
    project: str,
    test_case: str,
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
) -> Page[VersionSummary]:
    return await service.list_versions(session, actor, project, test_case, page)


@router.get("/{test_case}/versions/{version}", response_model=VersionOut)
async def get_version(
    project: str, test_case: str, version: VersionNumber, session: SessionDep, actor: ViewerDep
) -> VersionOut:
    return VersionOut.of(*await service.get_version(session, actor, project, test_case, version))
