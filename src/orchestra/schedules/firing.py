"""Firing due schedules: called by the scheduler leader's pass, before admission.

Exactly one suite run per due time, whichever replicas fire at once: due schedules are locked (FOR UPDATE
SKIP LOCKED, so two passes never work on the same one), and a due time is claimed by inserting its row into
``schedule_fires``, unique per (schedule, fire time), in the same transaction that creates the suite run. A
second claim of the same time conflicts and does nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.db import Database, set_tenant
from orchestra.errors import OrchestraError
from orchestra.kit import metrics
from orchestra.models import Schedule
from orchestra.runs import service as runs
from orchestra.runs.schemas import SuiteRunCreate
from orchestra.schedules import cron, repository
from orchestra.schedules.cron import MisfirePolicy
from orchestra.webhooks import service as webhooks

log = structlog.get_logger(__name__)

FIRE_BATCH = 100  # schedules locked per transaction
MAX_BATCHES = 10  # per pass: a backlog larger than this goes on in the next pass


@dataclass(frozen=True, slots=True)
class DueSchedule:
    """What firing needs of a locked schedule, read once (the ORM object is not touched afterwards)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    project_id: uuid.UUID
    name: str
    suite_id: uuid.UUID
    environment_id: uuid.UUID
    cron: str
    timezone: str
    priority: int | None
    variables: dict[str, Any]
    misfire_policy: MisfirePolicy
    next_fire_at: datetime

    @classmethod
    def of(cls, schedule: Schedule) -> DueSchedule:
        assert schedule.next_fire_at is not None  # selected by next_fire_at <= now
        return cls(
            id=schedule.id,
            tenant_id=schedule.tenant_id,
            project_id=schedule.project_id,
            name=schedule.name,
            suite_id=schedule.suite_id,
            environment_id=schedule.environment_id,
            cron=schedule.cron,
            timezone=schedule.timezone,
            priority=schedule.priority,
            variables=dict(schedule.variables),
            misfire_policy=cast(MisfirePolicy, schedule.misfire_policy),  # a CHECK constraint holds
            next_fire_at=schedule.next_fire_at,
        )


async def fire_at(session: AsyncSession, schedule: DueSchedule, fire_time: datetime) -> uuid.UUID | None:
    """Fire ``schedule`` for the due time ``fire_time``: the suite run created, or None when that time was
    already fired or no run could be started (e.g. the suite has no test cases; the fire row says why)."""
    fire_id = await repository.insert_fire(session, schedule.tenant_id, schedule.id, fire_time)
    if fire_id is None:
        log.info("schedule.already_fired", schedule_id=str(schedule.id), fire_time=fire_time.isoformat())
        return None
    context = {"schedule_id": str(schedule.id), "schedule": schedule.name, "fire_time": fire_time.isoformat()}
    try:
        request = SuiteRunCreate(
            project=str(schedule.project_id),
            environment=str(schedule.environment_id),
            suite=str(schedule.suite_id),
            trigger="schedule",
            priority=schedule.priority,
            variables=schedule.variables,
        )
        async with session.begin_nested():  # a failure undoes the run's rows, not the claim of the time
            created = await runs.create_suite_run(session, Actor(tenant_id=schedule.tenant_id), request)
    except OrchestraError as error:
        log.warning("schedule.fire_skipped", reason=error.detail, **context)
        await repository.finish_fire(session, fire_id, None, error.detail)
        await record_misfire(session, schedule, fire_time, f"no run could be started: {error.detail}")
        return None
    except Exception as error:
        log.exception("schedule.fire_failed", **context)
        reason = f"internal error: {type(error).__name__}"
        await repository.finish_fire(session, fire_id, None, reason)
        await record_misfire(session, schedule, fire_time, f"no run could be started: {reason}")
        return None
    await repository.finish_fire(session, fire_id, created.id)
    log.info("schedule.fired", suite_run_id=str(created.id), runs=len(created.runs), **context)
    return created.id


async def record_misfire(session: AsyncSession, schedule: DueSchedule, due_at: datetime, detail: str) -> None:
    """The ``schedule.misfired`` webhook event of a due time that started no run, in the firing's
    transaction (queued once per schedule and due time)."""
    event = {
        "schedule": {
            "id": str(schedule.id),
            "name": schedule.name,
            "cron": schedule.cron,
            "timezone": schedule.timezone,
            "misfire_policy": schedule.misfire_policy,
        },
        "due_at": due_at.isoformat(),
        "detail": detail[:1000],
    }
    key = f"schedule.misfired/{schedule.id}/{due_at.isoformat()}"
    await webhooks.record_event(
        session, schedule.tenant_id, schedule.project_id, "schedule.misfired", key, event
    )


async def fire_schedule(session: AsyncSession, schedule: DueSchedule, now: datetime) -> list[uuid.UUID]:
    """Fire the due times of a locked schedule by its misfire policy, then move its next fire time past
    ``now``. Returns the suite runs created."""
    due = cron.due_fire_times(
        schedule.cron, schedule.timezone, schedule.next_fire_at, now, schedule.misfire_policy
    )
    created = []
    for moment in due:
        run = await fire_at(session, schedule, moment)
        if run:
            created.append(run)
            metrics.SCHEDULE_LATENESS.observe(max(0.0, (now - moment).total_seconds()))
    upcoming = cron.next_fire_times(schedule.cron, schedule.timezone, now, 1)
    await repository.advance(
        session, schedule.id, upcoming[0] if upcoming else None, due[-1] if due else None
    )
    if not due or due[0] > schedule.next_fire_at:  # due times were missed, and skipped by the policy
        ran = f"; the most recent {len(due)} ran" if due else ""
        await record_misfire(
            session,
            schedule,
            schedule.next_fire_at,
            f"due at {schedule.next_fire_at.isoformat()} and missed (no scheduler ran then); skipped by "
            f"the misfire policy '{schedule.misfire_policy}'{ran}",
        )
    if not due:
        log.info(
            "schedule.misfire_skipped",
            schedule_id=str(schedule.id),
            policy=schedule.misfire_policy,
            missed_since=schedule.next_fire_at.isoformat(),
        )
    if not upcoming:
        log.warning("schedule.no_next_fire_time", schedule_id=str(schedule.id), cron=schedule.cron)
    return created


async def _fire_batch(db: Database, now: datetime) -> tuple[int, list[uuid.UUID]]:
    created: list[uuid.UUID] = []
    async with db.transaction(None) as session:
        schedules, due = await repository.lock_due(session, now, FIRE_BATCH)
        locked = [DueSchedule.of(schedule) for schedule in schedules]
        for schedule in locked:
            await set_tenant(session, schedule.tenant_id)
            try:
                created += await fire_schedule(session, schedule, now)
            except ValueError:  # a stored expression no longer valid: stop it rather than retry forever
                log.exception("schedule.invalid_stopped", schedule_id=str(schedule.id), cron=schedule.cron)
                await repository.advance(session, schedule.id, None, None)
    return due, created


async def fire_due(db: Database, now: datetime) -> list[uuid.UUID]:
    """Fire every enabled schedule due at ``now`` (aware); the suite runs created (PENDING)."""
    if now.tzinfo is None:
        raise ValueError("now must be time zone-aware")
    now = now.astimezone(UTC)
    created: list[uuid.UUID] = []
    for _ in range(MAX_BATCHES):
        locked, batch = await _fire_batch(db, now)
        created += batch
        if locked < FIRE_BATCH:
            break
    return created


async def run_pass(db: Database, now: datetime) -> list[uuid.UUID]:
    """``fire_due`` for the scheduler loop: an error is logged, never raised, so admission still runs."""
    try:
        return await fire_due(db, now)
    except Exception:
        log.exception("schedule.firing_failed")
        return []
