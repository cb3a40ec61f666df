"""The periodic ledger sweep: undo what runs that ended without their cleanup (an internal error, a lease
lost too often) left in the SUTs. Every ``ledger_sweep_interval_s`` while this scheduler leads.

Across tenants it sees only which tenants have something to undo (``orchestra_sys_ledger_tenants``); the
work itself is done per tenant in that tenant's transactions, one environment at a time. An entry whose
undo failed ``MAX_SWEEP_ATTEMPTS`` times is left to a person (the environment's sweep endpoint retries it).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import structlog
from sqlalchemy import text

from orchestra.config import Settings
from orchestra.db import Database
from orchestra.kit.egress_http import guarded_client
from orchestra.kit.secret_box import SecretBox
from orchestra.models.environment import Environment
from orchestra.testdata import ledger_store
from orchestra.testdata.undo_calls import undo_timeout_s

if TYPE_CHECKING:  # the sweep's code is loaded at the first pass that finds something to undo
    from orchestra.testdata.sweep import SweepReport

log = structlog.get_logger(__name__)

MAX_SWEEP_ATTEMPTS = 5
_TENANTS = text("SELECT * FROM orchestra_sys_ledger_tenants(:max_attempts) AS tenant_id")


class LedgerSweeper:
    def __init__(self, db: Database, settings: Settings, box: SecretBox) -> None:
        self.db = db
        self.settings = settings
        self.box = box

    async def run_once(self) -> SweepReport:
        from orchestra.testdata.sweep import SweepReport

        total = SweepReport()
        async with self.db.engine.connect() as conn:
            tenants = [row[0] for row in await conn.execute(_TENANTS, {"max_attempts": MAX_SWEEP_ATTEMPTS})]
        if not tenants:
            return total
        async with guarded_client() as client:
            for tenant_id in tenants:
                try:
                    total.add(await self._sweep_tenant(client, tenant_id))
                except Exception:  # one tenant's trouble does not stop the others' sweep
                    log.exception("ledger.sweep_failed", tenant_id=str(tenant_id))
        return total

    async def _sweep_tenant(self, client: httpx.AsyncClient, tenant_id: uuid.UUID) -> SweepReport:
        from orchestra.testdata.sweep import SweepReport, sweep_environment

        report = SweepReport()
        async with self.db.transaction(tenant_id) as session:
            environment_ids = await ledger_store.environments_with_open_entries(session, MAX_SWEEP_ATTEMPTS)
        for environment_id in environment_ids:
            async with self.db.transaction(tenant_id) as session:  # one commit per environment
                environment = await session.get(Environment, environment_id)
                if environment is None:
                    continue
                report.add(
                    await sweep_environment(
                        session,
                        client,
                        self.box,
                        environment,
                        timeout_s=undo_timeout_s(self.settings),
                        max_attempts=MAX_SWEEP_ATTEMPTS,
                    )
                )
        return report
