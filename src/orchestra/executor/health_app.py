"""Health endpoints of a stand-alone executor process, for orchestrators (liveness and readiness).

They take the process's readiness check and the executor's owner id rather than the runtime, so the
executor package does not import the wiring that builds it (runtime.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse


def create_health_app(readiness: Callable[[], Awaitable[dict[str, str]]], owner: str) -> FastAPI:
    """``readiness``: each dependency of the process and whether it is usable ("ok" when it is);
    ``owner``: the executor's id, shown so an orchestrator can tell the incarnations apart."""
    app = FastAPI(title="Orchestra executor", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok", "owner": owner}

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        checks = await readiness()
        healthy = all(value == "ok" for value in checks.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            "checks": checks,
            "owner": owner,
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    return app
