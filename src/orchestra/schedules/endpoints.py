"""Schedules of a project: cron expressions with a time zone that start a suite on an environment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from orchestra.api_deps import EditorDep, SchedulerDep, SessionDep, ViewerDep
from orchestra.kit.pagination import Page, PageParams
from orchestra.schedules import service
from orchestra.schedules.schemas import (
    FireOut,
    NextFireTimes,
    ScheduleCreate,
    ScheduleDetail,
    ScheduleOut,
    ScheduleUpdate,
)

router = APIRouter(prefix="/projects/{project}/schedules", tags=["schedules"])

# "Now" is the scheduler's clock, so next fire times agree with the firing pass (and tests can set it).


@router.get("", response_model=Page[ScheduleOut])
async def list_schedules(
    project: str, session: SessionDep, actor: ViewerDep, page: Annotated[PageParams, Depends()]
) -> Page[ScheduleOut]:
    return await service.list_page(session, actor, project, page)


@router.post("", response_model=ScheduleDetail, status_code=status.HTTP_201_CREATED)
async def create_schedule(
    project: str, data: ScheduleCreate, session: SessionDep, actor: EditorDep, scheduler: SchedulerDep
) -> ScheduleDetail:
    return await service.create(session, actor, project, data, scheduler.clock())


@router.get("/{schedule}", response_model=ScheduleDetail)
async def get_schedule(
    project: str, schedule: str, session: SessionDep, actor: ViewerDep, scheduler: SchedulerDep
) -> ScheduleDetail:
    return await service.get_detail(session, actor, project, schedule, scheduler.clock())


@router.patch(
    "/{schedule}",
    response_model=ScheduleDetail,
    description="Change any field; a change of cron, timezone or enabled sets the next fire time anew.",
)
async def update_schedule(
    project: str,
    schedule: str,
    data: ScheduleUpdate,
    session: SessionDep,
    actor: EditorDep,
    scheduler: SchedulerDep,
) -> ScheduleDetail:
    return await service.update(session, actor, project, schedule, data, scheduler.clock())


@router.delete("/{schedule}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_schedule(project: str, schedule: str, session: SessionDep, actor: EditorDep) -> None:
    await service.delete(session, actor, project, schedule)


@router.post("/{schedule}/enable", response_model=ScheduleDetail)
async def enable_schedule(
    project: str, schedule: str, session: SessionDep, actor: EditorDep, scheduler: SchedulerDep
) -> ScheduleDetail:
    return await service.set_enabled(session, actor, project, schedule, True, scheduler.clock())


@router.post("/{schedule}/disable", response_model=ScheduleDetail)
async def disable_schedule(
    project: str, schedule: str, session: SessionDep, actor: EditorDep, scheduler: SchedulerDep
) -> ScheduleDetail:
    return await service.set_enabled(session, actor, project, schedule, False, scheduler.clock())


@router.get("/{schedule}/next", response_model=NextFireTimes)
async def next_fire_times(
    project: str,
    schedule: str,
    session: SessionDep,
    actor: ViewerDep,
    scheduler: SchedulerDep,
    count: Annotated[int, Query(ge=1, le=100, description="How many fire times.")] = 5,
) -> NextFireTimes:
    return await service.next_times(session, actor, project, schedule, count, scheduler.clock())


@router.get("/{schedule}/fires", response_model=Page[FireOut], description="Fire history, most recent first.")
async def list_fires(
    project: str,
    schedule: str,
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
) -> Page[FireOut]:
    return await service.fires(session, actor, project, schedule, page)
