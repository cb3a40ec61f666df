"""The data phase of a run: before its test steps, get a DataPlan for the test's ``data`` requirements and
resolve it against the SUT; every call and lookup is a visible step (committed through the run's
PhaseSink, phase_io.py), every created entity a ledger entry committed with it.

In and out: the phase reads and updates a ``DataProgress`` — the values resolved so far and its state
(the plan in use, repairs made, done) — which the run keeps in its context, so each committed step carries
them. It returns a ``Halt`` when the run must not go on to its test steps.

Resumption: the plan the run uses is kept in the progress (and in ``test_runs.data_plan``); a resumed run
uses that plan again (only the catalogue is fetched anew) and passes the values already resolved to the
resolver, which does not call the SUT for them again. ``complete`` marks the phase done.

Repairs: when the SUT refuses every binding that failed in a wave (4xx), the plan goes back to the planner
with all those refusals, and the repaired plan replaces it; only the values of the bindings the repair left
unchanged (``graph.unchanged``) are kept, the others run again. A plan whose binding failed with no repair
to follow (they ran out, none are allowed, or the failure is not a refusal) is dropped from the plan cache,
unless only the SUT itself failed (5xx, no answer): the next run gets a new plan, not the one known to fail.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.executor.lease import LeaseLost
from orchestra.executor.phase_io import Halt, PhaseSink, cancelled_on_request
from orchestra.kit.egress import EgressPolicy
from orchestra.models.run_states import RunStatus
from orchestra.steps.outcome import StepOutcome

if TYPE_CHECKING:  # the planner's and the resolver's modules load with the first run that declares data
    from orchestra.openapi.operations import Catalogue
    from orchestra.testdata.plans.dataplan_model import DataPlan
    from orchestra.testdata.records import BindingResult
    from orchestra.testdata.resolver import BindingFailed, DataResolver

FAILURE_BODY_LIMIT = 2048  # of a failed call's response, sent to the planner to repair the plan


class PreparedPlanLike(Protocol):
    """What the executor reads of a plan provider's PreparedPlan (testdata/provider.py)."""

    @property
    def plan(self) -> DataPlan: ...
    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def planner(self) -> str: ...
    @property
    def notices(self) -> tuple[str, ...]: ...
    @property
    def plan_id(self) -> uuid.UUID | None: ...


class PlanSource(Protocol):
    """The plan provider as the executor uses it (testdata/provider.py implements it). Its errors' texts
    are user-facing reasons (PlanUnavailable)."""

    async def plan_for_run(
        self,
        *,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        test_case_id: uuid.UUID,
        test_case_version_id: uuid.UUID,
        environment_id: uuid.UUID,
        requirements: DataRequirements,
    ) -> PreparedPlanLike: ...

    async def repair(
        self,
        prepared: Any,
        *,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        test_case_id: uuid.UUID,
        test_case_version_id: uuid.UUID,
        environment_id: uuid.UUID,
        requirements: DataRequirements,
        failures: list[dict[str, Any]],
    ) -> PreparedPlanLike: ...

    async def forget(self, prepared: Any, *, tenant_id: uuid.UUID, project_id: uuid.UUID | None) -> None:
        """Drop a plan that failed from the cache (a pinned plan stays)."""


@dataclass(frozen=True, slots=True)
class _Stored:
    """A plan kept by a run, with a catalogue fetched again for its resumption."""

    plan: DataPlan
    catalogue: Catalogue
    planner: str
    notices: tuple[str, ...]
    plan_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class RunIds:
    """Whose data this is: the ids a plan provider needs."""

    tenant_id: uuid.UUID
    project_id: uuid.UUID | None  # None only for leases made by hand (tests), as on the Lease
    test_case_id: uuid.UUID | None
    test_case_version_id: uuid.UUID
    environment_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ResolverSetup:
    """How the resolver reaches the SUT: the environment as the run sees it, under the run's egress policy."""

    client: httpx.AsyncClient
    base_url: str
    policy: EgressPolicy
    variables: dict[str, Any]
    secrets: dict[str, str]
    timeout_s: float
    record_body_limit: int
    record_header_limit: int


@dataclass(slots=True)
class DataProgress:
    """The phase's part of the run's context: ``values`` resolved so far (``data.*`` in templates) and
    ``state`` (``plan``: the plan in use; ``repairs``: how many were asked for; ``complete``)."""

    values: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return bool(self.state.get("complete"))


class _Halted(Exception):
    def __init__(self, halt: Halt) -> None:
        super().__init__(halt.reason)
        self.halt = halt


class DataPhase:
    def __init__(
        self,
        sink: PhaseSink,
        plans: PlanSource,
        ids: RunIds,
        requirements: DataRequirements,
        setup: ResolverSetup,
        *,
        repair_attempts: int,
    ) -> None:
        self.sink = sink
        self.plans = plans
        self.ids = ids
        self.requirements = requirements
        self.setup = setup
        self.repair_attempts = repair_attempts

    def _ids(self) -> dict[str, Any]:
        return {
            "tenant_id": self.ids.tenant_id,
            "project_id": self.ids.project_id,
            "test_case_id": self.ids.test_case_id,
            "test_case_version_id": self.ids.test_case_version_id,
            "environment_id": self.ids.environment_id,
            "requirements": self.requirements,
        }

    async def run(self, progress: DataProgress) -> Halt | None:
        """Resolve the plan into ``progress``; the Halt that stops the run, if any."""
        try:
            await self._run(progress)
        except _Halted as halted:
            return halted.halt
        return None

    async def _run(self, progress: DataProgress) -> None:
        from orchestra.testdata.resolver import BindingFailed

        prepared = await self._prepare(progress)
        while True:
            deadline = asyncio.timeout(self.sink.time_left_s())
            try:
                async with deadline:
                    values = await self._resolver(prepared).resolve(
                        prepared.plan,
                        done=progress.values,
                        on_result=lambda result: self._on_result(result, progress),
                    )
            except TimeoutError:
                if not deadline.expired():
                    raise
                raise _Halted(Halt(RunStatus.TIMED_OUT, self.sink.time_limit_text())) from None
            except BindingFailed as failure:
                repairs = int(progress.state.get("repairs", 0))
                if _refused(failure) and repairs < self.repair_attempts:
                    progress.state["repairs"] = repairs + 1
                    prepared = await self._repair(prepared, failure, progress)
                    continue
                reason = _failed_text(failure, repairs)
                if not all(_sut_trouble(failed) for failed in failure.wave):
                    reason += await self._forget(prepared)
                raise self._error(reason) from None
            except (LeaseLost, _Halted):
                raise  # not ours any more (the next owner resumes), or stopped
            except Exception as error:  # a plan that cannot run (cycle, bad template): the run's error
                reason = f"test data: the plan cannot be resolved: {type(error).__name__}: {error}"
                raise self._error(reason) from None
            progress.values = values
            progress.state["complete"] = True
            return

    # -- the plan ----------------------------------------------------------------------------------------

    async def _prepare(self, progress: DataProgress) -> PreparedPlanLike:
        started, clock = datetime.now(UTC), time.perf_counter()
        try:
            fresh = await self.plans.plan_for_run(**self._ids())
        except Exception as error:  # PlanUnavailable: its text is the user-facing reason
            reason = str(error) or type(error).__name__
            await self._commit_plan_step("plan test data", StepOutcome("error", error=reason), started, clock)
            raise self._error(f"test data: no plan: {reason}") from None
        kept = progress.state.get("plan")
        if kept is not None:  # resumed: the run goes on with the plan it began with
            from orchestra.testdata.plans.dataplan_model import DataPlan

            return _Stored(
                DataPlan.model_validate(kept["plan"]),
                fresh.catalogue,
                kept["planner"],
                tuple(kept["notices"]),
                uuid.UUID(kept["plan_id"]) if kept.get("plan_id") else None,
            )
        await self._record_plan(fresh, f"plan test data ({fresh.planner})", started, clock, progress)
        return fresh

    async def _repair(
        self, prepared: PreparedPlanLike, failure: BindingFailed, progress: DataProgress
    ) -> PreparedPlanLike:
        """The plan repaired by the planner, told of every refusal of the wave. The values of the bindings
        the repair changed (or that need one it changed) are dropped: those bindings run again."""
        from orchestra.testdata.plans.graph import unchanged

        started, clock = datetime.now(UTC), time.perf_counter()
        masker = self.sink.masker
        failures = []
        for failed in failure.wave:
            result = failed.result
            body = str((result.response or {}).get("body") or "") if result is not None else ""
            failures.append(
                {
                    "binding": failed.binding,
                    "operation": result.operation if result is not None else "",
                    "status": _status_of(result),
                    "response_body": masker.text(body.encode()[:FAILURE_BODY_LIMIT].decode(errors="ignore")),
                    "reason": masker.text(failed.reason),
                }
            )
        try:
            repaired = await self.plans.repair(prepared, failures=failures, **self._ids())
        except Exception as error:
            reason = str(error) or type(error).__name__
            await self._commit_plan_step(
                "repair test data plan", StepOutcome("error", error=reason), started, clock
            )
            raise self._error(
                f"test data: binding '{failure.binding}' failed ({failure.reason}); no repair: {reason}"
            ) from None
        kept = unchanged(prepared.plan, repaired.plan)
        for name in [name for name in progress.values if name not in kept]:
            del progress.values[name]
        await self._record_plan(
            repaired, f"repair test data plan ({repaired.planner})", started, clock, progress
        )
        return repaired

    async def _forget(self, prepared: PreparedPlanLike) -> str:
        """Drop the plan that failed, unrepaired, from the cache (the provider keeps a pinned one): the next
        run of the test case gets a new plan, not the one known to fail. What the run's reason adds: nothing,
        or that the plan is still cached."""
        try:
            await self.plans.forget(prepared, tenant_id=self.ids.tenant_id, project_id=self.ids.project_id)
        except Exception as error:  # the binding's failure stays the run's reason
            return f"; the failed plan is still cached ({type(error).__name__}: {error})"
        return ""

    async def _record_plan(
        self,
        prepared: PreparedPlanLike,
        name: str,
        started: datetime,
        clock: float,
        progress: DataProgress,
    ) -> None:
        plan_json = prepared.plan.model_dump(mode="json", by_alias=True, exclude_none=True)
        plan_id = str(prepared.plan_id) if prepared.plan_id else None
        progress.state["plan"] = {
            "plan": plan_json,
            "planner": prepared.planner,
            "notices": list(prepared.notices),
            "plan_id": plan_id,
        }
        shown = {
            "planner": prepared.planner,
            "plan_id": plan_id,
            "notices": list(prepared.notices),
            "plan": plan_json,
        }
        notices = [
            {"check": "notice", "passed": True, "expected": None, "actual": None, "message": notice}
            for notice in prepared.notices
        ]
        outcome = StepOutcome("passed", response=shown, assertions=notices)
        await self._commit_plan_step(name, outcome, started, clock, json.dumps(plan_json))

    async def _commit_plan_step(
        self, name: str, outcome: StepOutcome, started: datetime, clock: float, plan_json: str | None = None
    ) -> None:
        duration = (time.perf_counter() - clock) * 1000
        await self.sink.commit_phase_step("data", name, outcome, started, duration, data_plan_json=plan_json)

    # -- the calls ---------------------------------------------------------------------------------------

    def _resolver(self, prepared: PreparedPlanLike) -> DataResolver:
        from orchestra.testdata.resolver import DataResolver

        setup = self.setup
        return DataResolver(
            setup.client,
            prepared.catalogue,
            base_url=setup.base_url,
            policy=setup.policy,
            environment=setup.variables,
            secrets=setup.secrets,
            seed=self.requirements.seed,
            timeout_s=setup.timeout_s,
            record_body_limit=setup.record_body_limit,
            record_header_limit=setup.record_header_limit,
        )

    async def _on_result(self, result: BindingResult, progress: DataProgress) -> None:
        """Commit the call as a step, with the ledger entry of what it created, before anything else."""
        if result.status == "passed":
            progress.values[result.binding] = result.value
        ledger = None
        if result.undo is not None:
            ledger = self.sink.ledger_entry("data", result.binding, result.operation, result.undo)
        elif result.manual and result.request is not None and result.response is not None:
            ledger = self.sink.manual_ledger_entry(
                "data", result.binding, result.operation, result.request, result.response
            )
        outcome = StepOutcome(
            result.status,  # type: ignore[arg-type]  # passed | failed | error
            attempts=result.attempts,
            request=result.request,
            response=result.response,
            error=result.error,
        )
        started = datetime.now(UTC)
        name = f"{result.kind} {result.binding} ({result.operation})"
        cancel = await self.sink.commit_phase_step(
            "data", name, outcome, started, result.duration_ms, ledger=ledger
        )
        if cancel:
            raise _Halted(cancelled_on_request())
        if self.sink.halted:  # interrupted meanwhile: its halt is already the run's
            raise _Halted(Halt(RunStatus.CANCELLED, "interrupted"))

    def _error(self, reason: str) -> _Halted:
        return _Halted(Halt(RunStatus.ERROR, self.sink.masker.text(reason)))


def _refused(failure: BindingFailed) -> bool:
    """Every binding of the wave that failed was refused by the SUT (4xx): a plan the planner may repair."""
    statuses = [_status_of(failed.result) for failed in failure.wave]
    return all(status is not None and 400 <= status < 500 for status in statuses)


def _sut_trouble(failed: BindingFailed) -> bool:
    """The SUT failed, not the plan: it answered 5xx, or not at all (unreachable, too slow, too large, refused
    by the egress policy). Such a plan is not known to be wrong: it stays cached."""
    result = failed.result
    if result is None or result.request is None:
        return False  # not even sent: a value or a request the plan cannot render
    status = _status_of(result)
    return status is None or status >= 500


def _failed_text(failure: BindingFailed, repairs: int) -> str:
    """The run's reason: the binding that failed and why (the SUT's status and answer), how many repairs
    of the plan were tried, and which other bindings of the wave failed too."""
    after = f" after {repairs} repair(s) of the plan" if repairs else ""
    text = f"test data: binding '{failure.binding}' failed{after}: {failure.reason}"
    if failure.others:
        text += f"; failed too: {', '.join(repr(other.binding) for other in failure.others)}"
    return text


def _status_of(result: BindingResult | None) -> int | None:
    if result is None or result.response is None:
        return None
    status = result.response.get("status")
    return status if isinstance(status, int) else None
