"""Why a PENDING run is still waiting: its place in its tenant's queue and the limit that holds it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.scheduler.admission_state import load_active, load_limits, suite_run_limits
from orchestra.scheduler.fair_share import Candidate, blocking_limit

_POSITION = text(
    "SELECT count(*) FROM test_runs WHERE status = 'PENDING' AND tenant_id = :tenant AND queue_key < :key"
)
_TENANT = text("SELECT name, weight, max_active_runs FROM tenants WHERE id = :id")
_NAMES = {
    "project": text("SELECT name FROM projects WHERE id = :id"),
    "environment": text("SELECT name FROM environments WHERE id = :id"),
    "suite run": text("SELECT name FROM suite_runs WHERE id = :id"),
    "tenant": text("SELECT name FROM tenants WHERE id = :id"),
}


@dataclass(frozen=True, slots=True)
class Explanation:
    queue_position: int
    waiting_for: str


async def explain(conn: AsyncConnection, run: Candidate, default_global_max: int) -> Explanation:
    position = (
        int((await conn.execute(_POSITION, {"tenant": run.tenant_id, "key": run.queue_key})).scalar() or 0)
        + 1
    )
    active = await load_active(conn)
    limits = await load_limits(conn, default_global_max, active)
    tenant = (await conn.execute(_TENANT, {"id": run.tenant_id})).one()
    limits.tenant_max = {run.tenant_id: tenant.max_active_runs}
    if run.suite_run_id is not None and run.suite_run_id not in limits.suite_run_max:
        limits.suite_run_max = {**limits.suite_run_max, **await suite_run_limits(conn, [run.suite_run_id])}
    blocked = blocking_limit(run, limits, active)
    if blocked is not None:
        level, key, count, limit = blocked
        if level == "global":
            return Explanation(position, f"the platform at its limit {count}/{limit}")
        name = (await conn.execute(_NAMES[level], {"id": uuid.UUID(key)})).scalar()
        return Explanation(position, f"{level} '{name}' at its limit {count}/{limit}")
    if position > 1:
        return Explanation(position, f"{position - 1} run(s) of its tenant ahead in the queue")
    return Explanation(
        position, "next in line: admitted at the scheduler's next pass (fair share across tenants)"
    )
