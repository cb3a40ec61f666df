"""The FastAPI application: routers, error mapping, and the runtime it serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from orchestra import __version__, api_contract, problems, web
from orchestra.ai_client.delegation import Delegation
from orchestra.api import api_router
from orchestra.api_deps import AuditRecorder, Readiness, RequestAuthenticator, SchedulerHandle
from orchestra.audit import service as audit
from orchestra.auth.authenticator import Authenticator
from orchestra.auth.schemas import SignInOptionsOut
from orchestra.config import Settings
from orchestra.health.metrics_endpoints import router as metrics_router
from orchestra.kit.body_limit import BodyLimitMiddleware
from orchestra.kit.json_guard import JsonBodyGuardMiddleware
from orchestra.kit.live_changes import LiveChanges
from orchestra.runtime import Runtime


def make_authenticator(settings: Settings, runtime: Runtime) -> Authenticator:
    """API tokens always; OpenID Connect access tokens when an issuer is configured."""
    verifier = None
    if settings.oidc_issuer:
        from orchestra.auth.oidc import OidcVerifier

        verifier = OidcVerifier(settings)
    return Authenticator(runtime.db, verifier, delegation=Delegation(runtime.secrets))


def attach_runtime(app: FastAPI, settings: Settings, runtime: Runtime) -> None:
    """Put on ``app.state`` the parts of ``runtime`` the routes' dependencies read (api_deps.py): a route
    receives the part it uses, and no feature imports the process wiring."""
    scheduler: SchedulerHandle = runtime.scheduler  # typed: mypy checks each part keeps its protocol
    readiness: Readiness = runtime
    changes: LiveChanges = runtime.changes
    authenticator: RequestAuthenticator = make_authenticator(settings, runtime)
    app.state.runtime = runtime
    app.state.settings = runtime.settings
    app.state.secrets = runtime.secrets
    app.state.database = runtime.db
    app.state.scheduler = scheduler
    app.state.changes = changes
    app.state.readiness = readiness
    app.state.authenticator = authenticator


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """An app over ``runtime``; without one, the app starts (and stops) its own in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        if own:
            attach_runtime(app, settings, await Runtime.start(settings))
        try:
            yield
        finally:
            await app.state.authenticator.aclose()
            if own:
                await app.state.runtime.stop()

    app = FastAPI(
        title="Orchestra",
        version=__version__,
        description="API tests as code, run durably and in parallel against a System Under Test.",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings  # the lifespan's runtime may replace it with the same settings
    recorder: AuditRecorder = audit.record_request
    app.state.audit_recorder = recorder  # every change made through the API is recorded (api_deps.py)
    if runtime is not None:
        attach_runtime(app, settings, runtime)
    problems.install(app)
    api_contract.document(app)
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(metrics_router)  # /metrics, behind its own token (docs/operations.md)
    # Last: the application answers only what no API route does. It may call the sign-on issuer's origin.
    sign_on = SignInOptionsOut.of(settings).oidc
    web.install(app, settings.web_dir, connect_to=[web.origin_of(sign_on.issuer)] if sign_on else [])
    app.add_middleware(JsonBodyGuardMiddleware)  # inside the body limit, which bounds what it buffers
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    return app
