"""The ai-service's FastAPI app: the same problem documents, JSON guard and body limit as the API."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse, Response

from orchestra import __version__, problems
from orchestra.ai.endpoints import router
from orchestra.config import Settings
from orchestra.kit import metrics
from orchestra.kit.body_limit import BodyLimitMiddleware
from orchestra.kit.json_guard import JsonBodyGuardMiddleware

MAX_AI_REQUEST_BYTES = 1_000_000


def create_ai_app(settings: Settings, *, api_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """``api_transport``: how to reach the API's tool endpoints (tests); by default over HTTP at
    ``settings.api_url``."""
    app = FastAPI(
        title="Orchestra ai-service",
        version=__version__,
        description="Plans test data, explains failed runs, suggests test cases; reads only through the API.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.api_transport = api_transport
    problems.install(app)
    app.include_router(router)

    @app.get("/metrics", include_in_schema=False)
    async def scrape(authorization: Annotated[str | None, Header()] = None) -> Response:
        """The ai-service's Prometheus metrics (its port is an internal one: open unless a token is set)."""
        if metrics.scrape_status(authorization, settings.metrics_token, open_without_token=True) != 200:
            return JSONResponse({"detail": "a valid bearer token is required"}, status_code=401)
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    app.add_middleware(JsonBodyGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=min(settings.max_request_bytes, MAX_AI_REQUEST_BYTES))
    return app
