"""The scheduler loop: ``run_once`` is one idempotent pass; ``run_forever`` repeats it (woken early)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy import text

from orchestra.broker.protocol import Broker
from orchestra.config import Settings
from orchestra.db import Database
from orchestra.kit import metrics
from orchestra.kit.secret_box import SecretBox
from orchestra.scheduler import admission
from orchestra.scheduler.leader import WAKE_CHANNEL, LeaderLock
from orchestra.scheduler.ledger_sweep import LedgerSweeper

log = structlog.get_logger(__name__)

# Fires the schedules due at a time (creating their PENDING runs) and never raises: schedules/firing.py's
# run_pass, given by the wiring (runtime.py), so the scheduler does not depend on the API's features.
FireSchedules = Callable[[Database, datetime], Awaitable[object]]
# One pass of the retention sweep (retention/sweep.py), given by the wiring for the same reason.
SweepRetention = Callable[[Database, Settings], Awaitable[object]]

_NOTIFY_WAKE = text(f"NOTIFY {WAKE_CHANNEL}")


class Scheduler:
    def __init__(
        self,
        db: Database,
        broker: Broker,
        settings: Settings,
        *,
        secrets: SecretBox | None = None,
        fire_schedules: FireSchedules | None = None,
        sweep_retention: SweepRetention | None = None,
    ) -> None:
        """``secrets``: opens the data ledger's undo calls for the periodic sweep (none: no sweep).
        ``fire_schedules``: fires due schedules at the start of every pass (none: schedules do not fire).
        ``sweep_retention``: deletes the runs projects no longer keep, every ``retention_interval_s``."""
        self.db = db
        self.fire_schedules = fire_schedules
        self.sweep_retention = sweep_retention
        self.ledger_sweeper = LedgerSweeper(db, settings, secrets) if secrets is not None else None
        self.broker = broker
        self.settings = settings
        self._wake = asyncio.Event()
        self._stopping = False
        self.leader = LeaderLock(db.url, on_wake=self._wake.set)
        self._notifying: asyncio.Task[None] | None = None
        self._notify_again = False
        try:
            self._event_loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._event_loop = None
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # injectable: tests set the time

    def wake(self) -> None:
        """Ask for a pass now (a run was created, or a slot freed): of this process's scheduler when it
        leads, else of the leader, wherever it runs, through PostgreSQL (NOTIFY; the leader LISTENs).

        Callable from any thread: a route's synchronous background task runs in a worker thread, and an
        asyncio event set from there would not wake the loop until something else did."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        loop = self._event_loop or running
        if loop is None:
            return  # no event loop: nothing runs here to be woken or to send
        if running is loop:
            self._wake_now()
        else:
            loop.call_soon_threadsafe(self._wake_now)

    def _wake_now(self) -> None:
        """``wake``, in the event loop."""
        if self.leader.held:
            self._wake.set()
            return
        if self._notifying is not None and not self._notifying.done():
            self._notify_again = True  # one more NOTIFY once this one is sent, for what it may have missed
            return
        self._notifying = asyncio.get_running_loop().create_task(self._notify(), name="scheduler wake")

    async def _notify(self) -> None:
        try:
            while True:
                self._notify_again = False
                async with self.db.engine.begin() as conn:
                    await conn.execute(_NOTIFY_WAKE)
                if not self._notify_again:
                    return
        except Exception as error:  # the leader's next periodic pass admits the runs all the same
            log.warning("scheduler.wake_failed", error=f"{type(error).__name__}: {error}")

    async def close(self) -> None:
        """Wait for a wake-up still being sent (before the database closes)."""
        if self._notifying is not None:
            await asyncio.gather(self._notifying, return_exceptions=True)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run_once(self) -> list[uuid.UUID]:
        """Reap, re-publish and admit; publish only after the transaction committed (timed:
        ``orchestra_scheduler_pass_duration_seconds``)."""
        with metrics.SCHEDULER_PASS_DURATION.time():
            return await self._pass()

    async def _pass(self) -> list[uuid.UUID]:
        if self.fire_schedules is not None:  # due schedules create PENDING runs (never raises)
            await self.fire_schedules(self.db, self.clock())
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
        metrics.LEASES_RECLAIMED.labels("expired").inc(len(requeued))
        to_publish = requeued + stale + admitted
        if to_publish:
            await self.broker.publish(to_publish)
            log.info("scheduler.pass", admitted=len(admitted), requeued=len(requeued), republished=len(stale))
        return admitted

    @property
    def role(self) -> str:
        return "leader" if self.leader.held else "standby"

    async def run_forever(self) -> None:
        # the ledger sweep (its undo calls may be slow) and the retention sweep (its batches pause in
        # between) run apart from the admission passes
        sweeping = asyncio.create_task(
            self._every(self.settings.ledger_sweep_interval_s, self._sweep_ledger, "ledger_sweep"),
            name="ledger sweep",
        )
        retaining = asyncio.create_task(
            self._every(self.settings.retention_interval_s, self._sweep_retention, "retention_sweep"),
            name="retention sweep",
        )
        try:
            await self._loop()
        finally:
            sweeping.cancel()
            retaining.cancel()
            await asyncio.gather(sweeping, retaining, return_exceptions=True)
            await self.leader.release()

    async def _sweep_ledger(self) -> bool:
        if self.ledger_sweeper is None:
            return False
        await self.ledger_sweeper.run_once()
        return True

    async def _sweep_retention(self) -> bool:
        if self.sweep_retention is None:
            return False
        await self.sweep_retention(self.db, self.settings)
        return True

    async def _every(self, interval: float, work: Callable[[], Awaitable[bool]], name: str) -> None:
        """``work`` every ``interval`` seconds while this replica leads (never when the interval is 0 or
        ``work`` says it has nothing to do); a failure is logged and the next turn comes as usual."""
        if interval <= 0:
            return
        while not self._stopping:
            await asyncio.sleep(interval)
            if not self.leader.held:
                continue
            try:
                if not await work():
                    return
            except Exception:
                log.exception(f"scheduler.{name}_failed")

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                leading = await self.leader.acquire()
            except Exception:
                log.warning("scheduler.leader_check_failed", exc_info=True)
                leading = False
            if not leading:  # a standby: retry for leadership a little later
                await self._pause(self.settings.leader_retry_s)
                continue
            try:
                admitted = await self.run_once()
            except Exception:
                log.exception("scheduler.pass_failed")
                admitted = []
            if len(admitted) >= self.settings.scheduler_batch_size:
                continue  # more may be waiting; do not sleep
            await self._pause(self.settings.scheduler_interval_s)

    async def _pause(self, seconds: float) -> None:
        """Sleep until woken (a run was created or finished in this process) or ``seconds`` passed."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
        self._wake.clear()
