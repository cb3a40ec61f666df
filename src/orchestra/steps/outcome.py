from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

StepStatus = Literal["passed", "failed", "error", "skipped"]


@dataclass(frozen=True, slots=True)
class NextRequest:
    """A Postman script's ``setNextRequest``: the step to go to after this one (by its request name), or
    None: the collection stops after this step."""

    target: str | None


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
    next_request: NextRequest | None = None  # set by a script's setNextRequest

    @property
    def first_problem(self) -> str | None:
        if self.error:
            return self.error
        for assertion in self.assertions:
            if is_failed_check(assertion):
                return str(assertion.get("message"))
        return None


def is_failed_check(assertion: dict[str, Any]) -> bool:
    """A stored check that was evaluated and did not hold (a skipped check was not evaluated)."""
    return not assertion.get("passed", True) and assertion.get("outcome") != "skipped"
