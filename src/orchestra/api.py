"""Mounts every feature's router under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.ai_tools.endpoints import router as tools_router
from orchestra.apply.endpoints import router as apply_router
from orchestra.assistant.endpoints import router as assistant_router
from orchestra.audit.endpoints import router as audit_router
from orchestra.auth.endpoints import router as auth_router
from orchestra.dataplans.endpoints import router as dataplans_router
from orchestra.environments.endpoints import router as environments_router
from orchestra.environments.openapi_endpoints import router as openapi_router
from orchestra.health.endpoints import router as health_router
from orchestra.importing.endpoints import router as importing_router
from orchestra.insights.endpoints import router as insights_router
from orchestra.ledger.endpoints import router as ledger_router
from orchestra.limits.endpoints import router as limits_router
from orchestra.projects.endpoints import router as projects_router
from orchestra.quarantine.endpoints import router as quarantine_router
from orchestra.rag.endpoints import router as rag_router
from orchestra.retention.endpoints import router as retention_router
from orchestra.runs.endpoints import router as runs_router
from orchestra.schedules.endpoints import router as schedules_router
from orchestra.suites.endpoints import router as suites_router
from orchestra.testcases.endpoints import router as testcases_router
from orchestra.tokens.endpoints import router as tokens_router
from orchestra.transfer.endpoints import router as transfer_router
from orchestra.webhooks.endpoints import router as webhooks_router

api_router = APIRouter()
for router in (
    health_router,
    auth_router,
    projects_router,
    environments_router,
    ledger_router,
    openapi_router,
    testcases_router,
    suites_router,
    apply_router,
    importing_router,
    runs_router,
    insights_router,
    quarantine_router,
    retention_router,
    transfer_router,
    schedules_router,
    webhooks_router,
    limits_router,
    tokens_router,
    audit_router,
    tools_router,
    dataplans_router,
    rag_router,
    assistant_router,
):
    api_router.include_router(router)
