"""The SQL of retention: a project's policy, and the batches of the sweep (each in its own short
transaction, given by the caller, under the tenant's row-level security)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.models import RetentionPolicy, RunVerdict
from orchestra.models.run_states import TERMINAL

_FINISHED = ", ".join(sorted(f"'{status.value}'" for status in TERMINAL))

# A finished run is past the rule when it is older than the age limit (if any) and older than the N-th newest
# finished run of its test case (if there is a count limit; a suite's setup/teardown run has no test case and
# follows its suite run). :since / :keep_last are NULL when that limit is off.
_CUTOFFS = f"""
cutoffs AS (
    SELECT t.id AS test_case_id,
           (SELECT r.created_at FROM test_runs r
            WHERE r.test_case_id = t.id AND r.status IN ({_FINISHED})
            ORDER BY r.created_at DESC OFFSET CAST(:keep_last AS integer) - 1 LIMIT 1) AS cutoff
    FROM test_cases t WHERE t.project_id = :project AND CAST(:keep_last AS integer) IS NOT NULL
)"""


def _past(run: str) -> str:
    return f"""{run}.status IN ({_FINISHED}) AND {run}.finished_at IS NOT NULL
    AND (CAST(:since AS timestamptz) IS NULL OR {run}.created_at < :since)
    AND (CAST(:keep_last AS integer) IS NULL OR {run}.test_case_id IS NULL OR {run}.created_at < (
        SELECT c.cutoff FROM cutoffs c WHERE c.test_case_id = {run}.test_case_id))"""


_PAST = _past("r")

# The oldest runs of no suite run that are past the rule. A run that was retried (runs/retry) goes with its
# retry, and only once the retry is past the rule too: deleting it would take the retry along (the retry
# belongs to it), and the retry's verdict must be kept like any other.
_LONE_RUNS = text(f"""
WITH {_CUTOFFS}, chosen AS (
    SELECT r.id FROM test_runs r
    WHERE r.project_id = :project AND r.suite_run_id IS NULL AND r.retry_of_id IS NULL AND {_PAST}
      AND NOT EXISTS (SELECT 1 FROM test_runs x WHERE x.retry_of_id = r.id AND NOT ({_past("x")}))
    ORDER BY r.created_at LIMIT :limit)
SELECT id FROM chosen
UNION ALL SELECT x.id FROM test_runs x JOIN chosen ON x.retry_of_id = chosen.id""")

# The oldest suite runs whose every run is past the rule: a suite run goes whole or not at all, so what is
# kept of it always shows the verdict it had.
_SUITE_RUNS = text(f"""
WITH {_CUTOFFS}
SELECT s.id FROM suite_runs s
WHERE s.project_id = :project AND (CAST(:since AS timestamptz) IS NULL OR s.created_at < :since)
  AND NOT EXISTS (SELECT 1 FROM test_runs r WHERE r.suite_run_id = s.id AND NOT ({_PAST}))
ORDER BY s.created_at LIMIT :limit""")

# Retries first: a run's retry belongs to it (deleting the run takes the retry along), so each retry is
# deleted, its verdict kept, in a batch before the run it retries.
_RUNS_OF_SUITE_RUNS = text(
    "SELECT id FROM test_runs WHERE suite_run_id = ANY(:suite_runs)"
    " ORDER BY (retry_of_id IS NULL), created_at"
)

_DELETE_STEPS = text("""
DELETE FROM step_results WHERE id IN (
    SELECT id FROM step_results WHERE test_run_id = ANY(:runs) LIMIT :limit)""")

_KEEP_VERDICTS = text(f"""
INSERT INTO run_verdicts (id, tenant_id, project_id, test_case_id, test_case_version_id, environment_id,
                          suite_id, failure_group_id, retry_of_id, status, trigger, attempt, created_at,
                          started_at, finished_at)
SELECT r.id, r.tenant_id, r.project_id, r.test_case_id, r.test_case_version_id, r.environment_id,
       s.suite_id, r.failure_group_id, r.retry_of_id, r.status, r.trigger, r.attempt, r.created_at,
       r.started_at, r.finished_at
FROM test_runs r LEFT JOIN suite_runs s ON s.id = r.suite_run_id
WHERE r.id = ANY(:runs) AND r.status IN ({_FINISHED})
  AND r.test_case_id IS NOT NULL AND r.test_case_version_id IS NOT NULL
ON CONFLICT (id) DO NOTHING""")

# Re-checked at deletion: only finished runs are ever deleted, whatever happened since they were chosen.
_DELETE_RUNS = text(f"DELETE FROM test_runs WHERE id = ANY(:runs) AND status IN ({_FINISHED})")
_DELETE_SUITE_RUNS = text("""
DELETE FROM suite_runs s WHERE s.id = ANY(:suite_runs)
  AND NOT EXISTS (SELECT 1 FROM test_runs r WHERE r.suite_run_id = s.id)""")
_LOCK_TIMEOUT = text("SELECT set_config('lock_timeout', :timeout, true)")


async def get_policy(session: AsyncSession, project_id: uuid.UUID) -> RetentionPolicy | None:
    return await session.get(RetentionPolicy, project_id)


async def locked_policy(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID
) -> RetentionPolicy:
    """The project's policy row, made if missing (two first settings at once both succeed), locked."""
    await session.execute(
        insert(RetentionPolicy)
        .values(tenant_id=tenant_id, project_id=project_id)
        .on_conflict_do_nothing(index_elements=[RetentionPolicy.project_id])
    )
    found = await session.scalar(
        select(RetentionPolicy)
        .where(RetentionPolicy.project_id == project_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert found is not None  # inserted above or by a transaction that committed meanwhile
    return found


async def policies(session: AsyncSession) -> list[RetentionPolicy]:
    """The tenant's policies that limit something."""
    found = await session.scalars(
        select(RetentionPolicy).where(
            (RetentionPolicy.keep_days.is_not(None)) | (RetentionPolicy.keep_last.is_not(None))
        )
    )
    return list(found)


async def count_verdicts(session: AsyncSession, project_id: uuid.UUID) -> int:
    found = await session.scalar(
        select(func.count()).select_from(RunVerdict).where(RunVerdict.project_id == project_id)
    )
    return int(found or 0)


async def limit_lock_waits(session: AsyncSession, timeout_ms: int) -> None:
    """Wait at most this long for a row lock in this transaction (a run being grouped, say): the batch
    fails and is tried again at the next pass rather than holding anything up."""
    await session.execute(_LOCK_TIMEOUT, {"timeout": f"{int(timeout_ms)}ms"})


def _rule(project_id: uuid.UUID, since: datetime | None, keep_last: int | None) -> dict[str, object]:
    return {"project": project_id, "since": since, "keep_last": keep_last}


async def lone_runs_past(
    session: AsyncSession, project_id: uuid.UUID, since: datetime | None, keep_last: int | None, limit: int
) -> list[uuid.UUID]:
    params = {**_rule(project_id, since, keep_last), "limit": limit}
    return list((await session.execute(_LONE_RUNS, params)).scalars())


async def suite_runs_past(
    session: AsyncSession, project_id: uuid.UUID, since: datetime | None, keep_last: int | None, limit: int
) -> list[uuid.UUID]:
    params = {**_rule(project_id, since, keep_last), "limit": limit}
    return list((await session.execute(_SUITE_RUNS, params)).scalars())


async def runs_of_suite_runs(session: AsyncSession, suite_run_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list((await session.execute(_RUNS_OF_SUITE_RUNS, {"suite_runs": list(suite_run_ids)})).scalars())


async def delete_steps(session: AsyncSession, run_ids: Sequence[uuid.UUID], limit: int) -> int:
    """Delete up to ``limit`` step rows of these runs; how many went."""
    result = await session.execute(_DELETE_STEPS, {"runs": list(run_ids), "limit": limit})
    return int(result.rowcount)  # type: ignore[attr-defined]


async def delete_runs(
    session: AsyncSession, run_ids: Sequence[uuid.UUID], suite_run_ids: Sequence[uuid.UUID]
) -> tuple[int, int]:
    """Keep the verdicts of these runs, then delete them (their steps already gone) and these suite runs
    once they have no run left; how many runs and suite runs went."""
    runs = {"runs": list(run_ids)}
    await session.execute(_KEEP_VERDICTS, runs)
    deleted = await session.execute(_DELETE_RUNS, runs)
    suites = 0
    if suite_run_ids:
        result = await session.execute(_DELETE_SUITE_RUNS, {"suite_runs": list(suite_run_ids)})
        suites = int(result.rowcount)  # type: ignore[attr-defined]
    return int(deleted.rowcount), suites  # type: ignore[attr-defined]
