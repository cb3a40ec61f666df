"""The ai-service's FastAPI app: the same problem documents, JSON guard and body limit as the API."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from orchestra import __version__, problems
from orchestra.ai.endpoints import router
from orchestra.config import Settings
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
    app.add_middleware(JsonBodyGuardMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=min(settings.max_request_bytes, MAX_AI_REQUEST_BYTES))
    return app
