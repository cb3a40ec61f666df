"""The ``data_plans`` table: at most one pinned plan per test case and environment, and cached plans keyed
by (test-case version, environment, spec hash)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.models import StoredDataPlan


async def pinned(
    session: AsyncSession, test_case_id: uuid.UUID, environment_id: uuid.UUID
) -> StoredDataPlan | None:
    query = select(StoredDataPlan).where(
        StoredDataPlan.test_case_id == test_case_id,
        StoredDataPlan.environment_id == environment_id,
        StoredDataPlan.pinned,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def cached(
    session: AsyncSession, test_case_version_id: uuid.UUID, environment_id: uuid.UUID, spec_hash: str
) -> StoredDataPlan | None:
    """The newest unpinned plan made for exactly this version and description."""
    query = (
        select(StoredDataPlan)
        .where(
            StoredDataPlan.test_case_version_id == test_case_version_id,
            StoredDataPlan.environment_id == environment_id,
            StoredDataPlan.spec_hash == spec_hash,
            StoredDataPlan.pinned.is_(False),
        )
        .order_by(StoredDataPlan.created_at.desc(), StoredDataPlan.id)
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def add(session: AsyncSession, **values: Any) -> StoredDataPlan:
    row = StoredDataPlan(id=uuid.uuid4(), **values)
    session.add(row)
    await session.flush()
    return row


async def unpin(session: AsyncSession, test_case_id: uuid.UUID, environment_id: uuid.UUID) -> bool:
    """Drop the pinned plan (a pin is a person's choice; the cache keeps the planners' own plans)."""
    result = await session.execute(
        delete(StoredDataPlan)
        .where(
            StoredDataPlan.test_case_id == test_case_id,
            StoredDataPlan.environment_id == environment_id,
            StoredDataPlan.pinned,
        )
        .returning(StoredDataPlan.id)
    )
    return result.first() is not None


async def lock_pin(session: AsyncSession, test_case_id: uuid.UUID, environment_id: uuid.UUID) -> None:
    """Serialise pinning of one test case in one environment until the transaction ends (two concurrent
    pins then replace each other instead of the second failing on the unique index)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"data_plans.pin:{test_case_id}:{environment_id}"},
    )


async def forget(session: AsyncSession, plan_id: uuid.UUID) -> None:
    """Remove a cached plan that failed, so no later run is given it again (pinned plans stay)."""
    await session.execute(
        delete(StoredDataPlan).where(StoredDataPlan.id == plan_id, StoredDataPlan.pinned.is_(False))
    )
