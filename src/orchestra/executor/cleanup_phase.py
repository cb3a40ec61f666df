"""The cleanup phase of a run: after its teardown, whatever the verdict, undo what the run created (its
pending data ledger entries, the last created first), each undo a visible step whose ledger update commits
with it (through the run's PhaseSink, phase_io.py). A resumed run finds the entries still pending and goes
on with them.

Verdict: an undo that fails does not turn a passed run into a failed one (the test itself passed); the
run's reason says how many entities were left in the SUT (``CleanupProgress.left``, kept in the run's
context), and the ledger keeps them for the next sweep.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.executor.lease import LedgerUndoWrite
from orchestra.executor.phase_io import PhaseSink
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.secret_box import SecretBox
from orchestra.steps.outcome import StepOutcome
from orchestra.testdata import ledger_store


@dataclass(slots=True)
class CleanupProgress:
    """The phase's part of the run's context: how many created entities could not be undone."""

    left: int = 0


@dataclass(frozen=True, slots=True)
class CleanupPhase:
    sink: PhaseSink
    client: httpx.AsyncClient
    box: SecretBox  # opens the sealed undo calls
    tenant_id: uuid.UUID
    run_id: uuid.UUID
    policy: EgressPolicy
    timeout_s: float

    async def run(self, conn: AsyncConnection, progress: CleanupProgress) -> None:
        pending = await ledger_store.pending_of_run(conn, self.run_id)
        if not pending:
            return
        from orchestra.testdata.sweep import undo_entry  # loaded by the first run that created something

        for entry in pending:
            started, clock = datetime.now(UTC), time.perf_counter()
            undone = await undo_entry(
                self.client, self.box, self.tenant_id, entry.id, entry.undo, self.policy, self.timeout_s
            )
            error = self.sink.masker.text(undone.error) if undone.error else None
            if undone.status == "failed":
                progress.left += 1
            outcome = StepOutcome(
                "passed" if undone.status in ("done", "gone") else "failed",
                request=undone.request,
                response=undone.response,
                error=error,
            )
            gone = " (already gone)" if undone.status == "gone" else ""
            await self.sink.commit_phase_step(
                "cleanup",
                f"undo {entry.label}: {entry.method} {entry.resource}{gone}",
                outcome,
                started,
                (time.perf_counter() - clock) * 1000,
                ledger=LedgerUndoWrite(entry.id, undone.status, error),
            )
