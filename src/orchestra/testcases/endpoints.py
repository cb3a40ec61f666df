"""Test cases of a project: definitions as JSON (the YAML format), versioned on every change."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from orchestra.api_deps import EditorDep, SessionDep, ViewerDep
from orchestra.kit.downloads import YAML_FILE, yaml_file
from orchestra.kit.pagination import Page, PageParams
from orchestra.projects.path_params import NameInPath
from orchestra.testcases import service
from orchestra.testcases.schemas import (
    TestCaseOut,
    TestCasePutOut,
    TestCaseSource,
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


@router.get(
    "/{test_case}/yaml",
    response_class=Response,
    responses=YAML_FILE,
    description="The current version (or `version`) as its YAML file, the file `orchestra apply` takes: keys "
    "in the order of the language; comments and the order of keys within a mapping of your own (headers, "
    "bodies, checks) are not kept, since a test case is stored as its definition.",
)
async def get_test_case_yaml(
    project: str,
    test_case: str,
    session: SessionDep,
    actor: ViewerDep,
    version: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    return yaml_file(*await service.get_yaml(session, actor, project, test_case, version))


@router.put(
    "/{name}/yaml",
    response_model=TestCasePutOut,
    responses={201: {"model": TestCasePutOut, "description": "Created"}},
    description="As `PUT /{name}`, from the text of the YAML file: problems name their line and column. "
    "With `base_version`, refused (409) when the test case is no longer at that version.",
)
async def put_test_case_yaml(
    project: str, name: str, source: TestCaseSource, response: Response, session: SessionDep, actor: EditorDep
) -> TestCasePutOut:
    case, version, result = await service.put_yaml(session, actor, project, name, source)
    response.status_code = status.HTTP_201_CREATED if result == "created" else status.HTTP_200_OK
    return TestCasePutOut.of_write(case, version, result)
