"""Execute one leased run step by step, committing after every step; resume where a previous owner stopped.

The ExecutionContext (persisted as JSONB on the run after every step) holds: ``position`` (the next step to
run), ``vars`` (every variable so far), ``data``, ``halt`` (why the remaining steps are skipped, if so) and
``carried`` (the first failure or error of a step that let the run go on: ``on_failure``/``on_error:
continue``; it makes the verdict unless a halt is graver).
Environment secrets never reach it in clear (executor/context_sealing.py).

Around the test steps: a data phase (executor/data_phase.py: the test's DataPlan resolved, its state in
``data_phase``) and, after the teardown, a cleanup phase (executor/cleanup_phase.py) that undoes what the
run created. Both are objects with explicit inputs and outputs (a progress object each, kept in this
context, and a Halt); they commit their steps through this run as their PhaseSink (executor/phase_io.py).
``phase_steps`` counts those phases' steps (their seq numbering is in phase_io.py).

A step with ``for_each`` or ``repeat`` is committed once per iteration: ``seq`` numbers the test steps'
results (one per step, or one per iteration), and ``loop`` holds the items of the loop in progress and the
next one to run, so that a resumed run goes on with the iteration after the last committed one.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.definitions.testcase_model import RequestStep, SetStep, SleepStep
from orchestra.executor.cleanup_phase import CleanupPhase, CleanupProgress
from orchestra.executor.context_sealing import ContextSealing, to_json
from orchestra.executor.data_phase import DataPhase, DataProgress, PlanSource, ResolverSetup, RunIds
from orchestra.executor.lease import Lease, LeaseStore, LedgerEntryWrite, LedgerUndoWrite, StepRecord
from orchestra.executor.next_request import jump_of
from orchestra.executor.phase_io import CLEANUP_SEQ_BASE, DATA_SEQ_BASE, Phase
from orchestra.executor.plan import ExecutionPlan, PlannedStep
from orchestra.executor.suite_shared import SuiteShared
from orchestra.kit import tracing
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.masking import Masker
from orchestra.kit.secret_box import SecretBox
from orchestra.models.run_states import RunStatus
from orchestra.steps.cleanup_call import render_cleanup
from orchestra.steps.expectations import AssertionResult
from orchestra.steps.flow_control import (
    FlowError,
    condition_holds,
    iteration_variables,
    loop_items,
    skipped_reason,
)
from orchestra.steps.http_call import HttpCall
from orchestra.steps.http_send import run_cookies
from orchestra.steps.outcome import StepOutcome
from orchestra.steps.request_auth import RunAuth
from orchestra.steps.request_step import HttpStepRunner, PreparedRequest, RunRequests
from orchestra.steps.secret_taint import tracking
from orchestra.steps.starting_variables import render_variables
from orchestra.steps.templating import TemplateError, build_scope, render_value, sandboxed
from orchestra.steps.variable_sizes import oversized
from orchestra.testdata.undo_calls import seal_manual, seal_undo, shown_resource, undo_timeout_s

MANUAL_NOTE_LIMIT = 2000  # characters of a created entity's response kept in a manual ledger entry's note


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
    # The request defaults of the environment and of the run's suite, in that order (request_defaults.py).
    request_defaults: tuple[dict[str, Any], ...] = ()


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
        suite: SuiteShared | None = None,
    ) -> None:
        """``box``: seals the variables that hold secrets in the stored context (without one they are
        stored masked, and a resumed run would see the mask) and the undo calls of the data ledger.
        ``plans``: makes the DataPlan of a test that declares ``data``. ``suite``: what a run of a suite
        run with a setup or teardown takes from the setup (executor/suite_shared.py)."""
        self.lease = lease
        self.plans = plans
        self.box = box
        self.store = store
        self.retry_id: uuid.UUID | None = None  # the retry its FAILED verdict made (lease.py _FINISH)
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
        own = plan.definition.defaults
        own_defaults = [own.model_dump(mode="json", by_alias=True, exclude_unset=True)] if own else []
        self.requests = RunRequests(
            (*environment.request_defaults, *own_defaults), RunAuth(learn=self.masker.learn)
        )
        self.suite = suite
        self.suite_values = suite.values(self.masker, box, lease.tenant_id) if suite is not None else None
        context = lease.context or {}
        self.position: int = int(context.get("position", 0))
        self.vars: dict[str, Any] = context.get("vars") or {**plan.definition.variables, **lease.variables}
        self.vars.update(self.sealing.unseal(context, "vars"))
        self.variables_rendered = "vars" in context
        self.seq: int = int(context.get("seq", self.position))
        self.skipped: int = int(context.get("skipped", 0))  # records of steps skipped by their if:
        self.jumps: int = int(context.get("jumps", 0))  # setNextRequest jumps made (next_request.py)
        self._goto: int | None = None  # where the step being recorded sends the run
        self.loop: dict[str, Any] = {**(context.get("loop") or {}), **self.sealing.unseal(context, "loop")}
        data: dict[str, Any] = {**(context.get("data") or {}), **self.sealing.unseal(context, "data")}
        self.data_progress = DataProgress(data, context.get("data_phase") or {})
        self.cleanup = CleanupProgress(int(context.get("cleanup_left", 0)))
        self.halt: dict[str, str] | None = context.get("halt")
        self.carried: dict[str, str] | None = context.get("carried")
        self.teardown_problem: str | None = context.get("teardown_problem")
        self.phase_steps: dict[str, int] = context.get("phase_steps") or {"data": 0, "cleanup": 0}
        self._step: asyncio.Task[StepOutcome] | None = None
        # the next request step, rendered while the step before it was being committed (_prepare_next)
        self._prepared: tuple[PlannedStep, PreparedRequest] | None = None
        self._conn: AsyncConnection | None = None  # while the run executes
        self._interrupted: str | None = None
        self.deadline = (
            lease.started_at + timedelta(seconds=lease.timeout_s) if lease.timeout_s is not None else None
        )

    # -- the loop --------------------------------------------------------------------------------------

    async def execute(self) -> tuple[RunStatus, str | None]:
        if self.lease.cancel_requested and self.halt is None:
            self.halt = {"status": RunStatus.CANCELLED, "reason": "cancelled before it started"}
        blocked = self.suite.blocked() if self.suite is not None else None
        if blocked and self.halt is None and self.position == 0:  # no step of it runs, not even teardown
            self.halt, self.position = {"status": RunStatus.ERROR, "reason": blocked}, len(self.plan.steps)
        # Values the templates derive from the secrets (a replace, a slice) are masked as they are made.
        attributes = {
            "orchestra.run.id": str(self.lease.run_id),
            "orchestra.run.attempt": self.lease.attempt,
            "orchestra.test_case": self.lease.name,
            "orchestra.environment": self.environment.name,
        }
        with (
            tracing.run_span(self.lease.run_id, self.lease.name, attributes) as span,
            tracking(self.environment.secrets.values(), self.masker.learn),
            run_cookies(),  # what the SUT sets goes back within this run only (lost at a resume)
        ):
            status, reason = await self._execute()
            tracing.end(span, "run", str(status), self.masker.text(reason) if reason else None)
            return status, reason

    async def _execute(self) -> tuple[RunStatus, str | None]:
        async with self.store.connect(self.lease.tenant_id) as conn:
            self._conn = conn
            await self._render_variables()
            await self._data_phase()
            while self.position < len(self.plan.steps):  # a Postman script may move it back (next_request.py)
                await self._planned_step(conn, self.plan.steps[self.position])
            await self._cleanup_phase(conn)
            status, reason = self.verdict()
            self.retry_id = await self.store.finish(
                self.lease, status, reason, self.stored_context(final=True), conn
            )
        return status, reason

    async def _render_variables(self) -> None:
        """The test case's variables, rendered once, before anything else of a new run (then kept)."""
        if self.variables_rendered or self.halt is not None:
            return
        self.variables_rendered = True
        unrendered, self.vars = self.vars, {}  # each variable sees only the ones before it
        try:
            self.vars = await sandboxed(
                render_variables, self.plan.definition.variables, self.lease.variables, self.scope
            )
        except TemplateError as error:
            self.vars = unrendered
            self.halt = {"status": RunStatus.ERROR, "reason": self.masker.text(f"template error: {error}")}
            return
        problems = oversized(self.vars, self.http.settings.max_variable_bytes)
        if problems:
            self.halt = {"status": RunStatus.ERROR, "reason": self.masker.text("; ".join(problems))}

    async def _planned_step(self, conn: AsyncConnection, planned: PlannedStep) -> None:
        """One step of the plan: once, or once per iteration of its loop (each committed on its own)."""
        step = planned.step
        skipping = self.halt is not None and planned.phase != "teardown"
        if not step.loops or skipping:
            await self._instance(conn, planned, planned.name, {}, more=False)
            return
        if not self.loop:
            items, problem = await self._loop_items(planned)
            if problem is not None or not items:
                outcome = StepOutcome(
                    status="error" if problem else "skipped", error=problem or "the loop has no items"
                )
                self._note(planned, outcome, planned.name)
                await self._record(conn, planned, planned.name, outcome, datetime.now(UTC), 0.0)
                return
            self.loop = {"items": items, "next": 0}
        while self.loop:
            index, items = int(self.loop["next"]), self.loop["items"]
            name = f"{planned.name} [{index + 1}]"
            more = index + 1 < len(items)
            await self._instance(conn, planned, name, iteration_variables(step, items, index), more=more)

    async def _loop_items(self, planned: PlannedStep) -> tuple[list[Any], str | None]:
        """The items of a step's loop, or why there are none (the step's error; nothing is sent)."""
        try:
            items = await sandboxed(loop_items, planned.step, self.scope())
        except TemplateError as error:
            return [], f"template error: {error}"
        except FlowError as error:
            return [], str(error)
        if self.seq + len(items) >= CLEANUP_SEQ_BASE:
            return [], f"the run would record more than {CLEANUP_SEQ_BASE} step results"
        return items, None

    async def _instance(
        self, conn: AsyncConnection, planned: PlannedStep, name: str, extra: dict[str, Any], *, more: bool
    ) -> None:
        """Run and commit one instance of a step; ``more``: iterations of its loop remain (they are not run
        once the run halted, unless it is a teardown step)."""
        started_at = datetime.now(UTC)
        clock = time.perf_counter()
        attributes = {"orchestra.step.phase": planned.phase, "orchestra.step.seq": self.seq}
        with tracing.step_span(f"step {name}", attributes) as span:
            outcome = await self._run(planned, extra)
            self._prepared = None  # taken by this step, or made for it in vain (it did not send)
            if span is not None:  # traces on: the reason goes out masked
                tracing.end(
                    span, "step", outcome.status, self.masker.text(outcome.error) if outcome.error else None
                )
        duration_ms = (time.perf_counter() - clock) * 1000
        self.vars.update(outcome.variables)
        ledger = await self._step_cleanup(planned, name, outcome, extra)
        self._note(planned, outcome, name)
        if outcome.next_request is not None and not more and not planned.step.loops:
            self._next_request(planned, outcome)
        if more and (self.halt is None or planned.phase == "teardown"):
            self.loop["next"] = int(self.loop["next"]) + 1
            await self._commit(conn, planned, name, outcome, started_at, duration_ms, ledger)
        else:
            await self._record(conn, planned, name, outcome, started_at, duration_ms, ledger)

    def _next_request(self, planned: PlannedStep, outcome: StepOutcome) -> None:
        """A script of the step called setNextRequest: note where the run goes on (bounded jumps)."""
        if planned.phase != "main" or self.halt is not None or outcome.next_request is None:
            return
        jump = jump_of(self.plan, planned, outcome.next_request)
        limit = self.http.settings.max_next_request_jumps
        note = jump.note
        if jump.counted and self.jumps >= limit:
            note = f"{note}: refused, the run made {limit} jumps already (ORCHESTRA_MAX_NEXT_REQUEST_JUMPS)"
            self.halt = {
                "status": RunStatus.ERROR,
                "reason": self.masker.text(f"step '{planned.name}': {note}"),
            }
        else:
            self.jumps += int(jump.counted)
            self._goto = jump.position
        outcome.assertions.append(AssertionResult("postman.setNextRequest", True, None, None, note).to_dict())

    async def _record(
        self,
        conn: AsyncConnection,
        planned: PlannedStep,
        name: str,
        outcome: StepOutcome,
        started_at: datetime,
        duration_ms: float,
        ledger: LedgerEntryWrite | None = None,
    ) -> None:
        """Commit the last result of a planned step: the run goes on with the next one."""
        self.loop = {}
        self.position, self._goto = (planned.seq + 1 if self._goto is None else self._goto), None
        await self._commit(conn, planned, name, outcome, started_at, duration_ms, ledger, prepare_next=True)

    def verdict(self) -> tuple[RunStatus, str | None]:
        status, reason = self._test_verdict()
        left = self.cleanup.left
        if left:  # the verdict is the test's; what cleanup left is said, not judged
            left_text = f"cleanup left {left} created entit{'y' if left == 1 else 'ies'}"
            reason = f"{reason}; {left_text} in the SUT (see the run's ledger)"
        return status, reason

    def _test_verdict(self) -> tuple[RunStatus, str]:
        problem = _graver(self.carried, self.halt)
        if problem is not None:
            return RunStatus(problem["status"]), problem["reason"]
        if self.teardown_problem is not None:
            return RunStatus.FAILED, self.teardown_problem
        return RunStatus.PASSED, passed_reason(self.seq - self.skipped, self.skipped)

    def context(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "vars": self.vars,
            "data": self.data_progress.values,
            "halt": self.halt,
            "carried": self.carried,
            "teardown_problem": self.teardown_problem,
            "data_phase": self.data_progress.state,
            "phase_steps": self.phase_steps,
            "cleanup_left": self.cleanup.left,
            "seq": self.seq,
            "skipped": self.skipped,
            "loop": self.loop,
            "jumps": self.jumps,
        }

    def stored_context(self, *, final: bool = False) -> dict[str, Any]:
        """The context as persisted: no secret in clear. ``final``: the run is over and never resumes."""
        keep = self.suite is not None and self.suite.keeps_sealed
        return self.sealing.stored(self.context(), final=final and not keep)

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
        if lease.test_case_version_id is None:  # a suite's setup or teardown declares no data
            return
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

    def manual_ledger_entry(
        self, source: str, label: str, operation: str, request: dict[str, Any], response: dict[str, Any]
    ) -> LedgerEntryWrite:
        """A ledger entry for something created whose undo could not be rendered: the creating request's
        method and URL, the raw response sealed, and (masked, shortened) in its note, marked manual."""
        if self.box is None:
            raise RuntimeError("no secret box: a created entity's response cannot be kept sealed")
        entry_id = uuid.uuid4()
        body = str(response.get("body") or "")[:MANUAL_NOTE_LIMIT]
        status = response.get("status")
        note = f"undo by hand: its cleanup could not be rendered; the response was {status} {body}"
        return LedgerEntryWrite(
            id=entry_id,
            source=source,
            label=self.masker.text(label),
            operation=self.masker.text(operation),
            method=str(request.get("method") or "?"),
            resource=self.masker.text(shown_resource(str(request.get("url") or ""))),
            undo=seal_manual(self.box, self.lease.tenant_id, entry_id, response),
            status="manual",
            note=self.masker.text(note),
        )

    async def _step_cleanup(
        self, planned: PlannedStep, name: str, outcome: StepOutcome, extra: dict[str, Any]
    ) -> LedgerEntryWrite | None:
        """The ledger entry of a request step that declares its cleanup and passed, or was answered 2xx
        (it may have created something although a check failed: no silent leak). A cleanup that cannot be
        rendered enters what the step created as manual; a passed step becomes an error."""
        step = planned.step
        if not isinstance(step, RequestStep) or step.cleanup is None:
            return None
        if outcome.status != "passed" and not _accepted(outcome):
            return None
        try:
            call = await sandboxed(
                render_cleanup,
                step.cleanup,
                self.scope({**extra, **outcome.variables}),
                outcome.response,
                self.environment.base_url,
            )
            return self.ledger_entry("step", name, f"{call.method} (step cleanup)", call)
        except (TemplateError, RuntimeError, TypeError, ValueError) as error:
            problem = f"cleanup cannot be rendered: {error}"
            if outcome.status == "passed":
                outcome.status, outcome.error = "error", problem
            else:  # the step's own failure comes first
                outcome.error = f"{outcome.first_problem}; {problem}"
            if outcome.request is None or outcome.response is None:
                return None
            outcome.error += "; what it created is in the data ledger marked manual (remove it by hand)"
            request, response = outcome.request, outcome.response
            return self.manual_ledger_entry("step", name, "(step cleanup)", request, response)

    # -- one step --------------------------------------------------------------------------------------

    async def _run(self, planned: PlannedStep, extra: dict[str, Any]) -> StepOutcome:
        if planned.phase != "teardown":
            if self.halt is not None:
                return StepOutcome(status="skipped", error=halted_reason(self.halt))
            remaining = self.time_left_s()
            if remaining is not None and remaining <= 0:
                self.halt = {"status": RunStatus.TIMED_OUT, "reason": self.time_limit_text()}
                return StepOutcome(status="skipped", error=halted_reason(self.halt))
            if remaining is not None:
                try:
                    async with asyncio.timeout(remaining):
                        return await self._perform(planned, extra)
                except TimeoutError:
                    self.halt = {"status": RunStatus.TIMED_OUT, "reason": self.time_limit_text()}
                    return StepOutcome(status="error", error=f"{self.time_limit_text()} during this step")
        return await self._perform(planned, extra)

    def interrupt(self, reason: str) -> None:
        """Cancel on request: halt the run and abort the step in progress (a teardown step is let finish)."""
        if self.halt is None:
            self.halt = {"status": RunStatus.CANCELLED, "reason": reason}
            self._interrupted = reason
            if self._step is not None:
                self._step.cancel()

    async def _perform(self, planned: PlannedStep, extra: dict[str, Any]) -> StepOutcome:
        if planned.phase == "teardown":
            return await self._perform_step(planned, extra)
        self._step = asyncio.create_task(self._perform_step(planned, extra))
        try:
            return await self._step
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._interrupted is None or (current is not None and current.cancelling()):
                raise  # we are being cancelled ourselves (shutdown, lost lease), not just the step
            return StepOutcome(status="error", error=f"interrupted: {self._interrupted}")
        finally:
            self._step = None

    async def _perform_step(self, planned: PlannedStep, extra: dict[str, Any]) -> StepOutcome:
        step = planned.step
        try:
            if step.condition is not None and not await sandboxed(condition_holds, step, self.scope(extra)):
                return StepOutcome(status="skipped", error=skipped_reason(step.condition))
            if isinstance(step, RequestStep):
                assert planned.request_spec is not None
                key = self._idempotency_key(planned, extra)
                _, _, status_gates = self.plan.definition.policy_of(step)
                return await self.http.run(
                    step,
                    planned.request_spec,
                    self.scope(extra),
                    key,
                    base_url=self.environment.base_url,
                    policy=self.egress,
                    environment_id=self.environment.id,
                    tenant_id=self.lease.tenant_id,
                    requests_per_s=self.environment.max_requests_per_s,
                    shared=self.requests,
                    status_gates=status_gates,
                    prepared=self._prepared_for(planned, extra),
                )
            if isinstance(step, SetStep):
                assigned = await sandboxed(self._assign, step, extra)
                problems = oversized(assigned, self.http.settings.max_variable_bytes)
                if problems:
                    return StepOutcome(status="error", error="; ".join(problems))
                return StepOutcome(status="passed", variables=assigned)
            if isinstance(step, SleepStep):
                await asyncio.sleep(step.duration_ms / 1000)
                return StepOutcome(status="passed")
        except TemplateError as error:
            return StepOutcome(status="error", error=f"template error: {error}")
        except FlowError as error:
            return StepOutcome(status="error", error=str(error))
        except Exception as error:  # a step's failure is the step's error; the run goes on to its teardown
            return StepOutcome(status="error", error=f"{type(error).__name__}: {error}")
        raise TypeError(f"unknown step type {type(step).__name__}")

    def _idempotency_key(self, planned: PlannedStep, extra: dict[str, Any]) -> str | None:
        """The same for every attempt of one step (one iteration of a loop) of this run."""
        if not self.environment.idempotency_keys:
            return None
        loop = extra.get("loop")
        return f"{self.lease.run_id}-{planned.seq}" + (f"-{loop['index']}" if loop else "")

    def _assign(self, step: SetStep, extra: dict[str, Any]) -> dict[str, Any]:
        """A ``set`` step's values, each seeing the ones before it (rendered in a template thread)."""
        assigned: dict[str, Any] = {}
        for name, expression in step.assignments.items():
            assigned[name] = render_value(expression, self.scope({**extra, **assigned}))
        return assigned

    def scope(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return build_scope(
            base_url=self.environment.base_url.rstrip("/"),
            environment=self.environment.variables,
            secrets=self.environment.secrets,
            variables={**self.vars, **extra} if extra else self.vars,
            data=self.data_progress.values,
            run={"id": str(self.lease.run_id), "attempt": self.lease.attempt, "name": self.lease.name},
            suite=self.suite_values,
        )

    def _note(self, planned: PlannedStep, outcome: StepOutcome, name: str) -> None:
        """Fold a step's outcome into the run: a failure or error halts the remaining steps, unless the
        step's ``on_failure`` / ``on_error`` says continue; then it is carried into the verdict."""
        if outcome.status not in ("failed", "error"):
            return
        problem = f"step '{name}': {outcome.first_problem}"
        if planned.phase == "teardown":
            if self.teardown_problem is None:
                self.teardown_problem = self.masker.text(f"teardown {problem}")
            return
        if self.halt is not None:
            return
        status = RunStatus.FAILED if outcome.status == "failed" else RunStatus.ERROR
        noted = {"status": status, "reason": self.masker.text(problem)}
        on_failure, on_error, _ = self.plan.definition.policy_of(planned.step)
        if (on_failure if outcome.status == "failed" else on_error) == "stop":
            self.halt = noted
        else:
            self.carried = _graver(self.carried, noted)

    async def _commit(
        self,
        conn: AsyncConnection,
        planned: PlannedStep,
        name: str,
        outcome: StepOutcome,
        started_at: datetime,
        duration_ms: float,
        ledger: LedgerEntryWrite | None = None,
        *,
        prepare_next: bool = False,
    ) -> None:
        """``prepare_next``: the run goes on with the step at ``position``: it may be rendered meanwhile."""
        seq, self.seq = self.seq, self.seq + 1
        self.skipped += outcome.status == "skipped"
        commit = self.commit_record(
            conn, seq, planned.phase, name, outcome, started_at, duration_ms, ledger=ledger
        )
        cancel = await (self._while_committing(commit) if prepare_next else commit)
        if cancel and self.halt is None:
            self.halt = {"status": RunStatus.CANCELLED, "reason": "cancelled on request"}

    async def _while_committing(self, commit: Coroutine[Any, Any, bool]) -> bool:
        """The commit's result; while PostgreSQL writes it, the next step is rendered (``_prepare_next``).
        The next step still starts only once this one is committed: rendering sends nothing, and what it
        made is used only by that step, with the same values (or dropped, when the commit fails)."""
        task = asyncio.ensure_future(commit)
        try:
            await asyncio.sleep(0)  # the commit runs up to its wait for PostgreSQL's answer
            self._prepare_next()
        except BaseException:  # cancelled meanwhile (or a fault of this code's): not left running
            task.cancel()
            raise
        return await task

    def _prepared_for(self, planned: PlannedStep, extra: dict[str, Any]) -> PreparedRequest | None:
        """What ``_prepare_next`` rendered for this step (for an iteration of a loop: nothing)."""
        if extra or self._prepared is None or self._prepared[0] is not planned:
            return None
        return self._prepared[1]

    def _prepare_next(self) -> None:
        """Render the step at ``position`` ahead, when it is a request step the run will send as it is:
        not halted, no loop, no ``if`` (which decides whether it runs), no pre-request script."""
        self._prepared = None
        if self.halt is not None or self.position >= len(self.plan.steps):
            return
        planned = self.plan.steps[self.position]
        step = planned.step
        if not isinstance(step, RequestStep) or step.loops or step.condition is not None:
            return
        if planned.request_spec is None:
            return
        prepared = self.http.prepare(
            step, planned.request_spec, self.scope(), self.requests, base_url=self.environment.base_url
        )
        if prepared is not None:
            self._prepared = (planned, prepared)

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


def halted_reason(halt: dict[str, str]) -> str:
    """Why a step after a halt is skipped: what stopped the run (a step's problem names the step)."""
    return f"the run stopped: {halt['reason']}"


_GRAVITY = {RunStatus.FAILED: 1, RunStatus.ERROR: 2}  # a timeout or a cancel outranks both


def _graver(first: dict[str, str] | None, second: dict[str, str] | None) -> dict[str, str] | None:
    """Of two problems (the earlier first), the one making the verdict: the graver, the earlier on a tie."""
    if first is None or second is None:
        return first or second
    rank = [_GRAVITY.get(RunStatus(problem["status"]), 3) for problem in (first, second)]
    return second if rank[1] > rank[0] else first


def passed_reason(passed: int, skipped: int) -> str:
    """A PASSED run's reason, counting the step records written (each pass of a loop is one)."""
    steps = f"{passed} step{'' if passed == 1 else 's'}"
    reason = f"all {steps} passed" if passed > 1 else f"{steps} passed"
    return f"{reason}, {skipped} skipped" if skipped else reason


def _accepted(outcome: StepOutcome) -> bool:
    """The step's request was answered with a 2xx: the SUT may have created what its cleanup undoes."""
    status = (outcome.response or {}).get("status")
    return outcome.request is not None and isinstance(status, int) and 200 <= status < 300
