from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import row_page
from orchestra.models import Environment, TestCase, TestMute

MuteRow = tuple[TestMute, str, str]  # the mute, its test case's name, its environment's name


def _rows() -> Select[TestMute, str, str]:
    return (
        select(TestMute, TestCase.name, Environment.name)
        .join(TestCase, TestCase.id == TestMute.test_case_id)
        .join(Environment, Environment.id == TestMute.environment_id)
    )


async def get(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, mute_id: uuid.UUID
) -> MuteRow | None:
    row = (
        await session.execute(
            _rows().where(
                TestMute.tenant_id == tenant_id, TestMute.project_id == project_id, TestMute.id == mute_id
            )
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def of_pair(
    session: AsyncSession, tenant_id: uuid.UUID, test_case_id: uuid.UUID, environment_id: uuid.UUID
) -> TestMute | None:
    query = select(TestMute).where(
        TestMute.tenant_id == tenant_id,
        TestMute.test_case_id == test_case_id,
        TestMute.environment_id == environment_id,
    )
    return (await session.execute(query.with_for_update())).scalar_one_or_none()


async def list_page(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    filters: dict[str, uuid.UUID],
    active_at: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[MuteRow], int]:
    """The project's mutes, the soonest to expire first; ``active_at``: only those in force then."""
    query = _rows().where(TestMute.tenant_id == tenant_id, TestMute.project_id == project_id)
    for column, value in filters.items():
        query = query.where(getattr(TestMute, column) == value)
    if active_at is not None:
        query = query.where(TestMute.expires_at > active_at)
    return await row_page(session, query.order_by(TestMute.expires_at, TestMute.id), limit, offset)


async def in_force(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    environment_id: uuid.UUID,
    test_case_ids: Sequence[uuid.UUID],
    now: datetime,
) -> dict[uuid.UUID, TestMute]:
    """The mutes in force at ``now`` on the environment, by test case."""
    if not test_case_ids:
        return {}
    query = select(TestMute).where(
        TestMute.tenant_id == tenant_id,
        TestMute.environment_id == environment_id,
        TestMute.test_case_id.in_(set(test_case_ids)),
        TestMute.expires_at > now,
    )
    return {mute.test_case_id: mute for mute in (await session.execute(query)).scalars()}


async def remove(session: AsyncSession, mute_id: uuid.UUID) -> None:
    await session.execute(delete(TestMute).where(TestMute.id == mute_id))
