"""A test-case version compiled once for execution: its steps flattened into setup → steps → teardown."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from orchestra.definitions.testcase_model import (
    IncludeStep,
    RequestDefaults,
    RequestStep,
    SetStep,
    SleepStep,
    TestCaseDefinition,
)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    seq: int
    phase: str  # setup | main | teardown
    name: str
    step: RequestStep | SetStep | SleepStep  # includes were put in place when the files were loaded
    request_spec: dict[str, Any] | None  # the request as plain data, rendered at every execution


@dataclass(frozen=True, slots=True)
class ExecutionPlan:
    definition: TestCaseDefinition
    steps: tuple[PlannedStep, ...]


def compile_plan(definition: TestCaseDefinition, suite_phase: str | None = None) -> ExecutionPlan:
    """``suite_phase`` 'teardown': a suite's teardown run, whose steps all run whatever happened before, like
    a test's teardown steps (runs/suite_phases.py)."""
    planned: list[PlannedStep] = []
    main = "teardown" if suite_phase == "teardown" else "main"
    for phase, steps in (
        ("setup", definition.setup),
        (main, definition.steps),
        ("teardown", definition.teardown),
    ):
        for index, step in enumerate(steps):
            if isinstance(step, IncludeStep):
                raise ValueError(
                    f"{step.display_name(index)}: an include is resolved when the files are loaded"
                )
            spec = (
                step.request.model_dump(by_alias=True, exclude_unset=True, mode="json")
                if isinstance(step, RequestStep)
                else None
            )
            planned.append(PlannedStep(len(planned), phase, step.display_name(index), step, spec))
    return ExecutionPlan(definition, tuple(planned))


def request_defaults_of(*stored: Any) -> tuple[dict[str, Any], ...]:
    """Stored ``defaults`` (JSON text, plain data or None; the most general first) as the plain-data layers
    a run's requests inherit (steps/request_defaults.py)."""
    layers: list[dict[str, Any]] = []
    for value in stored:
        data = json.loads(value) if isinstance(value, str) else value
        if data:
            defaults = RequestDefaults.model_validate(data)
            layers.append(defaults.model_dump(mode="json", by_alias=True, exclude_unset=True))
    return tuple(layers)
