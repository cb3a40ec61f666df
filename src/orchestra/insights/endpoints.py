from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from orchestra.api_deps import EditorDep, SessionDep, ViewerDep
from orchestra.insights import failure_groups, service
from orchestra.insights.flakiness import Classification
from orchestra.insights.schemas import (
    WINDOW_DAYS,
    FailureGroupDetail,
    FailureGroupOut,
    FlakinessOut,
    IssueLink,
    OperationStats,
    RunComparison,
    TrendsOut,
)
from orchestra.kit.pagination import Page, PageParams

router = APIRouter(tags=["insights"])
Ref = Annotated[str | None, Query(min_length=1, max_length=200)]
Project = Annotated[str, Query(min_length=1, max_length=200, description="Project id or name.")]
Days = Annotated[int, WINDOW_DAYS]


@router.get(
    "/insights/flakiness",
    response_model=Page[FlakinessOut],
    description="Test cases of a project scored for flakiness over the window: flaky first, then broken, "
    "then healthy; each with its steps' scores and the runs that flipped.",
)
async def flakiness(
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    project: Project,
    environment: Ref = None,
    test_case: Ref = None,
    days: Days = 30,
    classification: Classification | None = None,
) -> Page[FlakinessOut]:
    where = await service.scope(session, actor, project, days, environment, test_case)
    return await service.flakiness_page(session, where, page, classification)


@router.get(
    "/runs/{run_id}/compare",
    response_model=RunComparison,
    description="Two runs of one test case side by side: steps, checks, response bodies (a JSON diff) "
    "and variables. `with`: the other run's id, or `last_pass` for the latest earlier pass on the same "
    "environment.",
)
async def compare_runs(
    run_id: uuid.UUID,
    session: SessionDep,
    actor: ViewerDep,
    other: Annotated[str, Query(alias="with", min_length=1, max_length=40)] = service.LAST_PASS,
) -> RunComparison:
    return await service.compare(session, actor, run_id, other)


@router.get(
    "/insights/trends",
    response_model=TrendsOut,
    description="Pass rate and duration percentiles per time bucket, and the steps that failed most.",
)
async def trends(
    session: SessionDep,
    actor: ViewerDep,
    project: Project,
    environment: Ref = None,
    test_case: Ref = None,
    suite: Ref = None,
    days: Days = 30,
    bucket: Literal["hour", "day", "week"] = "day",
) -> TrendsOut:
    where = await service.scope(session, actor, project, days, environment, test_case, suite)
    return await service.trends_of(session, where, bucket)


@router.get(
    "/insights/operations",
    response_model=Page[OperationStats],
    description="Per SUT operation (method and path template) called by the steps: latency and error rate.",
)
async def operations(
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    project: Project,
    environment: Ref = None,
    test_case: Ref = None,
    suite: Ref = None,
    days: Days = 30,
) -> Page[OperationStats]:
    where = await service.scope(session, actor, project, days, environment, test_case, suite)
    return await service.operations_page(session, where, page)


@router.get(
    "/insights/failure-groups",
    response_model=Page[FailureGroupOut],
    description="Failures of a project grouped by cause (normalised message, then embedding similarity), "
    "the groups with the most failures in the window first.",
)
async def list_failure_groups(
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    project: Project,
    environment: Ref = None,
    test_case: Ref = None,
    days: Days = 30,
    has_issue: bool | None = None,
) -> Page[FailureGroupOut]:
    where = await service.scope(session, actor, project, days, environment, test_case)
    return await failure_groups.page_of(session, actor, where, page, has_issue)


@router.get(
    "/insights/failure-groups/{group_id}",
    response_model=FailureGroupDetail,
    description="One failure group: its test cases, latest runs, and what changed when it first appeared.",
)
async def get_failure_group(group_id: uuid.UUID, session: SessionDep, actor: ViewerDep) -> FailureGroupDetail:
    return await failure_groups.detail(session, actor, group_id)


@router.put(
    "/insights/failure-groups/{group_id}/issue",
    response_model=FailureGroupDetail,
    description="Link the group to a known issue: its failures from now on are labelled with it.",
)
async def link_issue(
    group_id: uuid.UUID, link: IssueLink, session: SessionDep, actor: EditorDep
) -> FailureGroupDetail:
    return await failure_groups.link_issue(session, actor, group_id, link.url)


@router.delete("/insights/failure-groups/{group_id}/issue", status_code=status.HTTP_204_NO_CONTENT)
async def unlink_issue(group_id: uuid.UUID, session: SessionDep, actor: EditorDep) -> None:
    await failure_groups.unlink_issue(session, actor, group_id)
