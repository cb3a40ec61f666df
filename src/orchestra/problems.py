"""Errors become RFC 9457 problem+json, in one place. Bad input is a 4xx with a clear message, never a 500."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from orchestra.errors import OrchestraError
from orchestra.kit.json_guard import is_json_media_type

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


async def _orchestra_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OrchestraError)
    return problem(error.status, error.title, error.detail, error.headers or None, **error.extra)


# pydantic's wording where it would puzzle a client.
_MESSAGES = {"string_unicode": "text must be valid Unicode (a lone surrogate such as \\ud800 is not)"}


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    content_type = request.headers.get("content-type", "")
    if isinstance(error.body, bytes) and not is_json_media_type(content_type):
        # FastAPI parses only JSON media types; any other body reaches validation as bytes.
        sent = content_type.split(";", 1)[0].strip()[:100] or "no Content-Type"
        detail = f"the request body must be JSON sent as Content-Type: application/json (got {sent})"
        return problem(415, "Unsupported media type", detail)
    errors = [
        {
            "location": _location(item.get("loc", ())),
            "message": _MESSAGES.get(str(item.get("type")), str(item.get("msg", "invalid"))),
        }
        for item in error.errors()[:50]
    ]
    detail = "; ".join(f"{item['location']}: {item['message']}" for item in errors[:5])
    return problem(422, "Invalid input", detail, errors=errors)


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = str(error.detail)
    if detail == "There was an error parsing the body":
        detail = "the request body could not be parsed: it must be UTF-8 encoded JSON"
    return problem(error.status_code, _title(error.status_code), detail)


async def _integrity_error(_: Request, error: Exception) -> JSONResponse:
    log.info("request.integrity_conflict", error=str(error.__cause__ or error)[:300])
    return problem(
        409, "Conflict", "the change conflicts with existing data (it is still in use or a duplicate)"
    )


async def _database_refused(request: Request, error: Exception) -> JSONResponse:
    """PostgreSQL's data exceptions (SQLSTATE class 22: a NUL byte, a value out of range …) are bad input."""
    assert isinstance(error, DBAPIError)
    sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
    if sqlstate == "42501":  # row-level security refused a row: a scope the checks before should have caught
        log.warning("request.refused_by_row_level_security", error=str(error.orig)[:300])
        return problem(403, "Forbidden", "this is outside what your credentials may change")
    if sqlstate.startswith("22"):
        message = str(getattr(error.orig, "args", [""])[0] or "").split("\n")[0][:200]
        if sqlstate == "22021" and "0x00" in message:  # PostgreSQL text never holds NUL
            message = "text must not contain the NUL character (\\u0000)"
        return problem(422, "Invalid input", f"the database refused a value: {message}")
    return await _unexpected(request, error)


async def _unexpected(_: Request, error: Exception) -> JSONResponse:
    log.exception("request.unhandled_error")
    return problem(500, "Internal error", "an unexpected error occurred; see the server log")


def _title(status: int) -> str:
    return {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Payload too large"}.get(
        status, "Error"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(OrchestraError, _orchestra_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DBAPIError, _database_refused)
    app.add_exception_handler(Exception, _unexpected)
