"""The running engine of one process: database, broker, scheduler and executor, started and stopped together.

``orchestra up`` and the embedded ``orchestra run`` both use it; the API reads it from ``app.state``.
What only some processes do (migrate, fire schedules, plan test data) is imported only by those, or when
first needed: a stand-alone executor stays small.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from orchestra.broker.factory import open_broker
from orchestra.broker.protocol import Broker
from orchestra.config import Settings
from orchestra.db import Database, open_database
from orchestra.executor.data_phase import PreparedPlanLike
from orchestra.executor.worker import Executor
from orchestra.kit import tracing
from orchestra.kit.live_changes import ListenedChanges, PolledChanges
from orchestra.kit.secret_box import SecretBox, open_context_key, open_secret_box
from orchestra.migrate import is_at_head, require_head
from orchestra.scheduler.loop import Scheduler
from orchestra.tenants.repository import ensure_tenant

if TYPE_CHECKING:
    from orchestra.embedded_pg import EmbeddedPostgres
    from orchestra.testdata.provider import PlanProvider
    from orchestra.webhooks.delivery import Deliverer

log = structlog.get_logger(__name__)


async def _fire_schedules(db: Database, at: datetime) -> object:
    """schedules/firing.py's pass, imported at the first scheduling pass (an executor never makes one)."""
    from orchestra.schedules import firing

    return await firing.run_pass(db, at)


async def _sweep_retention(db: Database, settings: Settings) -> object:
    """retention/sweep.py's pass, imported at its first pass (only the scheduler leader makes one)."""
    from orchestra.retention.sweep import RetentionSweeper

    return await RetentionSweeper(db, settings).run_once()


def live_changes(settings: Settings, db: Database) -> ListenedChanges | PolledChanges:
    """What wakes the live streams this process serves (``ORCHESTRA_LIVE_UPDATES``)."""
    if settings.live_updates == "poll":
        return PolledChanges(settings.live_poll_s)
    return ListenedChanges(db.url, safety_s=settings.live_safety_s)


class PlansOnDemand:
    """The plan provider (testdata/provider.py), made at the first run that declares data: its planners and
    the ai-service's client stay out of the memory of a process whose tests declare none.

    ``before_first_plan``: awaited once, before the first plan is asked for (an embedded `orchestra run`
    starts its ai-service there, so a run whose tests declare no data never starts one)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        secrets: SecretBox,
        before_first_plan: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._db, self._settings, self._secrets = db, settings, secrets
        self._provider: PlanProvider | None = None
        self._before_first_plan = before_first_plan
        self._prepared = asyncio.Lock()

    async def _made(self) -> PlanProvider:
        if self._provider is None:
            async with self._prepared:  # runs planned at once: one start, the others wait for it
                if self._before_first_plan is not None:
                    await self._before_first_plan()
                    self._before_first_plan = None
            from orchestra.testdata.provider import PlanProvider

            self._provider = self._provider or PlanProvider(self._db, self._settings, self._secrets)
        return self._provider

    async def plan_for_run(self, **run: Any) -> PreparedPlanLike:
        return await (await self._made()).plan_for_run(**run)

    async def repair(self, prepared: Any, **run: Any) -> PreparedPlanLike:
        return await (await self._made()).repair(prepared, **run)

    async def forget(self, prepared: Any, **run: Any) -> None:
        await (await self._made()).forget(prepared, **run)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    broker: Broker
    scheduler: Scheduler
    executor: Executor
    tenant_id: uuid.UUID
    secrets: SecretBox  # encrypts environment secrets at rest (kit/secret_box.py)
    # what wakes this process's live streams (its LISTEN connection opens with the first stream)
    changes: ListenedChanges | PolledChanges
    runs_scheduler: bool = True
    runs_executor: bool = True
    deliverer: Deliverer | None = None  # sends webhook deliveries (processes that schedule, by default)
    # set whenever a run this process executed has finished (a follower waits on it instead of polling)
    run_finished: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        run_scheduler: bool = True,
        run_executor: bool = True,
        migrate: bool = True,
        before_first_plan: Callable[[], Awaitable[None]] | None = None,
        fire_schedules: bool = True,
        embedded_server: EmbeddedPostgres | None = None,
    ) -> Runtime:
        """``migrate``: bring the schema to head first (servers do; an executor waits for an API to) when
        there is an owner to migrate as: the embedded server's, or ORCHESTRA_MIGRATION_DATABASE_URL's.
        Without one the services' role could change nothing: the schema must already be at head.
        ``before_first_plan``: see ``PlansOnDemand``. ``fire_schedules``: whether the scheduler fires due
        schedules, sweeps retention and delivers webhooks (a one-shot command runs what it was given and
        leaves those to the servers). ``embedded_server``: see ``open_database``."""
        secrets = open_secret_box(settings)  # first: a missing or unsafe key stops the start at once
        context_key = open_context_key(settings)
        db = open_database(
            settings,
            context_key,
            # the runs holding a connection, plus the rest: the others take one per statement
            pool_size=min(settings.executor_concurrency, settings.executor_db_connections) + 5,
            embedded_server=embedded_server,
        )
        try:
            if migrate and (db.embedded is not None or settings.migration_database_url):
                from sqlalchemy.ext.asyncio import create_async_engine

                from orchestra.environments.secret_migration import encrypt_plaintext_secrets
                from orchestra.migrate import migrate_database

                embedded = db.embedded is not None
                # one connection as the owner for both passes (a log-in costs a password exchange)
                owner = create_async_engine(db.owner_url, pool_size=1, max_overflow=0)
                try:
                    # The embedded database belongs to this data directory, whose secret key is the only one.
                    await migrate_database(
                        db.owner_url,
                        context_key=context_key,
                        replace_context_key=embedded,
                        app_password=db.app_password,
                        label=db.owner_label,
                        engine=owner,
                    )
                    # values stored in clear by a release from before encryption at rest
                    await encrypt_plaintext_secrets(owner, secrets, context_key)
                finally:
                    await owner.dispose()
            elif migrate:
                await require_head(db.engine, db.label)
            await db.check_role()
            async with db.transaction(None) as session:
                tenant_id = await ensure_tenant(session, settings.tenant)
            broker = await open_broker(settings)
        except BaseException:
            await db.close()
            raise
        scheduler = Scheduler(
            db,
            broker,
            settings,
            secrets=secrets,
            fire_schedules=_fire_schedules if fire_schedules else None,
            sweep_retention=_sweep_retention if fire_schedules else None,  # long-lived processes only
        )
        plans = PlansOnDemand(db, settings, secrets, before_first_plan)  # the DataPlans of tests with data
        run_finished = asyncio.Event()

        def on_run_finished() -> None:
            scheduler.wake()
            run_finished.set()

        executor = Executor(
            db, broker, settings, secrets=secrets, plans=plans, on_run_finished=on_run_finished
        )
        runtime = cls(
            settings,
            db,
            broker,
            scheduler,
            executor,
            tenant_id,
            secrets,
            live_changes(settings, db),
            run_scheduler,
            run_executor,
            run_finished=run_finished,
        )
        if run_scheduler:
            runtime._tasks.append(asyncio.create_task(scheduler.run_forever(), name="scheduler"))
        if run_scheduler and fire_schedules and settings.webhook_delivery:  # long-lived processes only
            from orchestra.webhooks.delivery import Deliverer

            runtime.deliverer = Deliverer(db, settings, secrets)
            runtime._tasks.append(asyncio.create_task(runtime.deliverer.run_forever(), name="webhooks"))
        if run_executor:
            if settings.otlp_endpoint:  # traces of the runs this process executes (kit/tracing.py)
                tracing.configure(settings.otlp_endpoint, "orchestra-executor")
            runtime._tasks.append(asyncio.create_task(executor.run_forever(), name="executor"))
        log.info("runtime.started", executor_owner=executor.owner)
        return runtime

    @property
    def ready(self) -> bool:
        return all(not task.done() for task in self._tasks)

    async def readiness(self) -> dict[str, str]:
        """Each dependency of this process and whether it is usable; all "ok" means ready."""
        checks: dict[str, str] = {}
        try:
            checks["database"] = "ok" if await is_at_head(self.db.engine) else "migrations not at head"
        except Exception as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        try:
            checks["broker"] = "ok" if await self.broker.is_healthy() else "unreachable"
        except Exception as error:
            checks["broker"] = f"unreachable: {type(error).__name__}"
        if self.runs_executor:
            checks["executor"] = "ok" if self.ready else "stopped"
        if self.runs_scheduler:
            checks["scheduler"] = "ok" if self.ready else "stopped"
        return checks

    async def stop(self) -> None:
        """Stop admitting and consuming first, then hand the runs in progress back, then close."""
        self.scheduler.stop()
        if self.deliverer is not None:
            self.deliverer.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.executor.shutdown()
        await self.broker.close()
        await self.executor.close()
        await self.scheduler.close()
        await self.changes.close()
        await self.db.close()
        if self.runs_executor and self.settings.otlp_endpoint:
            await asyncio.to_thread(tracing.shutdown)  # sends the spans still buffered
        log.info("runtime.stopped")
