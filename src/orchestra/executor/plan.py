"""A test-case version compiled once for execution: its steps flattened into setup → steps → teardown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestra.definitions.testcase_model import RequestStep, Step, TestCaseDefinition


@dataclass(frozen=True, slots=True)
class PlannedStep:
    seq: int
    phase: str  # setup | main | teardown
    name: str
    step: Step
    request_spec: dict[str, Any] | None  # the request as plain data, rendered at every execution


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    definition: TestCaseDefinition
    steps: tuple[PlannedStep, ...]


def compile_plan(definition: TestCaseDefinition) -> ExecutionPlan:
    planned: list[PlannedStep] = []
    for phase, steps in (
        ("setup", definition.setup),
        ("main", definition.steps),
        ("teardown", definition.teardown),
    ):
        for index, step in enumerate(steps):
            spec = (
                step.request.model_dump(by_alias=True, exclude_unset=True, mode="json")
                if isinstance(step, RequestStep)
                else None
            )
            planned.append(PlannedStep(len(planned), phase, step.display_name(index), step, spec))
    return ExecutionPlan(definition, tuple(planned))
