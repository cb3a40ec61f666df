"""The running engine of one process: database, broker, scheduler and executor, started and stopped together.

``orchestra up`` and the embedded ``orchestra run`` both use it; the API reads it from ``app.state``.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import structlog

from orchestra.broker.base import Broker
from orchestra.broker.memory import InProcessBroker
from orchestra.config import Settings
from orchestra.db import Database, open_database
from orchestra.executor.worker import Executor
from orchestra.migrate import upgrade_to_head
from orchestra.scheduler.loop import Scheduler
from orchestra.tenants.repository import ensure_tenant

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    broker: Broker
    scheduler: Scheduler
    executor: Executor
    tenant_id: uuid.UUID
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(
        cls, settings: Settings, *, run_scheduler: bool = True, run_executor: bool = True
    ) -> Runtime:
        db = open_database(settings, pool_size=settings.executor_concurrency + 5)
        try:
            await upgrade_to_head(db.engine)
            async with db.transaction() as session:
                tenant_id = await ensure_tenant(session, settings.tenant)
        except BaseException:
            await db.close()
            raise
        broker = InProcessBroker()
        scheduler = Scheduler(db, broker, settings)
        executor = Executor(db, broker, settings, on_run_finished=scheduler.wake)
        runtime = cls(settings, db, broker, scheduler, executor, tenant_id)
        if run_scheduler:
            runtime._tasks.append(asyncio.create_task(scheduler.run_forever(), name="scheduler"))
        if run_executor:
            runtime._tasks.append(asyncio.create_task(executor.run_forever(), name="executor"))
        log.info("runtime.started", executor_owner=executor.owner)
        return runtime

    @property
    def ready(self) -> bool:
        return all(not task.done() for task in self._tasks)

    async def stop(self) -> None:
        """Stop admitting and consuming first, then hand the runs in progress back, then close."""
        self.scheduler.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.executor.shutdown()
        await self.broker.close()
        await self.executor.close()
        await self.db.close()
        log.info("runtime.stopped")
