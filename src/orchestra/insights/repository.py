"""The SQL of insights: the last pass before a run and the rows of the trends' aggregates. Every query names
the tenant and runs under its row-level security."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.insights.flakiness import FAILING, PASS
from orchestra.models import TestRun

VERDICTS = sorted({PASS, *FAILING})


async def last_pass_before(session: AsyncSession, tenant_id: uuid.UUID, run: TestRun) -> uuid.UUID | None:
    """The latest PASSED run of the same test case on the same environment created before ``run``."""
    found = await session.execute(
        select(TestRun.id)
        .where(
            TestRun.tenant_id == tenant_id,
            TestRun.test_case_id == run.test_case_id,
            TestRun.environment_id == run.environment_id,
            TestRun.status == PASS,
            TestRun.created_at < run.created_at,
        )
        .order_by(TestRun.created_at.desc())
        .limit(1)
    )
    return found.scalar_one_or_none()


async def rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in (await session.execute(text(sql), params)).mappings()]
