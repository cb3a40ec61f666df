"""What the Data Resolver hands to whoever runs it (the executor): one result per binding that called the
SUT, with the rendered call that undoes what it created (kept in the data ledger until done), and what an
undo did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestra.steps.http_call import HttpCall


@dataclass(frozen=True, slots=True)
class BindingResult:
    binding: str
    kind: str  # call | lookup
    operation: str
    status: str  # passed | failed | error (as a run step)
    value: Any = None
    request: dict[str, Any] | None = None  # as recorded for a step (steps/recording.py)
    response: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: float = 0.0
    attempts: int = 1
    undo: HttpCall | None = None  # set when the call created something that a cleanup undoes
    # The call created something whose cleanup could not be rendered: undone by hand (ledger: manual).
    manual: bool = False


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    status: str  # done | gone (already absent: 404/410) | failed
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    error: str | None = None
