"""A read-only view of an HTTP response that expectations and captures are evaluated against."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

_UNPARSED: Any = object()
_NOT_JSON: Any = object()


@dataclass(slots=True)
class ResponseView:
    """Status, case-insensitive headers, text and timing; the body is parsed as JSON at most once."""

    status: int
    headers: Mapping[str, str]
    text: str
    elapsed_ms: float
    _parsed: Any = field(default=_UNPARSED, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, httpx.Headers):
            self.headers = httpx.Headers(self.headers)

    @classmethod
    def from_httpx(cls, response: httpx.Response, elapsed_ms: float) -> ResponseView:
        """From a response whose body has been read."""
        return cls(response.status_code, response.headers, response.text, elapsed_ms)

    def _parse(self) -> Any:
        if self._parsed is _UNPARSED:
            try:
                self._parsed = json.loads(self.text)
            except (ValueError, RecursionError):  # invalid JSON, or nesting too deep for the parser
                self._parsed = _NOT_JSON
        return self._parsed

    @property
    def is_json(self) -> bool:
        return self._parse() is not _NOT_JSON

    @property
    def json_value(self) -> Any:
        """The parsed body; None when the body is not JSON (check ``is_json`` to tell it from ``null``)."""
        parsed = self._parse()
        return None if parsed is _NOT_JSON else parsed

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def from_httpx(response: httpx.Response, elapsed_ms: float) -> ResponseView:
    """Module-level spelling of ``ResponseView.from_httpx``."""
    return ResponseView.from_httpx(response, elapsed_ms)
