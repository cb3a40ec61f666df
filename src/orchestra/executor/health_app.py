"""Health endpoints of a stand-alone executor process, for orchestrators (liveness and readiness)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from orchestra.runtime import Runtime


def create_health_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(title="Orchestra executor", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok", "owner": runtime.executor.owner}

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        healthy = all(value == "ok" for value in checks.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            "checks": checks,
            "owner": runtime.executor.owner,
        }
        return JSONResponse(body, status_code=200 if healthy else 503)

    return app
