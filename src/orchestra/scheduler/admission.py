"""One scheduling pass in SQL: everything it decides comes from the run rows themselves."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.models.run_states import TRANSITIONS
from orchestra.scheduler.admission_state import choose_runs

# Serialises passes of schedulers sharing one database (an `orchestra up` and an embedded CLI run).
SCHEDULER_LOCK_KEY = 0x5C4ED01E

# The writes across tenants, each one ``orchestra_sys_*`` function (migration 0006; the reaper's replaced by
# 0011). Their moves are the table's admit, requeue_expired, fail_expired, requeue_orphaned and
# fail_orphaned; tests/integration/test_run_transitions.py holds them to it.
_MARK_QUEUED = text("SELECT * FROM orchestra_sys_mark_queued(CAST(:ids AS uuid[])) AS id")
_REAP_EXPIRED = text("SELECT id, status FROM orchestra_sys_reap_expired(:max_attempts)")
_STALE_QUEUED = text("SELECT * FROM orchestra_sys_stale_queued(:stale_s, :batch) AS id")


async def lock_pass(conn: AsyncConnection) -> bool:
    """Take the scheduling lock for this transaction; False when another scheduler holds it."""
    return bool(
        (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SCHEDULER_LOCK_KEY})).scalar()
    )


async def admit(conn: AsyncConnection, default_global_max: int, batch: int) -> list[uuid.UUID]:
    """One admission pass: read the state, let fair_share choose, mark the chosen runs QUEUED."""
    chosen = await choose_runs(conn, default_global_max, batch)
    if not chosen:
        return []
    rows = await conn.execute(_MARK_QUEUED, {"ids": [run.id for run in chosen]})
    return [row[0] for row in rows]


async def reap_expired(conn: AsyncConnection, max_attempts: int) -> list[uuid.UUID]:
    """Expired leases, and leases whose holder's process has ended (its presence lock is free), go back to
    QUEUED (attempt + 1), or end in ERROR after the last attempt."""
    rows = await conn.execute(_REAP_EXPIRED, {"max_attempts": max_attempts})
    requeued = TRANSITIONS["requeue_expired"].target
    return [row[0] for row in rows if row[1] == requeued]


async def stale_queued(conn: AsyncConnection, stale_s: float, batch: int) -> list[uuid.UUID]:
    """QUEUED runs nobody leased for a while: their message was lost (e.g. a restart); publish again."""
    rows = await conn.execute(_STALE_QUEUED, {"stale_s": stale_s, "batch": batch})
    return [row[0] for row in rows]
