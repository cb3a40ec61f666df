"""What a step result keeps of an HTTP exchange: enough to understand a failure without re-running it.

Bodies are cut at ``ORCHESTRA_RECORD_BODY_LIMIT`` bytes and header values at
``ORCHESTRA_RECORD_HEADER_LIMIT``;
the record says when and how much was cut. Secrets are masked when the record is serialised for storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx


def _cut(data: bytes, limit: int) -> tuple[str, bool]:
    if len(data) <= limit:
        return data.decode("utf-8", errors="replace"), False
    return data[:limit].decode("utf-8", errors="ignore"), True


# Credentials that are encoded rather than written out (Basic = base64 of user:password) cannot be found by
# the secret masker, so these schemes are redacted whatever the value.
_ENCODED_CREDENTIALS = ("basic ", "digest ", "negotiate ", "ntlm ")
_AUTH_HEADERS = ("authorization", "proxy-authorization")


def _redact(name: str, value: str) -> str:
    if name.lower() in _AUTH_HEADERS and value.lower().startswith(_ENCODED_CREDENTIALS):
        return value.split(" ", 1)[0] + " ********"
    return value


CUT_MARK = "…"  # ends a header value cut at its limit


def _headers(items: Iterable[tuple[str, str]], limit: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, raw in items:
        value = _redact(name, raw)
        value = value if len(value) <= limit else value[:limit] + CUT_MARK
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def record_request(request: httpx.Request, body_limit: int, header_limit: int) -> dict[str, Any]:
    content = request.content
    body, truncated = _cut(content, body_limit)
    return {
        "method": request.method,
        "url": str(request.url),
        "headers": _headers(request.headers.items(), header_limit),
        "body": body,
        "body_bytes": len(content),
        "body_truncated": truncated,
    }


def record_response(
    response: httpx.Response, elapsed_ms: float, body_limit: int, header_limit: int
) -> dict[str, Any]:
    content = response.content
    body, truncated = _cut(content, body_limit)
    return {
        "status": response.status_code,
        "reason": response.reason_phrase,
        "http_version": response.http_version,
        "headers": _headers(response.headers.items(), header_limit),
        "body": body,
        "body_bytes": len(content),
        "body_truncated": truncated,
        "elapsed_ms": round(elapsed_ms, 3),
    }
