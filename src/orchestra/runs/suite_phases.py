"""A suite run's setup and teardown (the suite's ``setup:`` and ``teardown:``).

Each is a run of the suite run (``suite_phase``) that holds its steps in ``definition`` (a test-case-shaped
document) instead of a test-case version, so the executor runs it like any run: leased, fenced, committed
step by step, resumed after a crash. Admission (migration 0014) keeps the suite run's test runs PENDING
until the setup has ended, and the teardown until every other run of the suite run has ended. A test run
reads the setup's variables as ``suite.<name>``; when the setup did not pass, the test runs end ERROR
without running a step (executor/suite_shared.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from orchestra.actor import Actor
from orchestra.models import SuiteRun, TestRun
from orchestra.models.run_states import RunStatus
from orchestra.runs.schemas import StepResultOut, SuitePhaseOut

PHASES = ("setup", "teardown")


def phase_definition(phase: str, steps: list[Any]) -> dict[str, Any]:
    """The document a phase run executes: the steps as written in the suite."""
    return {"name": f"suite {phase}", "steps": steps}


def new_phase_runs(
    actor: Actor,
    suite_run: SuiteRun,
    definition: dict[str, Any],
    variables: dict[str, Any],
    keys: tuple[float, float],
) -> list[TestRun]:
    """The setup and teardown runs the suite's definition asks for; ``keys``: their queue keys (the setup
    before the first test, the teardown after the last)."""
    runs = []
    for phase, key in zip(PHASES, keys, strict=True):
        steps = definition.get(phase) or []
        if not steps:
            continue
        runs.append(
            TestRun(
                id=uuid.uuid4(),
                tenant_id=actor.tenant_id,
                project_id=suite_run.project_id,
                suite_run_id=suite_run.id,
                suite_phase=phase,
                definition=phase_definition(phase, steps),
                environment_id=suite_run.environment_id,
                name=f"suite {phase}",
                status=RunStatus.PENDING,
                priority=suite_run.priority,
                queue_key=key,
                trigger=suite_run.trigger,
                variables=variables,
                context={},
            )
        )
    return runs


def phase_out(run: TestRun, steps: list[StepResultOut]) -> SuitePhaseOut:
    return SuitePhaseOut(
        id=run.id,
        phase="setup" if run.suite_phase == "setup" else "teardown",
        status=run.status,
        status_reason=run.status_reason,
        attempt=run.attempt,
        started_at=run.started_at,
        finished_at=run.finished_at,
        shared=dict((run.context or {}).get("vars") or {}),
        steps=steps,
    )
