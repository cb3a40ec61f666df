"""Postman's ``setNextRequest`` in a run: where the run goes on after the step whose script called it.

As newman: the request named (its Postman name, the last part of the step's ``Folder / request`` name; of
several with that name, the last) runs next, wherever it is, before or after; ``null``, or a name no request
has, ends the collection's pass after this step (the remaining steps are not run). Each jump counts: a run
makes at most ``ORCHESTRA_MAX_NEXT_REQUEST_JUMPS`` of them, then it ends in ERROR (newman has no bound, so a
cycle there runs until it is stopped). A step in a loop (``for_each``/``repeat``), a setup or teardown step
does not jump.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestra.executor.plan import ExecutionPlan, PlannedStep
from orchestra.steps.outcome import NextRequest


@dataclass(frozen=True, slots=True)
class Jump:
    """The position the run goes on from, whether it is a jump (counted), and the note for the step."""

    position: int
    counted: bool
    note: str


def _named(planned: PlannedStep, name: str) -> bool:
    return planned.name == name or planned.name.endswith(f" / {name}")


def jump_of(plan: ExecutionPlan, planned: PlannedStep, wanted: NextRequest) -> Jump:
    """Where the run goes after ``planned`` when its scripts called ``setNextRequest(wanted)``."""
    steps = [step for step in plan.steps if step.phase == planned.phase]
    end = steps[-1].seq + 1  # past the last step of the pass: its teardown (if any) still runs
    call = (
        "postman.setNextRequest(null)"
        if wanted.target is None
        else f"postman.setNextRequest({wanted.target!r})"
    )
    if wanted.target is None:
        return Jump(end, False, f"{call}: the collection stops after this request")
    found = [step for step in steps if _named(step, wanted.target)]
    if not found:
        return Jump(
            end, False, f"{call}: no request has that name, so the collection stops after this request"
        )
    target = found[-1]  # newman looks names up in a table where the last of a name wins
    return Jump(target.seq, True, f"{call}: the run goes on with '{target.name}'")
