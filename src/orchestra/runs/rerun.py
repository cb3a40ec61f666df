"""Running a run again with the same parameters: the same test-case version, environment, variables and
priority; for a suite run, the same suite, parallelism and variables, with every test or only those that
did not pass, in the order they were queued in, between a new setup and teardown when the suite run had
them (the same steps: a suite run's tests read the setup's values). The new runs are PENDING, triggered
``manual``; the scheduler takes them from there."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.errors import Conflict, NotFound
from orchestra.models import SuiteRun, TestRun
from orchestra.models.run_states import TERMINAL, RunStatus, suite_status
from orchestra.quarantine import service as quarantine
from orchestra.runs import repository
from orchestra.runs.queue import QUEUE_STEP, queue_key
from orchestra.runs.schemas import CreatedOut, SuiteRunRerun

TRIGGER = "manual"  # a person asked for it again


def _again(actor: Actor, run: TestRun, suite_run_id: uuid.UUID | None, key: float | None = None) -> TestRun:
    """A new PENDING run like ``run``; a suite's setup or teardown keeps its phase and its steps."""
    # Only a phase has a definition: None would be stored as JSON null, which is not SQL NULL.
    phase = {"suite_phase": run.suite_phase, "definition": run.definition} if run.suite_phase else {}
    return TestRun(
        id=uuid.uuid4(),
        tenant_id=actor.tenant_id,
        project_id=run.project_id,
        suite_run_id=suite_run_id,
        test_case_id=run.test_case_id,
        test_case_version_id=run.test_case_version_id,
        **phase,
        environment_id=run.environment_id,
        name=run.name,
        status=RunStatus.PENDING,
        priority=run.priority,
        queue_key=queue_key(run.priority) if key is None else key,
        trigger=TRIGGER,
        variables=dict(run.variables),
        context={},
        timeout_s=run.timeout_s,
        retry_failed=run.retry_failed,  # a retry's setting is its first run's; the new run may retry
    )


async def rerun(session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> CreatedOut:
    """A new run of the run's test-case version, on its environment, with its variables and priority (a run
    of a suite run is run again on its own)."""
    row = await repository.get_run(session, actor.tenant_id, run_id)
    if row is None:
        raise NotFound(f"run {run_id} does not exist")
    run = _again(actor, row[0], None)
    await quarantine.mute_new_runs(session, [run])
    session.add(run)
    await session.flush()
    return CreatedOut(id=run.id, status=run.status, runs=[run.id])


async def rerun_suite_run(
    session: AsyncSession, actor: Actor, suite_run_id: uuid.UUID, request: SuiteRunRerun
) -> CreatedOut:
    """A new suite run like this one: every test again, or (``only_failed``) those that did not pass —
    FAILED, ERROR, TIMED_OUT or CANCELLED — once the suite run has ended. Its setup and teardown, when it
    had them, run again around the tests, whichever tests those are."""
    found = await repository.get_suite_run(session, actor.tenant_id, suite_run_id)
    if found is None:
        raise NotFound(f"suite run {suite_run_id} does not exist")
    original = found[0]
    runs = [row[0] for row in await repository.runs_of_suite_run(session, actor.tenant_id, suite_run_id)]
    retried = {run.retry_of_id for run in runs if run.retry_of_id is not None}
    runs = [run for run in runs if run.id not in retried]  # a retried test once: its retry stands for it
    runs.sort(key=lambda run: run.queue_key)  # the order they were queued in: the suite's order
    phases = await repository.phase_runs_of(session, actor.tenant_id, suite_run_id)
    if request.only_failed:
        status = suite_status(
            [run.status for run in [*runs, *phases]]
        )  # (whether it ended: mutes do not matter)
        if status not in TERMINAL:
            raise Conflict(
                f"suite run {suite_run_id} is still {status}: its failed tests are known once it has ended"
            )
        runs = [run for run in runs if run.status != RunStatus.PASSED]
        if not runs:
            raise Conflict(f"every test of suite run {suite_run_id} passed: there is nothing to run again")
    suite_run = SuiteRun(
        id=uuid.uuid4(),
        tenant_id=actor.tenant_id,
        project_id=original.project_id,
        suite_id=original.suite_id,
        environment_id=original.environment_id,
        name=original.name,
        priority=original.priority,
        trigger=TRIGGER,
        variables=dict(original.variables),
        parallelism=original.parallelism,
    )
    session.add(suite_run)
    await session.flush()
    first = queue_key(original.priority)
    again = [_again(actor, run, suite_run.id, first + at * QUEUE_STEP) for at, run in enumerate(runs)]
    # The setup before the first test, the teardown after the last (as when a suite run is created).
    phase_keys = {"setup": first - QUEUE_STEP, "teardown": first + len(again) * QUEUE_STEP}
    session.add_all(_again(actor, run, suite_run.id, phase_keys[str(run.suite_phase)]) for run in phases)
    await quarantine.mute_new_runs(session, again)
    session.add_all(again)
    await session.flush()
    return CreatedOut(id=suite_run.id, status=RunStatus.PENDING, runs=[run.id for run in again])
