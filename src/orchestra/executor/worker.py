"""The executor: consumes run ids, leases runs, runs them with a heartbeat, hands them back on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from sqlalchemy import text

from orchestra.broker.protocol import Broker, Delivery
from orchestra.config import Settings
from orchestra.db import Database, tenant_connection
from orchestra.definitions.loader import validate_test_case_data
from orchestra.executor.data_phase import PlanSource
from orchestra.executor.lease import Lease, LeaseLost, LeaseStore
from orchestra.executor.plan import ExecutionPlan, compile_plan, request_defaults_of
from orchestra.executor.presence import Presence
from orchestra.executor.rate_limit import RequestPacer
from orchestra.executor.run_execution import EnvironmentSnapshot, RunExecution
from orchestra.executor.suite_shared import SuiteShared, load_suite_shared
from orchestra.kit import metrics, tracing
from orchestra.kit.egress_http import KEEPALIVE_EXPIRY_S, guarded_client
from orchestra.kit.environment_secrets import SecretUnreadable, reveal
from orchestra.kit.masking import ACTIVE_SECRETS
from orchestra.kit.secret_box import SecretBox, open_secret_box
from orchestra.models.run_states import RunStatus
from orchestra.steps.request_step import HttpStepRunner

log = structlog.get_logger(__name__)

# A suite's setup or teardown run holds its steps itself (runs/suite_phases.py); a test's are its version's.
_LOAD = text(
    """
    SELECT coalesce(r.definition, v.definition) AS definition, r.suite_run_id, r.suite_phase,
        e.name, e.base_url, e.variables, e.secrets, e.idempotency_keys, e.id,
        e.max_requests_per_s, e.allowed_hosts, e.allow_private_network, e.defaults AS environment_defaults,
        (SELECT s.definition -> 'defaults' FROM suite_runs sr JOIN suites s ON s.id = sr.suite_id
            WHERE sr.id = r.suite_run_id) AS suite_defaults
    FROM test_runs r
    JOIN environments e ON e.id = r.environment_id
    LEFT JOIN test_case_versions v ON v.id = r.test_case_version_id
    WHERE r.id = :run_id
    """
)


def _count_finished(lease: Lease, outcome: str) -> None:
    """``orchestra_runs_finished`` and ``orchestra_run_duration_seconds`` (from the first lease)."""
    label = metrics.outcome_label(outcome)
    metrics.RUNS_FINISHED.labels(label).inc()
    elapsed = (datetime.now(UTC) - lease.started_at).total_seconds()
    metrics.RUN_DURATION.labels(label).observe(max(0.0, elapsed))


def incarnation_id() -> str:
    """Identifies this process incarnation: a new id at every start, never reused."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class Executor:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        settings: Settings,
        on_run_finished: Callable[[], None] | None = None,
        *,
        secrets: SecretBox | None = None,
        plans: PlanSource | None = None,
    ) -> None:
        """``secrets``: decrypts the environments' secrets (default: the key the settings name) and seals
        the data ledger's undo calls. ``plans``: makes the DataPlans of tests that declare ``data`` (none:
        such runs end in error)."""
        self.db = db
        self.plans = plans
        self.secrets = secrets or open_secret_box(settings)
        self.broker = broker
        self.settings = settings
        self.owner = incarnation_id()
        self.store = LeaseStore(
            db.engine, self.owner, settings.lease_s, held_connections=settings.executor_db_connections
        )
        self.presence = Presence(db.url)
        # Egress-guarded (kit/egress_http.py): requests go only where the run's environment allows.
        self.client = guarded_client(
            limits=httpx.Limits(
                max_connections=settings.executor_concurrency * 4,
                max_keepalive_connections=64,
                keepalive_expiry=KEEPALIVE_EXPIRY_S,
            ),
        )
        self.http = HttpStepRunner(self.client, settings, pacer=RequestPacer(db.engine))
        self._slots = asyncio.Semaphore(settings.executor_concurrency)
        metrics.EXECUTOR_SLOTS_FREE.set(settings.executor_concurrency)
        self._running: set[asyncio.Task[None]] = set()
        self._plans: dict[uuid.UUID, ExecutionPlan] = {}
        self._on_run_finished = on_run_finished or (lambda: None)
        self._stopping = False
        self._consumer: asyncio.Task[None] | None = None

    async def run_forever(self) -> None:
        """Take the next delivery only once a slot is free, so a busy executor does not sit on messages
        that an idle one could run. Nothing is leased before this process's presence lock is held."""
        await self._be_present()
        keeping = asyncio.create_task(self._keep_present(), name="executor presence")
        self._consumer = asyncio.create_task(self._consume(), name="executor consumer")
        try:
            await self._consumer
        finally:
            keeping.cancel()
            await asyncio.gather(keeping, return_exceptions=True)

    async def _be_present(self) -> None:
        while True:
            try:
                self.store.presence_key = await self.presence.acquire()
                return
            except Exception as error:
                log.warning("executor.presence_failed", error=f"{type(error).__name__}: {error}")
                await asyncio.sleep(1.0)

    async def _keep_present(self) -> None:
        interval = min(self.settings.lease_s / 3, self.settings.heartbeat_s)
        while True:
            await asyncio.sleep(interval)
            await self.presence.keep()

    async def _consume(self) -> None:
        async with contextlib.aclosing(self.broker.deliveries()) as deliveries:
            while not self._stopping:
                await self._slots.acquire()
                if self._stopping:  # shutdown began while we waited for a slot
                    self._slots.release()
                    return
                try:
                    delivery = await anext(deliveries)
                except StopAsyncIteration:
                    self._slots.release()
                    return
                metrics.EXECUTOR_SLOTS_FREE.dec()
                task = asyncio.create_task(self._handle(delivery), name=f"run {delivery.run_id}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def shutdown(self) -> None:
        """Stop taking work and hand the runs in progress back (QUEUED, no attempt penalty). The consumer
        ends first, so that the ids the hand-backs publish go to the other executors, not back to this one."""
        self._stopping = True
        if self._consumer is not None:
            self._consumer.cancel()
            await asyncio.gather(self._consumer, return_exceptions=True)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def close(self) -> None:
        """After ``shutdown``: the presence lock goes last, once no run is held any more."""
        await self.client.aclose()
        await self.presence.release()

    async def _handle(self, delivery: Delivery) -> None:
        try:
            lease = await self._take(delivery.run_id)
            await delivery.ack()  # the lease attempt is decided either way
            if lease is not None and self._stopping:
                await self._hand_back(lease)
            elif lease is not None:
                await self._execute(lease)
        except Exception:
            log.exception("executor.run_crashed", run_id=str(delivery.run_id))
        finally:
            metrics.EXECUTOR_SLOTS_FREE.inc()
            self._slots.release()

    async def _take(self, run_id: uuid.UUID) -> Lease | None:
        """Take the lease; a shutdown arriving meanwhile lets the UPDATE finish and hands the run back."""
        taking = asyncio.ensure_future(self.store.take(run_id))
        try:
            return await asyncio.shield(taking)
        except asyncio.CancelledError:
            lease = await taking
            if lease is not None:
                await self._hand_back(lease)
            raise

    async def _hand_back(self, lease: Lease) -> None:
        """QUEUED again, then its id published (after that commit), so an idle executor resumes it now
        rather than when the scheduler re-publishes QUEUED runs nobody leased."""
        if not await self.store.hand_back(lease):
            return  # no longer ours (taken over, or ended): nothing to give back
        metrics.LEASES_RECLAIMED.labels("handed_back").inc()
        try:
            await self.broker.publish([lease.run_id])
        except Exception as error:  # the scheduler's re-publish of stale QUEUED runs still finds it
            log.warning(
                "run.hand_back_publish_failed",
                run_id=str(lease.run_id),
                error=f"{type(error).__name__}: {error}",
            )

    async def _execute(self, lease: Lease) -> None:
        bound = log.bind(
            run_id=str(lease.run_id),
            tenant_id=str(lease.tenant_id),
            attempt=lease.attempt,
            fencing_token=lease.fencing_token,
            **({"trace_id": tracing.trace_id_of(lease.run_id)} if tracing.enabled() else {}),
        )
        bound.info("run.leased")
        if lease.queue_wait_s is not None:
            metrics.RUN_QUEUE_WAIT.observe(max(0.0, lease.queue_wait_s))
        lost = asyncio.Event()
        heartbeat: asyncio.Task[None] | None = None
        masking = contextlib.ExitStack()
        try:
            plan, environment, suite = await self._load(lease)
            execution = RunExecution(
                lease,
                self.store,
                plan,
                environment,
                self.http,
                box=self.secrets,
                plans=self.plans,
                suite=suite,
            )
            heartbeat = asyncio.create_task(self._heartbeat(lease, execution, asyncio.current_task(), lost))
            # Until the run is over, every log line of this process loses its secrets (the except clauses
            # below included).
            masking.enter_context(ACTIVE_SECRETS.holding(execution.masker))
            status, reason = await execution.execute()
            retry = {"retry_run_id": str(execution.retry_id)} if execution.retry_id else {}
            bound.info("run.finished", status=status.value, reason=reason, **retry)
            _count_finished(lease, status.value)
        except SecretUnreadable as error:  # names the environment and the secret, never a value
            bound.error("run.secret_unreadable", reason=str(error))
            await self._finish_quietly(lease, str(error))
        except LeaseLost as error:
            bound.warning("run.lease_lost", reason=str(error))
        except asyncio.CancelledError:
            if lost.is_set():
                bound.warning("run.lease_lost", reason="lease could not be renewed in time")
            else:
                await asyncio.shield(self._hand_back(lease))
                bound.info("run.handed_back")
                raise
        except Exception as error:
            bound.exception("run.internal_error")
            # The class name only: a driver error's text may quote parameters, secrets included.
            await self._finish_quietly(
                lease, f"internal error ({type(error).__name__}); see the executor log"
            )
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            self.store.forget(lease)
            masking.close()
            self._on_run_finished()

    async def _heartbeat(
        self, lease: Lease, execution: RunExecution, run_task: asyncio.Task[Any] | None, lost: asyncio.Event
    ) -> None:
        """Extend the lease during long steps and pass on a cancel request at once; stop the run itself if
        renewal keeps failing until the lease would expire.

        A step commit renews the lease and reads the cancel flag too, so the heartbeat writes only once
        ``interval`` has passed since the last renewal of either kind: a run whose steps commit more often
        sends none (with 1,000 runs at once, 500 writes a second fewer), a long step still gets one every
        ``interval``, and a cancel request is still seen within ``interval``."""
        interval = min(self.settings.lease_s / 3, self.settings.heartbeat_s)
        started = attempted = time.monotonic()
        while True:
            due = max(self.store.renewed_at(lease) or started, attempted) + interval - time.monotonic()
            if due > 0:
                await asyncio.sleep(due)
                continue
            attempted = time.monotonic()
            lease_lost = False
            try:
                async with asyncio.timeout(interval):  # a hung database must not keep a zombie going
                    if await self.store.heartbeat(lease):
                        execution.interrupt("cancelled on request")
            except LeaseLost:
                lease_lost = True
            except Exception:
                log.warning("run.heartbeat_failed", run_id=str(lease.run_id), exc_info=True)
            renewed = self.store.renewed_at(lease) or started
            if lease_lost or time.monotonic() - renewed >= self.settings.lease_s - interval / 2:
                lost.set()
                if run_task is not None:
                    run_task.cancel()
                return

    async def _load(self, lease: Lease) -> tuple[ExecutionPlan, EnvironmentSnapshot, SuiteShared | None]:
        async with tenant_connection(self.db.engine, lease.tenant_id) as conn:
            row = (await conn.execute(_LOAD, {"run_id": lease.run_id})).one()
            suite = await load_suite_shared(conn, row.suite_run_id, row.suite_phase)
        version_id = lease.test_case_version_id
        plan = self._plans.get(version_id) if version_id is not None else None
        if plan is None:
            # Versions are immutable, so a compiled plan never goes stale.
            plan = compile_plan(validate_test_case_data(row.definition), suite_phase=row.suite_phase)
            if len(self._plans) > 1000:
                self._plans.clear()
            if version_id is not None:
                self._plans[version_id] = plan
        return (
            plan,
            EnvironmentSnapshot(
                row.name,
                row.base_url,
                row.variables,
                reveal(self.secrets, lease.tenant_id, row.id, row.name, row.secrets),
                row.idempotency_keys,
                id=row.id,
                max_requests_per_s=row.max_requests_per_s,
                allowed_hosts=tuple(row.allowed_hosts),
                allow_private_network=row.allow_private_network,
                request_defaults=request_defaults_of(row.environment_defaults, row.suite_defaults),
            ),
            suite,
        )

    async def _finish_quietly(self, lease: Lease, reason: str) -> None:
        try:
            # A finished run never resumes: the variables sealed for that (secret ones) are not kept.
            sealed = ("sealed_vars", "sealed_data")
            context = {key: value for key, value in lease.context.items() if key not in sealed}
            await self.store.finish(lease, RunStatus.ERROR, reason, context)
            _count_finished(lease, RunStatus.ERROR.value)
        except Exception:
            log.exception("run.finish_failed", run_id=str(lease.run_id))
