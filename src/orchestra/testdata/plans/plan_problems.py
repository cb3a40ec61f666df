"""A problem found in a plan: where (a dotted path into the plan), what kind (a stable code), and why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanProblem:
    path: str  # e.g. bindings.order.call.body
    code: str  # see docs/dataplan.md: unknown_operation, missing_parameter, body_invalid, ...
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"
