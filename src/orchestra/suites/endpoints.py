"""Suites of a project: definitions as JSON (the YAML format)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response, status

from orchestra.api_deps import EditorDep, SessionDep, ViewerDep
from orchestra.kit.downloads import YAML_FILE, yaml_file
from orchestra.kit.pagination import Page, PageParams
from orchestra.projects.path_params import NameInPath
from orchestra.suites import service
from orchestra.suites.schemas import SuiteOut, SuitePutOut, SuiteSummary

router = APIRouter(prefix="/projects/{project}/suites", tags=["suites"])

Definition = Annotated[
    dict[str, Any],
    Body(description='A suite definition, exactly as in a YAML file; tests ["*"] means all test cases.'),
]


@router.get("", response_model=Page[SuiteSummary])
async def list_suites(
    project: str, session: SessionDep, actor: ViewerDep, page: Annotated[PageParams, Depends()]
) -> Page[SuiteSummary]:
    return await service.list_page(session, actor, project, page)


@router.post("", response_model=SuiteOut, status_code=status.HTTP_201_CREATED)
async def create_suite(project: str, data: Definition, session: SessionDep, actor: EditorDep) -> SuiteOut:
    return SuiteOut.of(await service.create(session, actor, project, data))


@router.get("/{suite}", response_model=SuiteOut)
async def get_suite(project: str, suite: str, session: SessionDep, actor: ViewerDep) -> SuiteOut:
    return SuiteOut.of(await service.get(session, actor, project, suite))


@router.put(
    "/{name}",
    response_model=SuitePutOut,
    responses={201: {"model": SuitePutOut, "description": "Created"}},
    description="Create the suite (201) or replace its definition (200; identical content: changed=false).",
)
async def put_suite(
    project: str,
    name: NameInPath,
    data: Definition,
    response: Response,
    session: SessionDep,
    actor: EditorDep,
) -> SuitePutOut:
    suite, result = await service.put(session, actor, project, name, data)
    response.status_code = status.HTTP_201_CREATED if result == "created" else status.HTTP_200_OK
    return SuitePutOut.of_write(suite, result)


@router.delete("/{suite}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_suite(project: str, suite: str, session: SessionDep, actor: EditorDep) -> None:
    await service.delete(session, actor, project, suite)


@router.get(
    "/{suite}/yaml",
    response_class=Response,
    responses=YAML_FILE,
    description="The suite as its YAML file, the file `orchestra apply` takes (without `project`: the "
    "project it is applied to decides).",
)
async def get_suite_yaml(project: str, suite: str, session: SessionDep, actor: ViewerDep) -> Response:
    return yaml_file(*await service.get_yaml(session, actor, project, suite))
