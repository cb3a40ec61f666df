"""Typed errors of the domain, mapped once to RFC 9457 problem+json by the app (see app.py), and the
refusal of a process to start, which the command line reports in one line (exit code 2)."""

from __future__ import annotations

from typing import Any


class OrchestraError(Exception):
    """Base of errors a user can act on. ``status`` is the HTTP status the API answers with."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}


class Unauthorized(OrchestraError):
    """No credentials, or credentials that do not prove who the caller is (RFC 6750 challenge)."""

    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str, *, invalid_token: bool = True) -> None:
        super().__init__(detail)
        challenge = 'Bearer realm="orchestra"'
        if invalid_token:
            challenge += f', error="invalid_token", error_description="{detail.replace(chr(34), chr(39))}"'
        self.headers = {"WWW-Authenticate": challenge}


class Forbidden(OrchestraError):
    status = 403
    title = "Forbidden"


class Unavailable(OrchestraError):
    status = 503
    title = "Service unavailable"


class NotFound(OrchestraError):
    status = 404
    title = "Not found"


class Conflict(OrchestraError):
    status = 409
    title = "Conflict"


class InvalidInput(OrchestraError):
    status = 422
    title = "Invalid input"


class InvalidDefinition(InvalidInput):
    """A test case or suite definition failed validation; ``errors`` lists each problem with its place."""

    title = "Invalid definition"


class StartupRefused(RuntimeError):
    """A process cannot start as configured (a setting, the database, its role or schema, the broker). The
    message is one line that says what is wrong and how to fix it; the command line prints only that."""
