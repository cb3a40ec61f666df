"""What one admission pass reads from PostgreSQL, with indexed queries whose cost does not grow with the
number of PENDING runs: active counts (bounded by the global limit), the configured limits, the tenants
with pending work (a loose index scan) and the first few runnable candidates of each."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.scheduler.fair_share import Active, Candidate, Limits, choose

# Rows looked at per (tenant, environment) while some suite run is at its parallelism: runs of other suite
# runs behind more than this many blocked ones wait until that suite run has room (environments and
# projects that are full are skipped exactly, through the index).
SCAN_PER_GROUP = 64

_GLOBAL_LIMIT = text("SELECT max_active_runs FROM platform_limits WHERE id = 1")

# Every cross-tenant read goes through an ``orchestra_sys_*`` function (migration 0006): the application
# role sees only the ids, counts and limits those return, never another tenant's rows.
_ACTIVE = text("SELECT * FROM orchestra_sys_active_counts()")

# Every (tenant, environment) pair with PENDING runs, by a loose index scan: one index probe per pair,
# whatever the number of runs.
_PENDING_GROUPS = text("SELECT * FROM orchestra_sys_pending_groups()")

_CONFIGURED = {
    "project": text("SELECT id, max_active_runs FROM orchestra_sys_project_limits()"),
    "environment": text("SELECT id, max_active_runs FROM orchestra_sys_environment_limits()"),
}

_SUITE_RUN_LIMITS = text("SELECT id, parallelism FROM orchestra_sys_suite_run_limits(CAST(:ids AS uuid[]))")

_CANDIDATES = text(
    """
    SELECT id, tenant_id, project_id, environment_id, suite_run_id, queue_key
    FROM orchestra_sys_candidates(CAST(:tenants AS uuid[]), CAST(:environments AS uuid[]),
        CAST(:full_suite_runs AS uuid[]), :per_group, :window)
    """
)


async def load_active(conn: AsyncConnection) -> Active:
    active = Active()
    for row in await conn.execute(_ACTIVE):
        count = int(row.n)
        active.total += count
        active.tenant[row.tenant_id] += count
        active.project[row.project_id] += count
        active.environment[row.environment_id] += count
        if row.suite_run_id is not None:
            active.suite_run[row.suite_run_id] += count
    return active


async def global_limit(conn: AsyncConnection, default: int) -> int:
    configured = (await conn.execute(_GLOBAL_LIMIT)).scalar()
    return int(configured) if configured is not None else default


def _full(maxima: Mapping[uuid.UUID, int | None], counts: Any) -> list[uuid.UUID]:
    return [key for key, limit in maxima.items() if limit is not None and counts[key] >= limit]


async def load_limits(conn: AsyncConnection, default_global_max: int, active: Active) -> Limits:
    limits = Limits(global_max=await global_limit(conn, default_global_max))
    limits.project_max = {row[0]: row[1] for row in await conn.execute(_CONFIGURED["project"])}
    limits.environment_max = {row[0]: row[1] for row in await conn.execute(_CONFIGURED["environment"])}
    limits.suite_run_max = await suite_run_limits(conn, list(active.suite_run))
    return limits


async def suite_run_limits(conn: AsyncConnection, ids: list[uuid.UUID]) -> dict[uuid.UUID, int | None]:
    if not ids:
        return {}
    return {row[0]: row[1] for row in await conn.execute(_SUITE_RUN_LIMITS, {"ids": ids})}


async def choose_runs(conn: AsyncConnection, default_global_max: int, batch: int) -> list[Candidate]:
    active = await load_active(conn)
    limits = await load_limits(conn, default_global_max, active)
    room = min(batch, limits.global_max - active.total)
    if room <= 0:
        return []
    groups = list(await conn.execute(_PENDING_GROUPS))
    limits.tenant_weight = {row.tenant_id: int(row.weight) for row in groups}
    limits.tenant_max = {row.tenant_id: row.max_active_runs for row in groups}
    full_environments = set(_full(limits.environment_max, active.environment))
    full_projects = set(_full(limits.project_max, active.project))
    open_groups = [
        row
        for row in groups
        if (row.max_active_runs is None or active.tenant[row.tenant_id] < row.max_active_runs)
        and row.environment_id not in full_environments
        and row.project_id not in full_projects
    ]
    if not open_groups:
        return []
    per_group = min(room, max(1, math.ceil(2 * room / len(open_groups))))
    full_suite_runs = _full(limits.suite_run_max, active.suite_run)
    rows = await conn.execute(
        _CANDIDATES,
        {
            "tenants": [row.tenant_id for row in open_groups],
            "environments": [row.environment_id for row in open_groups],
            "full_suite_runs": full_suite_runs,
            "per_group": per_group,
            "window": max(per_group, SCAN_PER_GROUP) if full_suite_runs else per_group,
        },
    )
    candidates = [
        Candidate(row.id, row.tenant_id, row.project_id, row.environment_id, row.suite_run_id, row.queue_key)
        for row in rows
    ]
    unknown = {run.suite_run_id for run in candidates if run.suite_run_id is not None} - set(
        limits.suite_run_max
    )
    limits.suite_run_max = {**limits.suite_run_max, **await suite_run_limits(conn, list(unknown))}
    return choose(candidates, limits, active, room)
