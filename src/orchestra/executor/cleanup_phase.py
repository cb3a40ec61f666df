"""The cleanup phase of a run: after its teardown, whatever the verdict, undo what the run created (its
pending data ledger entries, the last created first), each undo a visible step whose ledger update commits
with it. A resumed run finds the entries still pending and goes on with them.

Verdict: an undo that fails does not turn a passed run into a failed one (the test itself passed); the
run's reason says how many entities were left in the SUT, and the ledger keeps them for the next sweep.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.executor.lease import LedgerUndoWrite
from orchestra.steps.outcome import StepOutcome
from orchestra.testdata import ledger_store
from orchestra.testdata.sweep import undo_entry, undo_timeout_s

if TYPE_CHECKING:
    from orchestra.executor.run_execution import RunExecution


async def run_cleanup_phase(execution: RunExecution, conn: AsyncConnection) -> None:
    if execution.box is None:
        return  # nothing was entered into the ledger without a box to seal it
    timeout_s = undo_timeout_s(execution.http.settings)
    for entry in await ledger_store.pending_of_run(conn, execution.lease.run_id):
        started, clock = datetime.now(UTC), time.perf_counter()
        undone = await undo_entry(
            execution.http.client,
            execution.box,
            execution.lease.tenant_id,
            entry.id,
            entry.undo,
            execution.egress,
            timeout_s,
        )
        error = execution.masker.text(undone.error) if undone.error else None
        if undone.status == "failed":
            execution.cleanup_left += 1
        outcome = StepOutcome(
            "passed" if undone.status in ("done", "gone") else "failed",
            request=undone.request,
            response=undone.response,
            error=error,
        )
        gone = " (already gone)" if undone.status == "gone" else ""
        name = f"undo {entry.label}: {entry.method} {entry.resource}{gone}"
        await execution.commit_record(
            conn,
            execution.next_seq("cleanup"),
            "cleanup",
            name,
            outcome,
            started,
            (time.perf_counter() - clock) * 1000,
            ledger=LedgerUndoWrite(entry.id, undone.status, error),
        )
