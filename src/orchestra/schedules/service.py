"""Schedules of a project: a cron expression in a time zone that starts one of its suites on one of its
environments. The firing itself is in ``firing``; here a schedule is defined and its next fire time kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.environments import service as environments
from orchestra.errors import Conflict, InvalidInput, NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import Project, Schedule
from orchestra.projects import service as projects
from orchestra.schedules import cron, repository
from orchestra.schedules.schemas import (
    NEXT_TIMES_SHOWN,
    FireOut,
    NextFireTimes,
    ScheduleCreate,
    ScheduleDetail,
    ScheduleOut,
    ScheduleUpdate,
)
from orchestra.suites import service as suites


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"location": field, "message": message}])


def check_timing(expression: str, timezone: str) -> str:
    """The expression with its whitespace collapsed; InvalidInput (422) naming the field that is wrong."""
    try:
        cron.zone(timezone)
    except ValueError as error:
        raise _invalid("timezone", str(error)) from None
    try:
        cron.validate(expression, timezone)
    except ValueError as error:
        raise _invalid("cron", str(error)) from None
    return " ".join(expression.split())


def next_fire_at(schedule: Schedule, now: datetime) -> datetime | None:
    """When an enabled schedule fires next after ``now``; None when disabled."""
    if not schedule.enabled:
        return None
    upcoming = cron.next_fire_times(schedule.cron, schedule.timezone, now, 1)
    return upcoming[0] if upcoming else None


async def get(
    session: AsyncSession, actor: Actor, project: Project | str, ref: str, *, lock: bool = False
) -> Schedule:
    owner = await projects.get(session, actor, project)
    schedule = await repository.find(session, actor.tenant_id, owner.id, ref, lock=lock)
    if schedule is None:
        raise NotFound(f"schedule '{ref}' does not exist in project '{owner.name}'")
    return schedule


async def detail(session: AsyncSession, schedule: Schedule, now: datetime) -> ScheduleDetail:
    suite, environment = await repository.names(session, schedule)
    return ScheduleDetail(
        **ScheduleOut.of(schedule, suite, environment).model_dump(),
        next_fire_times=cron.next_fire_times(schedule.cron, schedule.timezone, now, NEXT_TIMES_SHOWN),
    )


async def get_detail(
    session: AsyncSession, actor: Actor, project: str, ref: str, now: datetime
) -> ScheduleDetail:
    return await detail(session, await get(session, actor, project, ref), now)


async def create(
    session: AsyncSession, actor: Actor, project: Project | str, data: ScheduleCreate, now: datetime
) -> ScheduleDetail:
    owner = await projects.get(session, actor, project)
    if await repository.find_by_name(session, actor.tenant_id, owner.id, data.name):
        raise Conflict(f"schedule '{data.name}' already exists in project '{owner.name}'")
    suite = await suites.get(session, actor, owner, data.suite)
    environment = await environments.get(session, actor, owner, data.environment)
    schedule = Schedule(
        tenant_id=actor.tenant_id,
        project_id=owner.id,
        name=data.name,
        suite_id=suite.id,
        environment_id=environment.id,
        cron=check_timing(data.cron, data.timezone),
        timezone=data.timezone,
        enabled=data.enabled,
        priority=data.priority,
        variables=dict(data.variables),
        misfire_policy=data.misfire_policy,
    )
    schedule.next_fire_at = next_fire_at(schedule, now)
    session.add(schedule)
    await session.flush()
    await session.refresh(schedule)
    return await detail(session, schedule, now)


async def update(
    session: AsyncSession, actor: Actor, project: str, ref: str, data: ScheduleUpdate, now: datetime
) -> ScheduleDetail:
    """Change the given fields. A change of cron, time zone or enabled sets the next fire time anew (from
    ``now``: times that passed while disabled are not made up for)."""
    owner = await projects.get(session, actor, project)
    schedule = await get(session, actor, owner, ref, lock=True)
    if data.name is not None and data.name != schedule.name:
        if await repository.find_by_name(session, actor.tenant_id, owner.id, data.name):
            raise Conflict(f"schedule '{data.name}' already exists in project '{owner.name}'")
        schedule.name = data.name
    if data.suite is not None:
        schedule.suite_id = (await suites.get(session, actor, owner, data.suite)).id
    if data.environment is not None:
        schedule.environment_id = (await environments.get(session, actor, owner, data.environment)).id
    timing = (schedule.cron, schedule.timezone, schedule.enabled)
    if data.cron is not None or data.timezone is not None:
        timezone = data.timezone if data.timezone is not None else schedule.timezone
        schedule.cron = check_timing(data.cron if data.cron is not None else schedule.cron, timezone)
        schedule.timezone = timezone
    if data.enabled is not None:
        schedule.enabled = data.enabled
    if (schedule.cron, schedule.timezone, schedule.enabled) != timing:
        schedule.next_fire_at = next_fire_at(schedule, now)
    if "priority" in data.model_fields_set:
        schedule.priority = data.priority
    if data.variables is not None:
        schedule.variables = dict(data.variables)
    if data.misfire_policy is not None:
        schedule.misfire_policy = data.misfire_policy
    await session.flush()
    await session.refresh(schedule)
    return await detail(session, schedule, now)


async def set_enabled(
    session: AsyncSession, actor: Actor, project: str, ref: str, enabled: bool, now: datetime
) -> ScheduleDetail:
    """Enable or disable; doing it twice changes nothing the second time."""
    return await update(session, actor, project, ref, ScheduleUpdate(enabled=enabled), now)


async def delete(session: AsyncSession, actor: Actor, project: str, ref: str) -> None:
    """Delete the schedule and its fire history; the suite runs it started are kept."""
    schedule = await get(session, actor, project, ref)
    await session.delete(schedule)
    await session.flush()


async def list_page(
    session: AsyncSession, actor: Actor, project: str, params: PageParams
) -> Page[ScheduleOut]:
    owner = await projects.get(session, actor, project)
    rows, total = await repository.list_page(session, actor.tenant_id, owner.id, params.limit, params.offset)
    return Page[ScheduleOut](
        items=[ScheduleOut.of(*row) for row in rows], total=total, limit=params.limit, offset=params.offset
    )


async def next_times(
    session: AsyncSession, actor: Actor, project: str, ref: str, count: int, now: datetime
) -> NextFireTimes:
    schedule = await get(session, actor, project, ref)
    times = cron.next_fire_times(schedule.cron, schedule.timezone, now, count)
    tz = cron.zone(schedule.timezone)
    return NextFireTimes(
        cron=schedule.cron,
        timezone=schedule.timezone,
        times=times,
        local_times=[moment.astimezone(tz) for moment in times],
    )


async def fires(
    session: AsyncSession, actor: Actor, project: str, ref: str, params: PageParams
) -> Page[FireOut]:
    schedule = await get(session, actor, project, ref)
    rows, total = await repository.fires_page(
        session, actor.tenant_id, schedule.id, params.limit, params.offset
    )
    return Page[FireOut](
        items=[FireOut.model_validate(row) for row in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )
