"""The demo System Under Test: a small in-memory "shop" API that behaves like a real service.

``create_app()`` builds a fresh app with its own state. Endpoints (see examples/README.md):
``/auth/token``, ``/oauth/token``, ``/items*`` and ``/jobs*`` (bearer auth) live in ``sut_shop``,
``/customers*`` and ``/orders*`` (bearer auth) in ``sut_customers``; ``/health``, ``/slow``,
``/html``, ``/big``, ``/echo``, ``/chain``, ``/flaky``, ``/redirect`` and ``/_log`` in ``sut_tools``.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestra.demo import sut_customers, sut_shop, sut_tools
from orchestra.demo.sut_http import ProblemError, problem_response
from orchestra.demo.sut_store import DEMO_PASSWORD, DEMO_USERNAME, ShopState
from orchestra.demo.sut_values import JsonObject, utc_now_iso

__all__ = ["DEMO_PASSWORD", "DEMO_USERNAME", "create_app"]


class RequestLogMiddleware:
    """Appends every HTTP request (method, path, query, idempotency key, status, timing) to a bounded log."""

    def __init__(self, app: ASGIApp, state: ShopState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry: JsonObject = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"),
            "idempotency_key": _header(scope, b"idempotency-key"),
            "status": 500,
            "timestamp": utc_now_iso(),
        }
        started = time.perf_counter()

        async def send_and_note_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self.state.request_log.append(entry)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _validation_failed(_request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = {"title": "Validation failed", "status": 422, "detail": jsonable_encoder(errors)}
    return JSONResponse(body, status_code=422)


async def _problem(_request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ProblemError):  # pragma: no cover - registered for ProblemError only
        raise exc
    return problem_response(exc)


def create_app() -> FastAPI:
    """A new demo SUT application with its own, empty state."""
    app = FastAPI(
        title="Orchestra demo shop",
        version="1.0.0",
        description="The System Under Test that ships with Orchestra's example suite.",
    )
    state = ShopState()
    app.state.shop = state
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(ProblemError, _problem)
    app.add_middleware(RequestLogMiddleware, state=state)
    app.include_router(sut_shop.router)
    app.include_router(sut_customers.router)
    app.include_router(sut_tools.router)
    return app
