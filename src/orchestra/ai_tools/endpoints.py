"""``/api/v1/tools``: read-only views for the ai-service (called with a delegation token) and viewers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from orchestra.ai_tools import service
from orchestra.ai_tools.schemas import (
    Entities,
    EnvironmentView,
    Evidence,
    SearchHits,
    TestCaseView,
    ValidatePlanRequest,
    ValidatePlanResult,
)
from orchestra.api_deps import SessionDep, SettingsDep, TransactionsDep, ViewerDep

router = APIRouter(prefix="/tools", tags=["tools"])


@router.get("/environments/{environment_id}", response_model=EnvironmentView)
async def get_environment(
    environment_id: uuid.UUID, session: SessionDep, actor: ViewerDep
) -> EnvironmentView:
    return await service.environment_view(session, environment_id)


@router.get("/environments/{environment_id}/catalogue")
async def get_catalogue(environment_id: uuid.UUID, session: SessionDep, actor: ViewerDep) -> dict[str, Any]:
    """The operations of the environment's imported OpenAPI description (``Catalogue.to_json()``)."""
    return await service.catalogue_view(session, environment_id)


@router.post("/dataplans/validate", response_model=ValidatePlanResult)
async def validate_plan(
    body: ValidatePlanRequest, session: SessionDep, actor: ViewerDep
) -> ValidatePlanResult:
    return ValidatePlanResult(problems=await service.plan_problems(session, body.environment_id, body.plan))


@router.get("/testcases/{test_case_id}", response_model=TestCaseView)
async def get_test_case(test_case_id: uuid.UUID, session: SessionDep, actor: ViewerDep) -> TestCaseView:
    return await service.test_case_view(session, test_case_id)


@router.get("/runs/{run_id}/evidence", response_model=Evidence)
async def get_run_evidence(
    run_id: uuid.UUID, transactions: TransactionsDep, actor: ViewerDep, settings: SettingsDep
) -> Evidence:
    return await service.run_evidence(transactions, settings, run_id)


@router.get("/search", response_model=SearchHits)
async def search(
    project_id: uuid.UUID,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    transactions: TransactionsDep,
    actor: ViewerDep,
    settings: SettingsDep,
    kind: Literal["openapi", "markdown", "failure"] | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 8,
) -> SearchHits:
    """Hybrid search of the project's documents (API descriptions, Markdown, explained failures)."""
    return await service.search(transactions, settings, project_id, q, kind, limit)


@router.get("/environments/{environment_id}/entities", response_model=Entities)
async def entities(
    environment_id: uuid.UUID,
    session: SessionDep,
    actor: ViewerDep,
    operation: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Entities:
    """What runs recently created in the environment (the data ledger), newest first."""
    return await service.entities(session, environment_id, operation, limit)
