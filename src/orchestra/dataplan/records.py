"""What the Data Resolver hands to whoever runs it (the executor): one result per binding that called the
SUT, and the rendered calls that undo what was created (kept in the data ledger until done)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class HttpCall:
    """A fully rendered request: what an undo will send, possibly long after the run (sweep)."""

    method: str
    url: str  # absolute, query string included
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON body, None for none

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": self.headers, "body": self.body}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HttpCall:
        return cls(data["method"], data["url"], dict(data.get("headers") or {}), data.get("body"))


@dataclass(frozen=True, slots=True)
class BindingResult:
    binding: str
    kind: str  # call | lookup
    operation: str
    status: str  # passed | failed | error (as a run step)
    value: Any = None
    request: dict[str, Any] | None = None  # as recorded for a step (executor/recording.py)
    response: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: float = 0.0
    attempts: int = 1
    undo: HttpCall | None = None  # set when the call created something that a cleanup undoes


@dataclass(frozen=True, slots=True)
class UndoOutcome:
    status: str  # done | gone (already absent: 404/410) | failed
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    error: str | None = None
