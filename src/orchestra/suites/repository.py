"""Suites are found by id or by a name unique within the project, and listed by name."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import ProjectScoped, reachable_only
from orchestra.models import Suite, TestCase

_suites = ProjectScoped(Suite, Suite.id, Suite.name, (Suite.tenant_id, Suite.project_id))

find = _suites.find
find_by_name = _suites.find_by_name
list_page = _suites.page


async def insert_if_missing(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, name: str, definition: dict[str, Any]
) -> bool:
    """Insert the suite unless the project has one by this name; True when inserted. Concurrent creators
    wait for each other here instead of failing on the unique constraint."""
    statement = (
        insert(Suite)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, project_id=project_id, name=name, definition=definition)
        .on_conflict_do_nothing(index_elements=[Suite.project_id, Suite.name])
        .returning(Suite.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def existing_test_names(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, names: list[str]
) -> set[str]:
    """Those of ``names`` that are test cases of the project."""
    names = reachable_only(names)
    if not names:
        return set()
    query = select(TestCase.name).where(
        TestCase.tenant_id == tenant_id, TestCase.project_id == project_id, TestCase.name.in_(names)
    )
    return set((await session.execute(query)).scalars())
