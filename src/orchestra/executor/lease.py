"""Every write an executor makes, each one guarded by the run's fencing token.

A statement that finds no row with (id, fencing_token, IN_PROGRESS) did nothing: the lease is lost, and the
caller must stop working on that run. Each write is a single statement, so it is atomic on its own and costs
one round trip.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Executable, Result, Row, TextClause, text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orchestra.db import tenant_connection
from orchestra.kit.json_storage import jsonb_safe
from orchestra.models.run_states import TRANSITIONS, RunStatus, sql_status_in


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
    test_case_version_id: uuid.UUID | None  # None: a suite's setup or teardown run
    environment_id: uuid.UUID
    variables: dict[str, Any]
    context: dict[str, Any]
    name: str
    project_id: uuid.UUID | None = None  # None only for leases made by hand (tests)
    test_case_id: uuid.UUID | None = None
    queue_wait_s: float | None = None  # set on the run's first lease: from PENDING to IN_PROGRESS


# The only cross-tenant read of an executor: which tenant a run id from the broker belongs to.
_RUN_TENANT = text("SELECT orchestra_sys_run_tenant(:run_id)")

# The executor's moves and guards, from the one transition table (models/run_states.py).
_LEASE = TRANSITIONS["lease"]
_FINISH_TARGETS = TRANSITIONS["finish"].targets
_HAND_BACK_MOVE = TRANSITIONS["hand_back"]
# A write under a lease finds the run in the status the lease put it in, with the lease's fencing token.
_HELD = f"fencing_token = :token AND {sql_status_in([_LEASE.target])}"

_TAKE = text(
    f"""
    UPDATE test_runs SET status = '{_LEASE.target.value}', lease_owner = :owner,
        lease_expires_at = now() + make_interval(secs => :lease_s), lease_presence_key = :presence_key,
        fencing_token = fencing_token + 1, heartbeat_at = now(), started_at = coalesce(started_at, now())
    WHERE id = :run_id AND {sql_status_in(_LEASE.sources)}
    RETURNING id, tenant_id, fencing_token, attempt, started_at, timeout_s, cancel_requested,
        test_case_version_id, environment_id, variables, context, name, project_id, test_case_id,
        CASE WHEN started_at = now() THEN extract(epoch FROM now() - created_at) END AS queue_wait_s
    """
)


def _commit_step_sql(*, with_plan: bool, ledger: str | None) -> str:
    """The step commit: context + heartbeat + step result, and optionally the run's DataPlan and one data
    ledger write (``entry``: record a created entity; ``undo``: its undo's outcome), all in one statement so
    a step and its ledger entry are committed together or not at all."""
    plan = ", data_plan = CAST(:data_plan AS jsonb)" if with_plan else ""
    extra = ""
    if ledger == "entry":
        extra = """, entry AS (
        INSERT INTO data_ledger (id, tenant_id, project_id, environment_id, test_run_id, step_seq, source,
            label, operation, method, resource, undo, status, last_error)
        SELECT :ledger_id, run.tenant_id, run.project_id, run.environment_id, :run_id, :seq, :ledger_source,
            :ledger_label, :ledger_operation, :ledger_method, :ledger_resource, :ledger_undo,
            :ledger_status, :ledger_error
        FROM run
        RETURNING 1
    )"""
    elif ledger == "undo":
        extra = """, undone AS (
        UPDATE data_ledger SET status = CAST(:ledger_status AS text), attempts = attempts + 1,
            last_error = :ledger_error, updated_at = now(),
            undone_at = CASE WHEN CAST(:ledger_status AS text) IN ('done', 'gone') THEN now() END
        WHERE id = :ledger_id AND EXISTS (SELECT 1 FROM run)
        RETURNING 1
    )"""
    return f"""
    WITH run AS (
        UPDATE test_runs SET context = CAST(:context AS jsonb), heartbeat_at = now(),
            lease_expires_at = now() + make_interval(secs => :lease_s){plan}
        WHERE id = :run_id AND {_HELD}
        RETURNING tenant_id, project_id, environment_id, cancel_requested
    ), step AS (
        INSERT INTO step_results (tenant_id, test_run_id, seq, phase, name, status, attempts, fencing_token,
            request, response, assertions, error, started_at, duration_ms)
        SELECT run.tenant_id, :run_id, :seq, :phase, :name, :status, :attempts, :token,
            CAST(:request AS json), CAST(:response AS json), CAST(:assertions AS jsonb), :error,
            :started_at, :duration_ms
        FROM run
        RETURNING 1
    ){extra}
    SELECT run.cancel_requested FROM run
    """


_COMMIT_STEPS = {
    (with_plan, ledger): text(_commit_step_sql(with_plan=with_plan, ledger=ledger))
    for with_plan in (False, True)
    for ledger in (None, "entry", "undo")
}


@dataclass(frozen=True, slots=True)
class _DriverStatement:
    """A statement as the driver (asyncpg) runs it: its positional SQL, as SQLAlchemy compiles it, and the
    names of its parameters in order. The step commit runs on every step of every run, and SQLAlchemy's
    execution around one statement (compiled cache, parameter processing, result wrapping, greenlet hop)
    costs several times the driver's own work; the statement, its parameters and its transaction (none:
    autocommit, one statement) are the same either way."""

    sql: str
    names: tuple[str, ...]

    @classmethod
    def compiled(cls, statement: TextClause, engine: AsyncEngine) -> _DriverStatement:
        compiled = statement.compile(dialect=engine.dialect)
        return cls(compiled.string, tuple(compiled.positiontup or ()))

    async def first(self, conn: AsyncConnection, params: dict[str, Any]) -> Any:
        """The first row (asyncpg's Record: by index or column name), None when there is none.

        One statement at a time on a connection: the data phase commits the outcomes of calls made in
        parallel through the run's one connection (SQLAlchemy queues its own statements the same way)."""
        driver, lock = await _driver_of(conn)
        async with lock:
            return await driver.fetchrow(self.sql, *[params[name] for name in self.names])


# In the connection's info, which SQLAlchemy keeps with its DBAPI connection and clears when it connects anew.
_DRIVER = "orchestra.driver_connection"


async def _driver_of(conn: AsyncConnection) -> tuple[Any, asyncio.Lock]:
    """asyncpg's connection under ``conn`` and the lock its statements run under. Looked up once per DBAPI
    connection: asking SQLAlchemy for it (``get_raw_connection``, a greenlet hop) on every step commit
    costs more than the rest of the commit's Python."""
    known = None if conn.invalidated else conn.info.get(_DRIVER)
    if known is not None:
        return cast(tuple[Any, asyncio.Lock], known)
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # asyncpg's connection
    assert driver is not None
    # SQLAlchemy's adapter runs its own statements under this lock: taking it too keeps a statement of
    # SQLAlchemy's and one of these from overlapping on the connection ("another operation is in
    # progress"). A private attribute of the adapter; without it, a lock of this connection's own.
    lock = getattr(raw.dbapi_connection, "_execute_mutex", None) or asyncio.Lock()
    conn.info[_DRIVER] = (driver, lock)
    return driver, lock


_HEARTBEAT = text(
    f"""
    UPDATE test_runs SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => :lease_s)
    WHERE id = :run_id AND {_HELD}
    RETURNING cancel_requested
    """
)

# The verdict is a parameter; finish() accepts only the finish operation's targets. A FAILED test run that
# asks for a retry (``retry_failed``), is no retry itself and was not being cancelled gets its retry in the
# same statement: a new PENDING run of the same version, environment, variables and mute, linked by
# ``retry_of_id``, in the first run's place in the queue. The first run keeps its verdict (nothing leaves a
# terminal status); the scheduler admits the retry like any PENDING run, and a suite run's teardown, which
# waits for every other run of it, waits for the retry too.
_FINISH = text(
    f"""
    WITH finished AS (
        UPDATE test_runs SET status = :status, status_reason = :reason, context = CAST(:context AS jsonb),
            finished_at = now(), heartbeat_at = now(), lease_owner = NULL, lease_expires_at = NULL,
            lease_presence_key = NULL
        WHERE id = :run_id AND fencing_token = :token AND {sql_status_in(TRANSITIONS["finish"].sources)}
        RETURNING *
    ), retry AS (
        INSERT INTO test_runs (id, tenant_id, project_id, suite_run_id, test_case_id, test_case_version_id,
            environment_id, name, status, priority, queue_key, trigger, attempt, fencing_token,
            cancel_requested, timeout_s, variables, context, mute_id, mute_reason, retry_failed, retry_of_id,
            created_at)
        SELECT gen_random_uuid(), tenant_id, project_id, suite_run_id, test_case_id, test_case_version_id,
            environment_id, name, '{RunStatus.PENDING.value}', priority, queue_key, trigger, 1, 0,
            false, timeout_s, variables, '{{}}'::jsonb, mute_id, mute_reason, retry_failed, id,
            now()
        FROM finished
        WHERE status = '{RunStatus.FAILED.value}' AND retry_failed > 0 AND retry_of_id IS NULL
            AND suite_phase IS NULL AND NOT cancel_requested
        RETURNING id
    )
    SELECT finished.id, (SELECT id FROM retry) AS retry_id FROM finished
    """
)

_HAND_BACK = text(
    f"""
    UPDATE test_runs SET status = '{_HAND_BACK_MOVE.target.value}', queued_at = now(), lease_owner = NULL,
        lease_expires_at = NULL, lease_presence_key = NULL
    WHERE id = :run_id AND fencing_token = :token AND {sql_status_in(_HAND_BACK_MOVE.sources)}
    RETURNING id
    """
)


@dataclass(frozen=True, slots=True)
class LedgerEntryWrite:
    """An entity the step created, entered into the data ledger with the step (``undo`` already sealed)."""

    id: uuid.UUID
    source: str  # data | step
    label: str
    operation: str
    method: str
    resource: str
    undo: str
    status: str = "pending"  # manual: nothing can undo it; a person has to (``note`` says what it was)
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerUndoWrite:
    """The outcome of the step that undid a ledger entry: done | gone | failed."""

    id: uuid.UUID
    status: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class StepRecord:
    seq: int
    phase: str
    name: str
    status: str
    attempts: int
    started_at: datetime
    duration_ms: float


_T = TypeVar("_T")
_CHECKOUT_ATTEMPTS = 3  # each waits up to the pool's timeout (30 s)


async def on_pooled_connection(
    engine: AsyncEngine, tenant_id: uuid.UUID, work: Callable[[AsyncConnection], Awaitable[_T]]
) -> _T:
    """``work`` on a pooled connection of the tenant's, taken again when the pool gave none in time: nothing
    was sent then, so trying again cannot write twice, and a run that waits on a crowded pool should not end
    in ERROR for it."""
    for attempt in range(1, _CHECKOUT_ATTEMPTS + 1):
        try:
            async with tenant_connection(engine, tenant_id) as conn:
                return await work(conn)
        except PoolTimeout:
            if attempt == _CHECKOUT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


class PooledStatements:
    """Stands in for a run's held connection when the executor has none to spare: each statement takes a
    pooled connection, enters the run's tenant, runs and gives the connection back. Results come back
    buffered (as from any ``AsyncConnection.execute``), so they are read after the connection is returned.
    Only ``execute`` exists: a run's writes are single statements in autocommit."""

    def __init__(self, engine: AsyncEngine, tenant_id: uuid.UUID) -> None:
        self._engine = engine
        self._tenant_id = tenant_id

    async def execute(self, statement: Executable, parameters: dict[str, Any] | None = None) -> Result[Any]:
        return await on_pooled_connection(
            self._engine, self._tenant_id, lambda conn: conn.execute(statement, parameters)
        )


class LeaseStore:
    def __init__(
        self,
        engine: AsyncEngine,
        owner: str,
        lease_s: float,
        presence_key: int | None = None,
        *,
        held_connections: int | None = None,
    ) -> None:
        """``presence_key``: the key of the owner's presence lock (executor/presence.py), recorded in every
        run it takes so that the reaper takes the run back as soon as the owner's process has ended (None:
        only when the lease expires). ``held_connections``: how many runs at once may hold a connection for
        their whole run (None: every run); the others take a pooled one per statement, so that the runs an
        executor works on at once are not bounded by the database's connections."""
        # Single statements in autocommit: one round trip each, atomic by themselves.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.owner = owner
        self.lease_s = lease_s
        self.presence_key = presence_key
        self._spare_connections = held_connections
        self._renewed: dict[uuid.UUID, float] = {}  # run id -> monotonic time of its lease's last renewal
        self._commit_steps = {
            key: _DriverStatement.compiled(statement, engine) for key, statement in _COMMIT_STEPS.items()
        }

    def renewed_at(self, lease: Lease) -> float | None:
        """When this store last renewed ``lease`` (``time.monotonic``): its take, a step commit or a
        heartbeat — each of them extends the lease and reads the cancel flag. None: never, or forgotten."""
        return self._renewed.get(lease.run_id)

    def forget(self, lease: Lease) -> None:
        """The run is no longer worked on here."""
        self._renewed.pop(lease.run_id, None)

    @asynccontextmanager
    async def connect(self, tenant_id: uuid.UUID) -> AsyncIterator[AsyncConnection]:
        """A connection to hold for a whole run (its tenant set): step commits then skip the pool's checkout
        and ping, and stay one round trip each. When ``held_connections`` runs hold one already, a stand-in
        that takes a pooled connection per statement (a checkout, a ping and the tenant's entry more per
        write, and no connection held while the run waits on its SUT)."""
        if self._spare_connections is None:
            async with tenant_connection(self._engine, tenant_id) as conn:
                yield conn
            return
        if self._spare_connections <= 0:
            # The one method a run's writes call on it (``_one``, the cleanup phase's reads): ``execute``.
            yield cast(AsyncConnection, PooledStatements(self._engine, tenant_id))
            return
        self._spare_connections -= 1
        try:
            async with tenant_connection(self._engine, tenant_id) as conn:
                yield conn
        finally:
            self._spare_connections += 1

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
        params = {
            "run_id": run_id,
            "owner": self.owner,
            "lease_s": self.lease_s,
            "presence_key": self.presence_key,
        }
        row = await self._one(_TAKE, params, tenant_id)
        if row is None:
            return None
        self._renewed[row.id] = time.monotonic()
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
            project_id=row.project_id,
            test_case_id=row.test_case_id,
            queue_wait_s=None if row.queue_wait_s is None else float(row.queue_wait_s),
        )

    async def commit_step(
        self,
        lease: Lease,
        step: StepRecord,
        context_json: str,
        payload: dict[str, str | None],
        conn: AsyncConnection | None = None,
        *,
        ledger: LedgerEntryWrite | LedgerUndoWrite | None = None,
        data_plan_json: str | None = None,
    ) -> bool:
        """Commit the step's result, the context and the heartbeat together. Returns cancel_requested.

        ``payload`` holds the already masked JSON texts of request, response and assertions, and the error.
        ``ledger``: the data ledger write that belongs to this step; ``data_plan_json``: the run's DataPlan.
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
        kind: str | None = None
        if isinstance(ledger, LedgerEntryWrite):
            kind = "entry"
            params.update(
                ledger_id=ledger.id,
                ledger_source=ledger.source,
                ledger_label=ledger.label[:200],
                ledger_operation=ledger.operation[:200],
                ledger_method=ledger.method[:10],
                ledger_resource=ledger.resource,
                ledger_undo=ledger.undo,
                ledger_status=ledger.status,
                ledger_error=ledger.note,
            )
        elif isinstance(ledger, LedgerUndoWrite):
            kind = "undo"
            params.update(ledger_id=ledger.id, ledger_status=ledger.status, ledger_error=ledger.error)
        if data_plan_json is not None:
            params["data_plan"] = data_plan_json
        statement = self._commit_steps[(data_plan_json is not None, kind)]
        if conn is not None and not isinstance(conn, PooledStatements):
            row = await statement.first(conn, params)
        else:
            row = await on_pooled_connection(
                self._engine, lease.tenant_id, lambda own: statement.first(own, params)
            )
        if row is None:
            raise LeaseLost(f"run {lease.run_id}: fencing token {lease.fencing_token} is no longer valid")
        self._renewed[lease.run_id] = time.monotonic()
        return bool(row[0])

    async def heartbeat(self, lease: Lease) -> bool:
        params = {"run_id": lease.run_id, "token": lease.fencing_token, "lease_s": self.lease_s}
        row = await self._one(_HEARTBEAT, params, lease.tenant_id)
        if row is None:
            raise LeaseLost(f"run {lease.run_id}: lease lost at heartbeat")
        self._renewed[lease.run_id] = time.monotonic()
        return bool(row[0])

    async def finish(
        self,
        lease: Lease,
        status: RunStatus,
        reason: str | None,
        context: dict[str, Any],
        conn: AsyncConnection | None = None,
    ) -> uuid.UUID | None:
        """IN_PROGRESS → the verdict ``status``, one of the finish operation's targets (the terminal ones).
        The id of the run's retry when the verdict made one (see ``_FINISH``), else None."""
        if status not in _FINISH_TARGETS:
            raise ValueError(f"run {lease.run_id}: {status} is not a verdict")
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
        retry: uuid.UUID | None = row.retry_id
        return retry

    async def hand_back(self, lease: Lease) -> bool:
        """Give the run back (graceful shutdown): QUEUED again, no attempt penalty. False when the lease
        was no longer this executor's (nothing changed)."""
        params = {"run_id": lease.run_id, "token": lease.fencing_token}
        try:
            return await self._one(_HAND_BACK, params, lease.tenant_id) is not None
        finally:
            self.forget(lease)  # given back (or no longer ours): not worked on here any more
