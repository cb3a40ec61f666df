from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

StepStatus = Literal["passed", "failed", "error", "skipped"]


@dataclass(slots=True)
class StepOutcome:
    """What one step did: its verdict, the exchange it recorded, its checks and what it captured."""

    status: StepStatus
    attempts: int = 1
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    assertions: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def first_problem(self) -> str | None:
        if self.error:
            return self.error
        for assertion in self.assertions:
            if not assertion.get("passed", True):
                return str(assertion.get("message"))
        return None
