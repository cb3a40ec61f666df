"""Execute one leased run step by step, committing after every step; resume where a previous owner stopped.

The ExecutionContext (persisted as JSONB on the run after every step) holds: ``position`` (the next step to
run), ``vars`` (every variable so far), ``data``, and ``halt`` (why the remaining steps are skipped, if so).
Environment secrets never reach it in clear (executor/context_sealing.py).

Around the test steps: a data phase (executor/data_phase.py: the test's DataPlan resolved, its state in
``data_phase``) and, after the teardown, a cleanup phase (executor/cleanup_phase.py) that undoes what the
run created. Both are objects with explicit inputs and outputs (a progress object each, kept in this
context, and a Halt); they commit their steps through this run as their PhaseSink (executor/phase_io.py).
``phase_steps`` counts those phases' steps (their seq numbering is in phase_io.py).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.definitions.testcase_model import RequestStep, SetStep, SleepStep
from orchestra.executor.cleanup_phase import CleanupPhase, CleanupProgress
from orchestra.executor.context_sealing import ContextSealing, to_json
from orchestra.executor.data_phase import DataPhase, DataProgress, PlanSource, ResolverSetup, RunIds
from orchestra.executor.lease import Lease, LeaseStore, LedgerEntryWrite, LedgerUndoWrite, StepRecord
from orchestra.executor.phase_io import CLEANUP_SEQ_BASE, DATA_SEQ_BASE, Phase
from orchestra.executor.plan import ExecutionPlan, PlannedStep
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.masking import Masker
from orchestra.kit.secret_box import SecretBox
from orchestra.models.run_states import RunStatus
from orchestra.steps.cleanup_call import render_cleanup
from orchestra.steps.http_call import HttpCall
from orchestra.steps.outcome import StepOutcome
from orchestra.steps.request_step import HttpStepRunner
from orchestra.steps.secret_taint import tracking
from orchestra.steps.templating import TemplateError, build_scope, in_sandbox, render_value
from orchestra.steps.variable_sizes import oversized
from orchestra.testdata.sweep import undo_timeout_s
from orchestra.testdata.undo_calls import seal_undo, shown_resource


@dataclass(frozen=True, slots=True)
class EnvironmentSnapshot:
    name: str
    base_url: str
    variables: dict[str, Any]
    secrets: dict[str, str]
    idempotency_keys: bool = True
    id: uuid.UUID | None = None  # None only for snapshots made without a stored environment (tests)
    max_requests_per_s: float | None = None  # requests per second to it, across all executors
    # Egress (kit/egress.py): hosts allowed besides the base URL's, and loopback/private addresses.
    allowed_hosts: tuple[str, ...] = ()
    allow_private_network: bool = False


class RunExecution:
    def __init__(
        self,
        lease: Lease,
        store: LeaseStore,
        plan: ExecutionPlan,
        environment: EnvironmentSnapshot,
        http: HttpStepRunner,
        box: SecretBox | None = None,
        plans: PlanSource | None = None,
    ) -> None:
        """``box``: seals the variables that hold secrets in the stored context (without one they are
        stored masked, and a resumed run would see the mask) and the undo calls of the data ledger.
        ``plans``: makes the DataPlan of a test that declares ``data``."""
        self.lease = lease
        self.plans = plans
        self.box = box
        self.store = store
        self.plan = plan
        self.environment = environment
        self.http = http
        self.masker = Masker(environment.secrets.values())
        self.egress = EgressPolicy.for_environment(
            environment.base_url,
            environment.allowed_hosts,
            environment.allow_private_network,
            environment=environment.name,
        )
        self.sealing = ContextSealing(self.masker, box, lease.tenant_id, lease.run_id)
        context = lease.context or {}
        self.position: int = int(context.get("position", 0))
        self.vars: dict[str, Any] = context.get("vars") or {**plan.definition.variables, **lease.variables}
        self.vars.update(self.sealing.unseal(context, "vars"))
        data: dict[str, Any] = {**(context.get("data") or {}), **self.sealing.unseal(context, "data")}
        self.data_progress = DataProgress(data, context.get("data_phase") or {})
        self.cleanup = CleanupProgress(int(context.get("cleanup_left", 0)))
        self.halt: dict[str, str] | None = context.get("halt")
        self.teardown_problem: str | None = context.get("teardown_problem")
        self.phase_steps: dict[str, int] = context.get("phase_steps") or {"data": 0, "cleanup": 0}
        self._step: asyncio.Task[StepOutcome] | None = None
        self._conn: AsyncConnection | None = None  # while the run executes
        self._interrupted: str | None = None
        self.deadline = (
            lease.started_at + timedelta(seconds=lease.timeout_s) if lease.timeout_s is not None else None
        )

    # -- the loop --------------------------------------------------------------------------------------

    async def execute(self) -> tuple[RunStatus, str | None]:
        if self.lease.cancel_requested and self.halt is None:
            self.halt = {"status": RunStatus.CANCELLED, "reason": "cancelled before it started"}
        # Values the templates derive from the secrets (a replace, a slice) are masked as they are made.
        with tracking(self.environment.secrets.values(), self.masker.learn):
            return await self._execute()

    async def _execute(self) -> tuple[RunStatus, str | None]:
        async with self.store.connect(self.lease.tenant_id) as conn:
            self._conn = conn
            await self._data_phase()
            for planned in self.plan.steps[self.position :]:
                started_at = datetime.now(UTC)
                clock = time.perf_counter()
                outcome = await self._run(planned)
                duration_ms = (time.perf_counter() - clock) * 1000
                self.vars.update(outcome.variables)
                ledger = await self._step_cleanup(planned, outcome)
                self._note(planned, outcome)
                self.position = planned.seq + 1
                cancel = await self._commit(conn, planned, outcome, started_at, duration_ms, ledger)
                if cancel and self.halt is None:
                    self.halt = {"status": RunStatus.CANCELLED, "reason": "cancelled on request"}
            await self._cleanup_phase(conn)
            status, reason = self.verdict()
            await self.store.finish(self.lease, status, reason, self.stored_context(final=True), conn)
        return status, reason

    def verdict(self) -> tuple[RunStatus, str | None]:
        status, reason = self._test_verdict()
        left = self.cleanup.left
        if left:  # the verdict is the test's; what cleanup left is said, not judged
            left_text = f"cleanup left {left} created entit{'y' if left == 1 else 'ies'}"
            reason = f"{reason}; {left_text} in the SUT (see the run's ledger)"
        return status, reason

    def _test_verdict(self) -> tuple[RunStatus, str]:
        if self.halt is not None:
            return RunStatus(self.halt["status"]), self.halt["reason"]
        if self.teardown_problem is not None:
            return RunStatus.FAILED, self.teardown_problem
        return RunStatus.PASSED, f"all {len(self.plan.steps)} steps passed"

    def context(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "vars": self.vars,
            "data": self.data_progress.values,
            "halt": self.halt,
            "teardown_problem": self.teardown_problem,
            "data_phase": self.data_progress.state,
            "phase_steps": self.phase_steps,
            "cleanup_left": self.cleanup.left,
        }

    def stored_context(self, *, final: bool = False) -> dict[str, Any]:
        """The context as persisted: no secret in clear. ``final``: the run is over and never resumes."""
        return self.sealing.stored(self.context(), final=final)

    # -- data and cleanup ------------------------------------------------------------------------------

    async def _data_phase(self) -> None:
        requirements = self.plan.definition.data
        if requirements is None or not requirements.declared:
            return
        if self.halt is not None or self.data_progress.complete:
            return
        if self.plans is None:
            self.halt = {"status": RunStatus.ERROR, "reason": "test data: this executor has no plan provider"}
            return
        lease, environment, settings = self.lease, self.environment, self.http.settings
        phase = DataPhase(
            self,
            self.plans,
            RunIds(
                lease.tenant_id,
                lease.project_id,
                lease.test_case_id,
                lease.test_case_version_id,
                lease.environment_id,
            ),
            requirements,
            ResolverSetup(
                client=self.http.client,
                base_url=environment.base_url.rstrip("/"),
                policy=self.egress,
                variables=environment.variables,
                secrets=environment.secrets,
                timeout_s=settings.default_step_timeout_ms / 1000,
                record_body_limit=settings.record_body_limit,
                record_header_limit=settings.record_header_limit,
            ),
            repair_attempts=settings.planner_repair_attempts,
        )
        halt = await phase.run(self.data_progress)
        if halt is not None and self.halt is None:
            self.halt = halt.to_context()

    async def _cleanup_phase(self, conn: AsyncConnection) -> None:
        if self.box is None:
            return  # nothing was entered into the ledger without a box to seal it
        phase = CleanupPhase(
            self,
            self.http.client,
            self.box,
            self.lease.tenant_id,
            self.lease.run_id,
            self.egress,
            undo_timeout_s(self.http.settings),
        )
        await phase.run(conn, self.cleanup)

    # -- the PhaseSink the data and cleanup phases commit through ------------------------------------------

    @property
    def halted(self) -> bool:
        return self.halt is not None

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
        assert self._conn is not None, "phase steps are committed while the run executes"
        return await self.commit_record(
            self._conn,
            self._next_seq(phase),
            phase,
            name,
            outcome,
            started,
            duration_ms,
            ledger=ledger,
            data_plan_json=data_plan_json,
        )

    def _next_seq(self, phase: Phase) -> int:
        count = self.phase_steps.get(phase, 0)
        self.phase_steps[phase] = count + 1
        return (DATA_SEQ_BASE if phase == "data" else CLEANUP_SEQ_BASE) + count

    def ledger_entry(self, source: str, label: str, operation: str, call: HttpCall) -> LedgerEntryWrite:
        """A ledger entry for an undo call, sealed for the run's tenant (see testdata/undo_calls.py)."""
        if self.box is None:
            raise RuntimeError("no secret box: an undo call cannot be kept sealed")
        entry_id = uuid.uuid4()
        return LedgerEntryWrite(
            id=entry_id,
            source=source,
            label=self.masker.text(label),
            operation=self.masker.text(operation),
            method=call.method,
            resource=self.masker.text(shown_resource(call.url)),
            undo=seal_undo(self.box, self.lease.tenant_id, entry_id, call),
        )

    async def _step_cleanup(self, planned: PlannedStep, outcome: StepOutcome) -> LedgerEntryWrite | None:
        """The ledger entry of a passed request step that declares its cleanup; a cleanup that cannot be
        rendered makes the step an error (what it created could not be undone)."""
        step = planned.step
        if not isinstance(step, RequestStep) or step.cleanup is None or outcome.status != "passed":
            return None
        try:
            call = await in_sandbox(
                render_cleanup,
                step.cleanup,
                self.scope(outcome.variables),
                outcome.response,
                self.environment.base_url,
            )
            return self.ledger_entry("step", planned.name, f"{call.method} (step cleanup)", call)
        except (TemplateError, RuntimeError, TypeError, ValueError) as error:
            outcome.status = "error"
            outcome.error = f"cleanup cannot be rendered: {error}"
            return None

    # -- one step --------------------------------------------------------------------------------------

    async def _run(self, planned: PlannedStep) -> StepOutcome:
        if planned.phase != "teardown":
            if self.halt is not None:
                return StepOutcome(status="skipped")
            remaining = self.time_left_s()
            if remaining is not None and remaining <= 0:
                self.halt = {"status": RunStatus.TIMED_OUT, "reason": self.time_limit_text()}
                return StepOutcome(status="skipped")
            if remaining is not None:
                try:
                    async with asyncio.timeout(remaining):
                        return await self._perform(planned)
                except TimeoutError:
                    self.halt = {"status": RunStatus.TIMED_OUT, "reason": self.time_limit_text()}
                    return StepOutcome(status="error", error=f"{self.time_limit_text()} during this step")
        return await self._perform(planned)

    def interrupt(self, reason: str) -> None:
        """Cancel on request: halt the run and abort the step in progress (a teardown step is let finish)."""
        if self.halt is None:
            self.halt = {"status": RunStatus.CANCELLED, "reason": reason}
            self._interrupted = reason
            if self._step is not None:
                self._step.cancel()

    async def _perform(self, planned: PlannedStep) -> StepOutcome:
        if planned.phase == "teardown":
            return await self._perform_step(planned)
        self._step = asyncio.create_task(self._perform_step(planned))
        try:
            return await self._step
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._interrupted is None or (current is not None and current.cancelling()):
                raise  # we are being cancelled ourselves (shutdown, lost lease), not just the step
            return StepOutcome(status="error", error=f"interrupted: {self._interrupted}")
        finally:
            self._step = None

    async def _perform_step(self, planned: PlannedStep) -> StepOutcome:
        step = planned.step
        try:
            if isinstance(step, RequestStep):
                assert planned.request_spec is not None
                key = f"{self.lease.run_id}-{planned.seq}" if self.environment.idempotency_keys else None
                return await self.http.run(
                    step,
                    planned.request_spec,
                    self.scope(),
                    key,
                    policy=self.egress,
                    environment_id=self.environment.id,
                    tenant_id=self.lease.tenant_id,
                    requests_per_s=self.environment.max_requests_per_s,
                )
            if isinstance(step, SetStep):
                assigned = await in_sandbox(self._assign, step)
                problems = oversized(assigned, self.http.settings.max_variable_bytes)
                if problems:
                    return StepOutcome(status="error", error="; ".join(problems))
                return StepOutcome(status="passed", variables=assigned)
            if isinstance(step, SleepStep):
                await asyncio.sleep(step.duration_ms / 1000)
                return StepOutcome(status="passed")
        except TemplateError as error:
            return StepOutcome(status="error", error=f"template error: {error}")
        except Exception as error:  # a step's failure is the step's error; the run goes on to its teardown
            return StepOutcome(status="error", error=f"{type(error).__name__}: {error}")
        raise TypeError(f"unknown step type {type(step).__name__}")

    def _assign(self, step: SetStep) -> dict[str, Any]:
        """A ``set`` step's values, each seeing the ones before it (rendered in a template thread)."""
        assigned: dict[str, Any] = {}
        for name, expression in step.assignments.items():
            assigned[name] = render_value(expression, self.scope(assigned))
        return assigned

    def scope(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return build_scope(
            base_url=self.environment.base_url.rstrip("/"),
            environment=self.environment.variables,
            secrets=self.environment.secrets,
            variables={**self.vars, **extra} if extra else self.vars,
            data=self.data_progress.values,
            run={"id": str(self.lease.run_id), "attempt": self.lease.attempt, "name": self.lease.name},
        )

    def _note(self, planned: PlannedStep, outcome: StepOutcome) -> None:
        """Fold a step's outcome into the run: the first failure or error halts the remaining steps."""
        if outcome.status not in ("failed", "error"):
            return
        problem = f"step '{planned.name}': {outcome.first_problem}"
        if planned.phase == "teardown":
            if self.teardown_problem is None:
                self.teardown_problem = self.masker.text(f"teardown {problem}")
        elif self.halt is None:
            status = RunStatus.FAILED if outcome.status == "failed" else RunStatus.ERROR
            self.halt = {"status": status, "reason": self.masker.text(problem)}

    async def _commit(
        self,
        conn: AsyncConnection,
        planned: PlannedStep,
        outcome: StepOutcome,
        started_at: datetime,
        duration_ms: float,
        ledger: LedgerEntryWrite | None = None,
    ) -> bool:
        return await self.commit_record(
            conn, planned.seq, planned.phase, planned.name, outcome, started_at, duration_ms, ledger=ledger
        )

    async def commit_record(
        self,
        conn: AsyncConnection,
        seq: int,
        phase: str,
        name: str,
        outcome: StepOutcome,
        started_at: datetime,
        duration_ms: float,
        *,
        ledger: LedgerEntryWrite | LedgerUndoWrite | None = None,
        data_plan_json: str | None = None,
    ) -> bool:
        """Commit one step of any phase (fenced), with its ledger write and the run's plan if given."""
        mask = self.sealing.masked_exchange
        record = StepRecord(
            seq=seq,
            phase=phase,
            name=self.masker.text(name),
            status=outcome.status,
            attempts=outcome.attempts,
            started_at=started_at,
            duration_ms=round(duration_ms, 3),
        )
        payload = {
            "request": to_json(mask(outcome.request)) if outcome.request is not None else None,
            "response": to_json(mask(outcome.response)) if outcome.response is not None else None,
            "assertions": to_json(self.masker.value(outcome.assertions)),
            "error": self.masker.text(outcome.error) if outcome.error else None,
        }
        return await self.store.commit_step(
            self.lease,
            record,
            to_json(self.stored_context()),
            payload,
            conn,
            ledger=ledger,
            data_plan_json=data_plan_json,
        )

    def time_left_s(self) -> float | None:
        """Seconds until the run's time limit (None: no limit); the data phase keeps to it too."""
        if self.deadline is None:
            return None
        return (self.deadline - datetime.now(UTC)).total_seconds()

    def time_limit_text(self) -> str:
        return f"run time limit of {self.lease.timeout_s:g} s reached"
