"""What a run of a suite run takes from the suite's setup (runs/suite_phases.py).

A test run reads the variables the setup ended with as ``suite.<name>``; they are read from the setup run's
stored context at every lease (never copied into the test run's own context), so a test run resumed by
another executor sees the same values. The setup's final context keeps the variables that held secrets
sealed (bound to the setup run), so they reach the tests in clear and stay masked wherever shown.
A test run whose suite setup did not pass runs no step and ends ERROR.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.executor.context_sealing import ContextSealing
from orchestra.kit.masking import Masker
from orchestra.kit.secret_box import SecretBox
from orchestra.models.run_states import RunStatus

SETUP_FAILED = "suite setup failed"

_SETUP_OF = text(
    """
    SELECT s.id, s.status, s.status_reason, s.context
    FROM test_runs s
    WHERE s.suite_run_id = :suite_run_id AND s.suite_phase = 'setup'
    """
)


@dataclass(frozen=True, slots=True)
class SuiteShared:
    """``phase``: this run's (``setup``, ``teardown``, or None for a test)."""

    phase: str | None
    setup_run_id: uuid.UUID | None = None
    setup_status: RunStatus | None = None
    setup_reason: str | None = None
    setup_context: dict[str, Any] = field(default_factory=dict)

    def values(self, masker: Masker, box: SecretBox | None, tenant_id: uuid.UUID) -> dict[str, Any]:
        """The setup's variables, the sealed ones opened (and learnt by ``masker``); the setup itself reads
        none (its own variables are its own)."""
        if self.setup_run_id is None or self.phase == "setup":
            return {}
        sealing = ContextSealing(masker, box, tenant_id, self.setup_run_id)
        return {**(self.setup_context.get("vars") or {}), **sealing.unseal(self.setup_context, "vars")}

    def blocked(self) -> str | None:
        """Why a test of this suite run must not start: its setup ended without passing."""
        if self.phase is not None or self.setup_status in (None, RunStatus.PASSED):
            return None
        return f"{SETUP_FAILED} ({self.setup_status}): {self.setup_reason or 'no reason given'}"

    @property
    def keeps_sealed(self) -> bool:
        """The setup's final context keeps its secret variables sealed: the suite's tests read them."""
        return self.phase == "setup"


async def load_suite_shared(
    conn: AsyncConnection, suite_run_id: uuid.UUID | None, phase: str | None
) -> SuiteShared | None:
    """None for a run outside a suite run, or in one without setup and teardown."""
    if suite_run_id is None:
        return None
    row = (await conn.execute(_SETUP_OF, {"suite_run_id": suite_run_id})).first()
    if row is None:
        return SuiteShared(phase) if phase is not None else None
    return SuiteShared(phase, row.id, RunStatus(row.status), row.status_reason, dict(row.context or {}))
