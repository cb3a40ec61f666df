"""Undo ledger entries outside a run: the sweep of an environment (on demand) and of every tenant
(periodically, by the scheduler). Entries of runs still in progress are left to their run's cleanup."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.egress import EgressPolicy, policy_of
from orchestra.kit.secret_box import SecretBox, SecretDecryptionError
from orchestra.models.environment import Environment
from orchestra.models.ledger import LedgerEntry
from orchestra.testdata import ledger_store
from orchestra.testdata.calls import perform_undo
from orchestra.testdata.records import UndoOutcome
from orchestra.testdata.undo_calls import shown_resource, unseal_undo

log = structlog.get_logger(__name__)

SWEEP_BATCH = 200  # entries undone by one sweep of one environment; the next sweep takes the rest


@dataclass(slots=True)
class SweepReport:
    cleaned: int = 0
    already_gone: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: SweepReport) -> None:
        self.cleaned += other.cleaned
        self.already_gone += other.already_gone
        self.failed.extend(other.failed)


async def undo_entry(
    client: httpx.AsyncClient,
    box: SecretBox,
    tenant_id: uuid.UUID,
    entry_id: uuid.UUID,
    sealed: str,
    policy: EgressPolicy,
    timeout_s: float,
) -> UndoOutcome:
    """Open the sealed call and send it; a call that cannot be opened (key changed) is a failure."""
    try:
        call = unseal_undo(box, tenant_id, entry_id, sealed)
    except (SecretDecryptionError, ValueError, KeyError) as error:
        return UndoOutcome("failed", error=f"the undo call cannot be read ({type(error).__name__})")
    outcome = await perform_undo(client, call, policy, timeout_s=timeout_s)
    if outcome.error and call.url in outcome.error:  # its query string may hold a key
        return replace(outcome, error=outcome.error.replace(call.url, shown_resource(call.url)))
    return outcome


async def sweep_environment(
    session: AsyncSession,
    client: httpx.AsyncClient,
    box: SecretBox,
    environment: Environment,
    *,
    timeout_s: float,
    max_attempts: int | None = None,
) -> SweepReport:
    """Undo the open entries of the environment's finished runs; the caller's transaction records each
    outcome. ``max_attempts``: leave entries that failed that often alone (the periodic sweep)."""
    report = SweepReport()
    policy = policy_of(environment)
    entries = await ledger_store.open_of_finished_runs(
        session, environment.id, limit=SWEEP_BATCH, max_attempts=max_attempts
    )
    for entry in entries:
        outcome = await undo_entry(client, box, entry.tenant_id, entry.id, entry.undo, policy, timeout_s)
        ledger_store.record_outcome(entry, outcome.status, outcome.error)
        _count(report, entry, outcome)
    await session.flush()
    if entries:
        log.info(
            "ledger.swept",
            environment_id=str(environment.id),
            cleaned=report.cleaned,
            already_gone=report.already_gone,
            failed=len(report.failed),
        )
    return report


def _count(report: SweepReport, entry: LedgerEntry, outcome: UndoOutcome) -> None:
    if outcome.status == "done":
        report.cleaned += 1
    elif outcome.status == "gone":
        report.already_gone += 1
    else:
        report.failed.append(
            {
                "id": str(entry.id),
                "label": entry.label,
                "operation": entry.operation,
                "resource": entry.resource,
                "error": outcome.error or "undo failed",
            }
        )
