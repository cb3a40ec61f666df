"""What the phases around a run's test steps (data_phase.py before them, cleanup_phase.py after the
teardown) receive from the run and give back: they commit their steps through a ``PhaseSink`` (the run
execution implements it) and end with a ``Halt`` when the run must not go on.

Step numbering: test steps keep seqs 0..n-1 (``position`` in the context drives their resumption).
Data-phase steps take ``DATA_SEQ_BASE + k`` (negative, so they sort before the test steps) and cleanup
steps ``CLEANUP_SEQ_BASE + k`` (after them); ``k`` counts the phase's steps and is kept in the run's
context, so a resumed run numbers on without collision. The sink does the numbering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from orchestra.executor.lease import LedgerEntryWrite, LedgerUndoWrite
from orchestra.kit.masking import Masker
from orchestra.models.run_states import RunStatus
from orchestra.steps.http_call import HttpCall
from orchestra.steps.outcome import StepOutcome

DATA_SEQ_BASE = -1_000_000
CLEANUP_SEQ_BASE = 1_000_000

Phase = Literal["data", "cleanup"]


@dataclass(frozen=True, slots=True)
class Halt:
    """Why the remaining steps of a run are skipped, and the verdict that follows."""

    status: RunStatus
    reason: str

    def to_context(self) -> dict[str, str]:
        return {"status": self.status, "reason": self.reason}


class PhaseSink(Protocol):
    """The run a phase belongs to, as the phase uses it."""

    @property
    def masker(self) -> Masker: ...

    @property
    def halted(self) -> bool:
        """The run was stopped meanwhile (cancelled on request)."""
        ...

    async def commit_phase_step(
        self,
        phase: Phase,
        name: str,
        outcome: StepOutcome,
        started: datetime,
        duration_ms: float,
        *,
        ledger: LedgerEntryWrite | LedgerUndoWrite | None = None,
        data_plan_json: str | None = None,
    ) -> bool:
        """Commit the next step of ``phase`` (fenced), with the run's context as it is now; True when a
        cancel was requested meanwhile."""
        ...

    def ledger_entry(self, source: str, label: str, operation: str, call: HttpCall) -> LedgerEntryWrite:
        """A data ledger entry for ``call``, sealed for the run's tenant."""
        ...

    def manual_ledger_entry(
        self, source: str, label: str, operation: str, request: dict[str, Any], response: dict[str, Any]
    ) -> LedgerEntryWrite:
        """A data ledger entry, marked manual, for something created whose undo cannot be rendered."""
        ...

    def time_left_s(self) -> float | None:
        """Seconds until the run's time limit (None: no limit)."""
        ...

    def time_limit_text(self) -> str: ...


def cancelled_on_request() -> Halt:
    return Halt(RunStatus.CANCELLED, "cancelled on request")
