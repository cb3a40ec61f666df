"""A fully rendered HTTP call, kept to be sent later: the undo of a created entity (a request step's
declared cleanup, a data binding's undo) waits in the data ledger until the cleanup or a sweep sends it."""

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
