"""Every write an executor makes, each one guarded by the run's fencing token.

A statement that finds no row with (id, fencing_token, IN_PROGRESS) did nothing: the lease is lost, and the
caller must stop working on that run. Each write is a single statement, so it is atomic on its own and costs
one round trip.
"""

from __future__ import annotations

import json
import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orchestra.db import tenant_connection
from orchestra.kit.json_storage import jsonb_safe
from orchestra.runs.states import RunStatus


class LeaseLost(Exception):
    """This executor no longer owns the run (its lease expired and another took it, or it ended)."""


@dataclass(frozen=True, slots=True)
class Lease:
    run_id: uuid.UUID
    tenant_id: uuid.UUID
    fencing_token: int
    attempt: int
    started_at: datetime
    timeout_s: float | None
    cancel_requested: bool
    test_case_version_id: uuid.UUID
    environment_id: uuid.UUID
    variables: dict[str, Any]
    context: dict[str, Any]
    name: str


# The only cross-tenant read of an executor: which tenant a run id from the broker belongs to.
_RUN_TENANT = text("SELECT orchestra_sys_run_tenant(:run_id)")

_TAKE = text(
    """
    UPDATE test_runs SET status = 'IN_PROGRESS', lease_owner = :owner,
        lease_expires_at = now() + make_interval(secs => :lease_s),
        fencing_token = fencing_token + 1, heartbeat_at = now(), started_at = coalesce(started_at, now())
    WHERE id = :run_id AND status = 'QUEUED'
    RETURNING id, tenant_id, fencing_token, attempt, started_at, timeout_s, cancel_requested,
        test_case_version_id, environment_id, variables, context, name
    """
)

_COMMIT_STEP = text(
    """
    WITH run AS (
        UPDATE test_runs SET context = CAST(:context AS jsonb), heartbeat_at = now(),
            lease_expires_at = now() + make_interval(secs => :lease_s)
        WHERE id = :run_id AND fencing_token = :token AND status = 'IN_PROGRESS'
        RETURNING tenant_id, cancel_requested
    ), step AS (
        INSERT INTO step_results (tenant_id, test_run_id, seq, phase, name, status, attempts, fencing_token,
            request, response, assertions, error, started_at, duration_ms)
        SELECT run.tenant_id, :run_id, :seq, :phase, :name, :status, :attempts, :token,
            CAST(:request AS jsonb), CAST(:response AS jsonb), CAST(:assertions AS jsonb), :error,
            :started_at, :duration_ms
        FROM run
        RETURNING 1
    )
    SELECT run.cancel_requested FROM run
    """
)

_HEARTBEAT = text(
    """
    UPDATE test_runs SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => :lease_s)
    WHERE id = :run_id AND fencing_token = :token AND status = 'IN_PROGRESS'
    RETURNING cancel_requested
    """
)

_FINISH = text(
    """
    UPDATE test_runs SET status = :status, status_reason = :reason, context = CAST(:context AS jsonb),
        finished_at = now(), heartbeat_at = now(), lease_owner = NULL, lease_expires_at = NULL
    WHERE id = :run_id AND fencing_token = :token AND status = 'IN_PROGRESS'
    RETURNING id
    """
)

_HAND_BACK = text(
    """
    UPDATE test_runs SET status = 'QUEUED', queued_at = now(), lease_owner = NULL, lease_expires_at = NULL
    WHERE id = :run_id AND fencing_token = :token AND status = 'IN_PROGRESS'
    RETURNING id
    """
)


@dataclass(frozen=True, slots=True)
class StepRecord:
    seq: int
    phase: str
    name: str
    status: str
    attempts: int
    started_at: datetime
    duration_ms: float


class LeaseStore:
    def __init__(self, engine: AsyncEngine, owner: str, lease_s: float) -> None:
        # Single statements in autocommit: one round trip each, atomic by themselves.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.owner = owner
        self.lease_s = lease_s

    def connect(self, tenant_id: uuid.UUID) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection to hold for a whole run (its tenant set): step commits then skip the pool's checkout
        and ping, and stay one round trip each."""
        return tenant_connection(self._engine, tenant_id)

    async def _one(
        self,
        statement: TextClause,
        params: dict[str, Any],
        tenant_id: uuid.UUID,
        conn: AsyncConnection | None = None,
    ) -> Row[Any] | None:
        if conn is not None:
            return (await conn.execute(statement, params)).first()
        async with tenant_connection(self._engine, tenant_id) as own:
            return (await own.execute(statement, params)).first()

    async def take(self, run_id: uuid.UUID) -> Lease | None:
        """QUEUED → IN_PROGRESS with a new fencing token; None when the run is not leasable."""
        async with self._engine.connect() as conn:
            tenant_id = (await conn.execute(_RUN_TENANT, {"run_id": run_id})).scalar()
        if tenant_id is None:
            return None
        params = {"run_id": run_id, "owner": self.owner, "lease_s": self.lease_s}
        row = await self._one(_TAKE, params, tenant_id)
        if row is None:
            return None
        return Lease(
            run_id=row.id,
            tenant_id=row.tenant_id,
            fencing_token=row.fencing_token,
            attempt=row.attempt,
            started_at=row.started_at,
            timeout_s=row.timeout_s,
            cancel_requested=row.cancel_requested,
            test_case_version_id=row.test_case_version_id,
            environment_id=row.environment_id,
            variables=row.variables,
            context=row.context,
            name=row.name,
        )

    async def commit_step(
        self,
        lease: Lease,
        step: StepRecord,
        context_json: str,
        payload: dict[str, str | None],
        conn: AsyncConnection | None = None,
    ) -> bool:
        """Commit the step's result, the context and the heartbeat together. Returns cancel_requested.

        ``payload`` holds the already masked JSON texts of request, response and assertions, and the error.
        """
        params = {
            "run_id": lease.run_id,
            "token": lease.fencing_token,
            "lease_s": self.lease_s,
            "context": context_json,
            "seq": step.seq,
            "phase": step.phase,
            "name": step.name,
            "status": step.status,
            "attempts": step.attempts,
            "started_at": step.started_at,
            "duration_ms": step.duration_ms,
            **payload,
        }
        row = await self._one(_COMMIT_STEP, params, lease.tenant_id, conn)
        if row is None:
            raise LeaseLost(f"run {lease.run_id}: fencing token {lease.fencing_token} is no longer valid")
        return bool(row[0])

    async def heartbeat(self, lease: Lease) -> bool:
        params = {"run_id": lease.run_id, "token": lease.fencing_token, "lease_s": self.lease_s}
        row = await self._one(_HEARTBEAT, params, lease.tenant_id)
        if row is None:
            raise LeaseLost(f"run {lease.run_id}: lease lost at heartbeat")
        return bool(row[0])

    async def finish(
        self,
        lease: Lease,
        status: RunStatus,
        reason: str | None,
        context: dict[str, Any],
        conn: AsyncConnection | None = None,
    ) -> None:
        params = {
            "run_id": lease.run_id,
            "token": lease.fencing_token,
            "status": status.value,
            "reason": reason,
            "context": json.dumps(jsonb_safe(context), default=str),
        }
        row = await self._one(_FINISH, params, lease.tenant_id, conn)
        if row is None:
            raise LeaseLost(f"run {lease.run_id}: lease lost before the verdict was written")

    async def hand_back(self, lease: Lease) -> None:
        """Give the run back (graceful shutdown): QUEUED again, no attempt penalty."""
        params = {"run_id": lease.run_id, "token": lease.fencing_token}
        await self._one(_HAND_BACK, params, lease.tenant_id)
