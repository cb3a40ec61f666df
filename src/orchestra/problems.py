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

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


async def _orchestra_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OrchestraError)
    return problem(error.status, error.title, error.detail, **error.extra)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"location": _location(item.get("loc", ())), "message": str(item.get("msg", "invalid"))}
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
    if sqlstate.startswith("22"):
        message = str(getattr(error.orig, "args", [""])[0] or "").split("\n")[0][:200]
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
