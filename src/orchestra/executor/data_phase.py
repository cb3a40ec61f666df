"""The data phase of a run: before its test steps, get a DataPlan for the test's ``data`` requirements and
resolve it against the SUT; every call and lookup is a visible step, every created entity a ledger entry.

Step numbering: test steps keep seqs 0..n-1 (``position`` in the context still drives their resumption).
Data-phase steps take ``DATA_SEQ_BASE + k`` (negative, so they sort before the test steps) and cleanup
steps ``CLEANUP_SEQ_BASE + k`` (after them); ``k`` counts the phase's steps and is kept in the context
(``data_steps``, ``cleanup_steps``), so a resumed run numbers on without collision.

Resumption: the plan the run uses is kept in the context (``data_plan``) and in ``test_runs.data_plan``; a
resumed run uses that plan again (only the catalogue is fetched anew) and passes the values already
resolved (``data``) to the resolver, which does not call the SUT for them again. ``data_complete`` marks
the phase done.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestra.dataplan.model import DataPlan
from orchestra.dataplan.records import BindingResult
from orchestra.dataplan.resolver import BindingFailed, DataResolver
from orchestra.executor.lease import LeaseLost, LedgerEntryWrite
from orchestra.executor.outcome import StepOutcome
from orchestra.ledger.undo_calls import seal_undo, shown_resource
from orchestra.models.run_states import RunStatus
from orchestra.openapi.operations import Catalogue
from orchestra.testcases.definition import DataRequirements

if TYPE_CHECKING:
    from orchestra.executor.run_execution import RunExecution

DATA_SEQ_BASE = -1_000_000
CLEANUP_SEQ_BASE = 1_000_000
FAILURE_BODY_LIMIT = 2048  # of a failed call's response, sent to the planner to repair the plan


class PreparedPlanLike(Protocol):
    """What the executor reads of a plan provider's PreparedPlan (dataplans/provider.py)."""

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
    """The plan provider as the executor uses it (dataplans/provider.py implements it). Its errors' texts
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


@dataclass(frozen=True, slots=True)
class _Stored:
    """A plan kept by a run, with a catalogue fetched again for its resumption."""

    plan: DataPlan
    catalogue: Catalogue
    planner: str
    notices: tuple[str, ...]
    plan_id: uuid.UUID | None


class DataPhase:
    def __init__(self, execution: RunExecution, conn: AsyncConnection, plans: PlanSource) -> None:
        self.ex = execution
        self.conn = conn
        self.plans = plans
        requirements = execution.plan.definition.data
        assert requirements is not None
        self.requirements = requirements

    def _ids(self) -> dict[str, Any]:
        lease = self.ex.lease
        return {
            "tenant_id": lease.tenant_id,
            "project_id": lease.project_id,
            "test_case_id": lease.test_case_id,
            "test_case_version_id": lease.test_case_version_id,
            "environment_id": lease.environment_id,
            "requirements": self.requirements,
        }

    async def run(self) -> None:
        prepared = await self._prepare()
        if prepared is None:
            return
        repairs = int(self.ex.data_state.get("repairs", 0))
        while True:
            deadline = asyncio.timeout(self.ex.time_left_s())
            try:
                async with deadline:
                    values = await self._resolver(prepared).resolve(
                        prepared.plan, done=self.ex.data, on_result=self._on_result
                    )
            except _Stopped:
                return  # cancelled: the run's halt says so
            except TimeoutError:
                if not deadline.expired():
                    raise
                self.ex.halt = {"status": RunStatus.TIMED_OUT, "reason": self.ex.time_limit_text()}
                return
            except BindingFailed as failure:
                status = _status_of(failure.result)
                allowed = self.ex.http.settings.planner_repair_attempts
                if status is not None and 400 <= status < 500 and repairs < allowed:
                    repairs += 1
                    self.ex.data_state["repairs"] = repairs
                    prepared = await self._repair(prepared, failure, status)
                    if prepared is None:
                        return
                    continue
                self._halt(f"test data: binding '{failure.binding}' failed: {failure.reason}")
                return
            except LeaseLost:
                raise  # not ours any more: stop at once, the next owner resumes
            except Exception as error:  # a plan that cannot run (cycle, bad template): the run's error
                self._halt(f"test data: the plan cannot be resolved: {type(error).__name__}: {error}")
                return
            self.ex.data = values
            self.ex.data_state["complete"] = True
            return

    # -- the plan ----------------------------------------------------------------------------------------

    async def _prepare(self) -> PreparedPlanLike | None:
        started, clock = datetime.now(UTC), time.perf_counter()
        try:
            fresh = await self.plans.plan_for_run(**self._ids())
        except Exception as error:  # PlanUnavailable: its text is the user-facing reason
            reason = str(error) or type(error).__name__
            await self._commit_plan_step("plan test data", StepOutcome("error", error=reason), started, clock)
            self._halt(f"test data: no plan: {reason}")
            return None
        kept = self.ex.data_state.get("plan")
        if kept is not None:  # resumed: the run goes on with the plan it began with
            return _Stored(
                DataPlan.model_validate(kept["plan"]),
                fresh.catalogue,
                kept["planner"],
                tuple(kept["notices"]),
                uuid.UUID(kept["plan_id"]) if kept.get("plan_id") else None,
            )
        await self._record_plan(fresh, f"plan test data ({fresh.planner})", started, clock)
        return fresh

    async def _repair(
        self, prepared: PreparedPlanLike, failure: BindingFailed, status: int
    ) -> PreparedPlanLike | None:
        started, clock = datetime.now(UTC), time.perf_counter()
        result = failure.result
        body = str((result.response or {}).get("body") or "") if result is not None else ""
        failures = [
            {
                "binding": failure.binding,
                "operation": result.operation if result is not None else "",
                "status": status,
                "response_body": self.ex.masker.text(
                    body.encode()[:FAILURE_BODY_LIMIT].decode(errors="ignore")
                ),
                "reason": self.ex.masker.text(failure.reason),
            }
        ]
        try:
            repaired = await self.plans.repair(prepared, failures=failures, **self._ids())
        except Exception as error:
            reason = str(error) or type(error).__name__
            await self._commit_plan_step(
                "repair test data plan", StepOutcome("error", error=reason), started, clock
            )
            self._halt(
                f"test data: binding '{failure.binding}' failed ({failure.reason}); no repair: {reason}"
            )
            return None
        await self._record_plan(repaired, f"repair test data plan ({repaired.planner})", started, clock)
        return repaired

    async def _record_plan(
        self, prepared: PreparedPlanLike, name: str, started: datetime, clock: float
    ) -> None:
        plan_json = prepared.plan.model_dump(mode="json", by_alias=True, exclude_none=True)
        self.ex.data_state["plan"] = {
            "plan": plan_json,
            "planner": prepared.planner,
            "notices": list(prepared.notices),
            "plan_id": str(prepared.plan_id) if prepared.plan_id else None,
        }
        shown = {
            "planner": prepared.planner,
            "plan_id": str(prepared.plan_id) if prepared.plan_id else None,
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
        await self.ex.commit_record(
            self.conn,
            self.ex.next_seq("data"),
            "data",
            name,
            outcome,
            started,
            duration,
            data_plan_json=plan_json,
        )

    # -- the calls ---------------------------------------------------------------------------------------

    def _resolver(self, prepared: PreparedPlanLike) -> DataResolver:
        settings = self.ex.http.settings
        environment = self.ex.environment
        return DataResolver(
            self.ex.http.client,
            prepared.catalogue,
            base_url=environment.base_url.rstrip("/"),
            policy=self.ex.egress,
            environment=environment.variables,
            secrets=environment.secrets,
            seed=self.requirements.seed,
            timeout_s=settings.default_step_timeout_ms / 1000,
            record_body_limit=settings.record_body_limit,
            record_header_limit=settings.record_header_limit,
        )

    async def _on_result(self, result: BindingResult) -> None:
        """Commit the call as a step, with the ledger entry of what it created, before anything else."""
        if result.status == "passed":
            self.ex.data[result.binding] = result.value
        ledger = None
        if result.undo is not None:
            ledger = self.ex.ledger_entry("data", result.binding, result.operation, result.undo)
        outcome = StepOutcome(
            result.status,  # type: ignore[arg-type]  # passed | failed | error
            attempts=result.attempts,
            request=result.request,
            response=result.response,
            error=result.error,
        )
        started = datetime.now(UTC)
        name = f"{result.kind} {result.binding} ({result.operation})"
        cancel = await self.ex.commit_record(
            self.conn,
            self.ex.next_seq("data"),
            "data",
            name,
            outcome,
            started,
            result.duration_ms,
            ledger=ledger,
        )
        if cancel and self.ex.halt is None:
            self.ex.halt = {"status": RunStatus.CANCELLED, "reason": "cancelled on request"}
        if self.ex.halt is not None:
            raise _Stopped

    def _halt(self, reason: str) -> None:
        if self.ex.halt is None:
            self.ex.halt = {"status": RunStatus.ERROR, "reason": self.ex.masker.text(reason)}


class _Stopped(Exception):
    """The run was cancelled (or interrupted) during its data phase: resolve no further."""


def _status_of(result: BindingResult | None) -> int | None:
    if result is None or result.response is None:
        return None
    status = result.response.get("status")
    return status if isinstance(status, int) else None


def new_ledger_entry(
    execution: RunExecution, source: str, label: str, operation: str, call: Any
) -> LedgerEntryWrite:
    """A ledger entry for an undo call, sealed for the run's tenant (see ledger/undo_calls.py)."""
    if execution.box is None:
        raise RuntimeError("no secret box: an undo call cannot be kept sealed")
    entry_id = uuid.uuid4()
    return LedgerEntryWrite(
        id=entry_id,
        source=source,
        label=label,
        operation=operation,
        method=call.method,
        resource=shown_resource(call.url),
        undo=seal_undo(execution.box, execution.lease.tenant_id, entry_id, call),
    )


__all__ = ["CLEANUP_SEQ_BASE", "DATA_SEQ_BASE", "DataPhase", "PlanSource", "new_ledger_entry", "replace"]
