"""Muting a test case on an environment. A run records the mute in force when it is created (``mute_id``,
``mute_reason``); a muted run still runs and is recorded, but a failure of it does not fail its suite run
or the CLI (``is_muted_failure``), and reports show it apart."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.environments import service as environments
from orchestra.errors import Conflict, InvalidInput, NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import TestMute, TestRun
from orchestra.models.run_states import RunStatus
from orchestra.projects import service as projects
from orchestra.quarantine import repository
from orchestra.quarantine.schemas import MAX_DAYS, MuteCreate, MuteOut
from orchestra.testcases import service as testcases

# The verdicts a mute covers: every failure. PASSED needs no mute; CANCELLED is nobody's verdict.
MUTABLE = frozenset({RunStatus.FAILED, RunStatus.ERROR, RunStatus.TIMED_OUT})


def is_muted_failure(status: RunStatus, mute_id: uuid.UUID | None) -> bool:
    """Whether a run's verdict is a failure its mute covers (so it does not fail what contains it)."""
    return mute_id is not None and status in MUTABLE


def _out(row: repository.MuteRow, now: datetime) -> MuteOut:
    mute, test_case, environment = row
    return MuteOut(
        id=mute.id,
        project_id=mute.project_id,
        test_case_id=mute.test_case_id,
        test_case=test_case,
        environment_id=mute.environment_id,
        environment=environment,
        reason=mute.reason,
        expires_at=mute.expires_at,
        active=mute.expires_at > now,
        created_by=mute.created_by,
        created_at=mute.created_at,
    )


async def create(session: AsyncSession, actor: Actor, project: str, data: MuteCreate) -> MuteOut:
    """A new mute; an expired one of the same test case and environment is replaced, one in force is a
    conflict (delete it first, or let it expire)."""
    now = datetime.now(UTC)
    if data.expires_at <= now:
        raise InvalidInput(
            "'expires_at' must be in the future",
            errors=[{"location": "expires_at", "message": "in the past"}],
        )
    if data.expires_at > now + timedelta(days=MAX_DAYS):
        raise InvalidInput(
            f"'expires_at' must be at most {MAX_DAYS} days ahead",
            errors=[{"location": "expires_at", "message": f"more than {MAX_DAYS} days ahead"}],
        )
    owner = await projects.get(session, actor, project)
    case = await testcases.get_case(session, actor, owner, data.test_case)
    environment = await environments.get(session, actor, owner, data.environment)
    existing = await repository.of_pair(session, actor.tenant_id, case.id, environment.id)
    if existing is not None:
        if existing.expires_at > now:
            raise Conflict(
                f"test case '{case.name}' is already muted on '{environment.name}' until "
                f"{existing.expires_at.isoformat()} (mute {existing.id})"
            )
        await repository.remove(session, existing.id)
        await session.flush()
    mute = TestMute(
        id=uuid.uuid4(),
        tenant_id=actor.tenant_id,
        project_id=owner.id,
        test_case_id=case.id,
        environment_id=environment.id,
        reason=data.reason,
        expires_at=data.expires_at,
        created_by=actor.name[:300],
    )
    session.add(mute)
    await session.flush()
    await session.refresh(mute)
    return _out((mute, case.name, environment.name), now)


async def get(session: AsyncSession, actor: Actor, project: str, mute_id: uuid.UUID) -> MuteOut:
    owner = await projects.get(session, actor, project)
    row = await repository.get(session, actor.tenant_id, owner.id, mute_id)
    if row is None:
        raise NotFound(f"mute {mute_id} does not exist in project '{owner.name}'")
    return _out(row, datetime.now(UTC))


async def list_page(
    session: AsyncSession,
    actor: Actor,
    project: str,
    params: PageParams,
    environment: str | None = None,
    test_case: str | None = None,
    include_expired: bool = False,
) -> Page[MuteOut]:
    owner = await projects.get(session, actor, project)
    filters: dict[str, uuid.UUID] = {}
    if environment is not None:
        filters["environment_id"] = (await environments.get(session, actor, owner, environment)).id
    if test_case is not None:
        filters["test_case_id"] = (await testcases.get_case(session, actor, owner, test_case)).id
    now = datetime.now(UTC)
    rows, total = await repository.list_page(
        session,
        actor.tenant_id,
        owner.id,
        filters,
        None if include_expired else now,
        params.limit,
        params.offset,
    )
    return Page[MuteOut](
        items=[_out(row, now) for row in rows], total=total, limit=params.limit, offset=params.offset
    )


async def delete(session: AsyncSession, actor: Actor, project: str, mute_id: uuid.UUID) -> None:
    """The mute ends now; runs created under it keep it (their history does not change)."""
    await get(session, actor, project, mute_id)
    await repository.remove(session, mute_id)


async def mute_new_runs(session: AsyncSession, runs: Sequence[TestRun]) -> None:
    """Record on new runs (of test cases, one environment per call or not) the mutes in force now."""
    now = datetime.now(UTC)
    by_environment: dict[tuple[uuid.UUID, uuid.UUID], list[TestRun]] = {}
    for run in runs:
        if run.test_case_id is not None:
            by_environment.setdefault((run.tenant_id, run.environment_id), []).append(run)
    for (tenant_id, environment_id), group in by_environment.items():
        found = await repository.in_force(
            session, tenant_id, environment_id, [run.test_case_id for run in group if run.test_case_id], now
        )
        for run in group:
            mute = found.get(run.test_case_id) if run.test_case_id else None
            if mute is not None:
                run.mute_id, run.mute_reason = mute.id, mute.reason
