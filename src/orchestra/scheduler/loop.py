"""The scheduler loop: ``run_once`` is one idempotent pass; ``run_forever`` repeats it (woken early)."""

from __future__ import annotations

import asyncio
import uuid

import structlog

from orchestra.broker.base import Broker
from orchestra.config import Settings
from orchestra.db import Database
from orchestra.scheduler import admission

log = structlog.get_logger(__name__)


class Scheduler:
    def __init__(self, db: Database, broker: Broker, settings: Settings) -> None:
        self.db = db
        self.broker = broker
        self.settings = settings
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Ask for a pass now (a run was created, or a slot freed)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run_once(self) -> list[uuid.UUID]:
        """Reap, re-publish and admit; publish only after the transaction committed."""
        async with self.db.engine.begin() as conn:
            if not await admission.lock_pass(conn):
                return []
            requeued = await admission.reap_expired(conn, self.settings.max_attempts)
            stale = await admission.stale_queued(
                conn, stale_s=max(10.0, self.settings.lease_s), batch=self.settings.scheduler_batch_size
            )
            admitted = await admission.admit(
                conn, self.settings.max_active_runs, self.settings.scheduler_batch_size
            )
        to_publish = requeued + stale + admitted
        if to_publish:
            await self.broker.publish(to_publish)
            log.info("scheduler.pass", admitted=len(admitted), requeued=len(requeued), republished=len(stale))
        return admitted

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                admitted = await self.run_once()
            except Exception:
                log.exception("scheduler.pass_failed")
                admitted = []
            if len(admitted) >= self.settings.scheduler_batch_size:
                continue  # more may be waiting; do not sleep
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.scheduler_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()
