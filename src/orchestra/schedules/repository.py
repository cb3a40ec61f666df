from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.db import set_tenant
from orchestra.kit.repository import ProjectScoped, row_page, scalar_page
from orchestra.models import Environment, Schedule, ScheduleFire, Suite

ScheduleRow = tuple[Schedule, str, str]  # the schedule, its suite's name, its environment's name


_schedules = ProjectScoped(Schedule, Schedule.id, Schedule.name, (Schedule.tenant_id, Schedule.project_id))

find = _schedules.find
find_by_name = _schedules.find_by_name


async def names(session: AsyncSession, schedule: Schedule) -> tuple[str, str]:
    """The names of the schedule's suite and environment."""
    query = (
        select(Suite.name, Environment.name)
        .select_from(Schedule)
        .join(Suite, Suite.id == Schedule.suite_id)
        .join(Environment, Environment.id == Schedule.environment_id)
        .where(Schedule.id == schedule.id)
    )
    suite, environment = (await session.execute(query)).one()
    return suite, environment


async def list_page(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[ScheduleRow], int]:
    """The project's schedules by name, with their suite's and environment's names (both are required
    references, so the joins keep every schedule and the count is the schedules')."""
    query = (
        select(Schedule, Suite.name, Environment.name)
        .join(Suite, Suite.id == Schedule.suite_id)
        .join(Environment, Environment.id == Schedule.environment_id)
        .where(Schedule.tenant_id == tenant_id, Schedule.project_id == project_id)
        .order_by(Schedule.name)
    )
    return await row_page(session, query, limit, offset)


async def fires_page(
    session: AsyncSession, tenant_id: uuid.UUID, schedule_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[ScheduleFire], int]:
    """The schedule's fires, most recent fire time first."""
    query = (
        select(ScheduleFire)
        .where(ScheduleFire.tenant_id == tenant_id, ScheduleFire.schedule_id == schedule_id)
        .order_by(ScheduleFire.fire_time.desc())
    )
    return await scalar_page(session, query, limit, offset)


# The firing pass (every tenant's schedules: it runs on the scheduler leader, not for a request).


_DUE = text("SELECT id, tenant_id FROM orchestra_sys_due_schedules(:at, :batch)")


async def lock_due(session: AsyncSession, now: datetime, batch: int) -> tuple[list[Schedule], int]:
    """Enabled schedules due at ``now``, locked for this transaction (ones another pass holds are skipped),
    and how many were due. The due ids of every tenant come from ``orchestra_sys_due_schedules`` (ids and
    tenants only); each schedule is then read and locked inside its own tenant."""
    due = (await session.execute(_DUE, {"at": now, "batch": batch})).all()
    locked: list[Schedule] = []
    for row in due:
        await set_tenant(session, row.tenant_id)
        query = (
            select(Schedule)
            .where(Schedule.id == row.id, Schedule.enabled, Schedule.next_fire_at <= now)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        schedule = (await session.execute(query)).scalar_one_or_none()
        if schedule is not None:
            locked.append(schedule)
    return locked, len(due)


async def insert_fire(
    session: AsyncSession, tenant_id: uuid.UUID, schedule_id: uuid.UUID, fire_time: datetime
) -> int | None:
    """Claim the due time: the new fire's id, or None when this time was already fired (by any replica).

    A concurrent claim of the same time waits here until the other transaction ends, then gets None if
    it committed."""
    statement = (
        insert(ScheduleFire)
        .values(tenant_id=tenant_id, schedule_id=schedule_id, fire_time=fire_time)
        .on_conflict_do_nothing(index_elements=[ScheduleFire.schedule_id, ScheduleFire.fire_time])
        .returning(ScheduleFire.id)
    )
    fire_id: int | None = (await session.execute(statement)).scalar_one_or_none()
    return fire_id


async def finish_fire(
    session: AsyncSession, fire_id: int, suite_run_id: uuid.UUID | None, error: str | None = None
) -> None:
    statement = (
        update(ScheduleFire)
        .where(ScheduleFire.id == fire_id)
        .values(suite_run_id=suite_run_id, error=error[:2000] if error else None)
    )
    await session.execute(statement)


async def advance(
    session: AsyncSession,
    schedule_id: uuid.UUID,
    next_fire_at: datetime | None,
    last_fire_at: datetime | None,
) -> None:
    """Set the next fire time (and the last one, when something fired); ``updated_at`` stays the time of the
    last change by a user."""
    values: dict[str, object] = {"next_fire_at": next_fire_at, "updated_at": Schedule.updated_at}
    if last_fire_at is not None:
        values["last_fire_at"] = last_fire_at
    statement = update(Schedule).where(Schedule.id == schedule_id).values(**values)
    await session.execute(statement.execution_options(synchronize_session=False))
