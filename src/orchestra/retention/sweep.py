"""The retention sweep: delete the finished runs a project no longer keeps, in small batches.

Run by the scheduler leader every ``retention_interval_s`` (runtime.py gives it to the scheduler). Across
tenants it sees only which tenants have a policy (``orchestra_sys_retention_tenants``); the work is done in
that tenant's transactions. Every transaction is short and touches at most ``retention_batch_rows`` rows of
a kind: step rows go first, a chunk at a time; then, in one transaction, the runs' compact verdicts are
written and the runs (and whole suite runs) deleted. A run in progress is never chosen nor deleted; a suite
run goes whole or not at all. Interrupted anywhere, the next pass carries on (every step is idempotent).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import text

from orchestra.config import Settings
from orchestra.db import Database
from orchestra.models import RetentionPolicy
from orchestra.retention import repository

log = structlog.get_logger(__name__)

_TENANTS = text("SELECT * FROM orchestra_sys_retention_tenants() AS tenant_id")
LOCK_TIMEOUT_MS = 2000


@dataclass(slots=True)
class SweepReport:
    runs: int = 0
    suite_runs: int = 0
    steps: int = 0
    transactions: int = 0

    def add(self, other: SweepReport) -> None:
        self.runs += other.runs
        self.suite_runs += other.suite_runs
        self.steps += other.steps
        self.transactions += other.transactions


@dataclass(frozen=True, slots=True)
class _Rule:
    project_id: uuid.UUID
    since: datetime | None
    keep_last: int | None


class RetentionSweeper:
    def __init__(self, db: Database, settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.batch = settings.retention_batch_rows
        self.pause_s = settings.retention_batch_pause_s
        self.clock = clock or (lambda: datetime.now(UTC))

    async def run_once(self) -> SweepReport:
        """One pass over every tenant with a policy, until nothing more is past its rule."""
        total = SweepReport()
        async with self.db.engine.connect() as conn:
            tenants = [row[0] for row in await conn.execute(_TENANTS)]
        for tenant_id in tenants:
            try:
                total.add(await self.sweep_tenant(tenant_id))
            except Exception:  # one tenant's trouble does not stop the others' retention
                log.exception("retention.sweep_failed", tenant_id=str(tenant_id))
        if total.runs or total.suite_runs:
            log.info(
                "retention.swept",
                runs=total.runs,
                suite_runs=total.suite_runs,
                steps=total.steps,
                transactions=total.transactions,
            )
        return total

    async def sweep_tenant(self, tenant_id: uuid.UUID) -> SweepReport:
        now = self.clock()
        async with self.db.transaction(tenant_id) as session:
            rules = [self._rule(policy, now) for policy in await repository.policies(session)]
        report = SweepReport()
        for rule in rules:
            report.add(await self._sweep_project(tenant_id, rule))
        return report

    @staticmethod
    def _rule(policy: RetentionPolicy, now: datetime) -> _Rule:
        since = now - timedelta(days=policy.keep_days) if policy.keep_days is not None else None
        return _Rule(policy.project_id, since, policy.keep_last)

    async def _sweep_project(self, tenant_id: uuid.UUID, rule: _Rule) -> SweepReport:
        report = SweepReport()
        while True:  # the lone runs, oldest first, a batch at a time
            async with self.db.transaction(tenant_id) as session:
                runs = await repository.lone_runs_past(
                    session, rule.project_id, rule.since, rule.keep_last, self.batch
                )
            report.transactions += 1
            if not runs:
                break
            before = report.runs
            await self._delete(tenant_id, runs, [], report)
            if len(runs) < self.batch or report.runs == before:  # the last batch, or taken meanwhile
                break
        while True:  # then the suite runs that are past the rule as a whole, a few at a time
            async with self.db.transaction(tenant_id) as session:
                suite_runs = await repository.suite_runs_past(
                    session, rule.project_id, rule.since, rule.keep_last, max(1, self.batch // 100)
                )
                runs = await repository.runs_of_suite_runs(session, suite_runs) if suite_runs else []
            report.transactions += 1
            if not suite_runs:
                break
            before = report.suite_runs
            for start in range(0, max(len(runs), 1), self.batch):
                last = start + self.batch >= len(runs)
                await self._delete(
                    tenant_id, runs[start : start + self.batch], suite_runs if last else [], report
                )
            if report.suite_runs == before:  # none could go (changed meanwhile): the next pass tries again
                break
        return report

    async def _delete(
        self,
        tenant_id: uuid.UUID,
        runs: list[uuid.UUID],
        suite_runs: list[uuid.UUID],
        report: SweepReport,
    ) -> None:
        while runs:  # their step rows first, a chunk per transaction
            async with self.db.transaction(tenant_id) as session:
                await repository.limit_lock_waits(session, LOCK_TIMEOUT_MS)
                deleted = await repository.delete_steps(session, runs, self.batch)
            report.steps += deleted
            report.transactions += 1
            await self._yield()
            if deleted < self.batch:
                break
        async with self.db.transaction(tenant_id) as session:
            await repository.limit_lock_waits(session, LOCK_TIMEOUT_MS)
            deleted_runs, deleted_suites = await repository.delete_runs(session, runs, suite_runs)
        report.runs += deleted_runs
        report.suite_runs += deleted_suites
        report.transactions += 1
        await self._yield()

    async def _yield(self) -> None:
        """Between two batches: let the API's own queries have the database (and this process's loop)."""
        await asyncio.sleep(self.pause_s)
