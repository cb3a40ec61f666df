"""All SQL of the data ledger. Row-level security scopes every query to the transaction's tenant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from orchestra.kit.repository import scalar_page
from orchestra.models.ledger import LedgerEntry
from orchestra.models.run import TestRun
from orchestra.models.run_states import TERMINAL

OPEN = ("pending", "failed")
STATUSES = ("pending", "done", "gone", "failed", "manual")  # manual: only a person can undo it


async def pending_of_run(conn: AsyncConnection | AsyncSession, run_id: uuid.UUID) -> list[Any]:
    """What a run still has to undo, the last created first (its cleanup phase's work)."""
    query = (
        select(LedgerEntry.__table__)
        .where(LedgerEntry.test_run_id == run_id, LedgerEntry.status == "pending")
        .order_by(LedgerEntry.step_seq.desc())
    )
    return list((await conn.execute(query)).all())


def of_run(run_id: uuid.UUID) -> Select[Any]:
    return select(LedgerEntry).where(LedgerEntry.test_run_id == run_id).order_by(LedgerEntry.step_seq)


def of_environment(environment_id: uuid.UUID, status: str | None) -> Select[Any]:
    query = select(LedgerEntry).where(LedgerEntry.environment_id == environment_id)
    if status is not None:
        query = query.where(LedgerEntry.status == status)
    return query.order_by(LedgerEntry.created_at.desc(), LedgerEntry.step_seq.desc(), LedgerEntry.id)


async def environment_page(
    session: AsyncSession, environment_id: uuid.UUID, status: str | None, limit: int, offset: int
) -> tuple[list[LedgerEntry], int]:
    """A page of the environment's entries, the newest first."""
    return await scalar_page(session, of_environment(environment_id, status), limit, offset)


async def entries_of_run(session: AsyncSession, run_id: uuid.UUID) -> list[LedgerEntry]:
    return list((await session.execute(of_run(run_id))).scalars())


async def open_of_finished_runs(
    session: AsyncSession, environment_id: uuid.UUID, *, limit: int, max_attempts: int | None = None
) -> list[LedgerEntry]:
    """Entries left to undo whose run is over (or deleted), locked so that two sweeps never undo the same
    entry at once; the last created first."""
    finished = (
        select(TestRun.id).where(TestRun.id == LedgerEntry.test_run_id, TestRun.status.in_(TERMINAL)).exists()
    )
    query = (
        select(LedgerEntry)
        .where(
            LedgerEntry.environment_id == environment_id,
            LedgerEntry.status.in_(OPEN),
            or_(LedgerEntry.test_run_id.is_(None), finished),
        )
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.step_seq.desc())
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if max_attempts is not None:
        query = query.where(LedgerEntry.attempts < max_attempts)
    return list((await session.execute(query)).scalars())


async def environments_with_open_entries(session: AsyncSession, max_attempts: int) -> list[uuid.UUID]:
    query = (
        select(LedgerEntry.environment_id)
        .where(LedgerEntry.status.in_(OPEN), LedgerEntry.attempts < max_attempts)
        .distinct()
    )
    return list((await session.execute(query)).scalars())


def record_outcome(entry: LedgerEntry, status: str, error: str | None) -> None:
    now = datetime.now(UTC)
    entry.status = status
    entry.attempts += 1
    entry.last_error = error
    entry.updated_at = now
    entry.undone_at = now if status in ("done", "gone") else None
