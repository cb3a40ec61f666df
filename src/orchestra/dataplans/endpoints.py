"""``/projects/{project}/test-cases/{test_case}/dataplan``: review the plan runs use, regenerate it, pin an
edited one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status

from orchestra.api_deps import (
    DatabaseDep,
    EditorDep,
    SecretsDep,
    SessionDep,
    SettingsDep,
    TransactionsDep,
    ViewerDep,
)
from orchestra.dataplans import service
from orchestra.dataplans.schemas import DataPlanOut
from orchestra.testdata.provider import PlanProvider

router = APIRouter(prefix="/projects/{project}/test-cases/{test_case}/dataplan", tags=["dataplans"])
EnvironmentQuery = Annotated[str, Query(min_length=1, max_length=200, description="Environment id or name.")]


@router.get("", response_model=DataPlanOut)
async def get_dataplan(
    project: str, test_case: str, environment: EnvironmentQuery, session: SessionDep, actor: ViewerDep
) -> DataPlanOut:
    return await service.current(session, actor, project, test_case, environment)


@router.post("/generate", response_model=DataPlanOut, status_code=status.HTTP_201_CREATED)
async def generate_dataplan(
    project: str,
    test_case: str,
    environment: EnvironmentQuery,
    transactions: TransactionsDep,
    actor: EditorDep,
    database: DatabaseDep,
    settings: SettingsDep,
    secrets: SecretsDep,
) -> DataPlanOut:
    provider = PlanProvider(database, settings, secrets)
    return await service.generate(transactions, actor, provider, project, test_case, environment)


@router.put("", response_model=DataPlanOut)
async def pin_dataplan(
    project: str,
    test_case: str,
    environment: EnvironmentQuery,
    plan: Annotated[Any, Body(description="A DataPlan (version 1).")],
    session: SessionDep,
    actor: EditorDep,
) -> DataPlanOut:
    return await service.pin(session, actor, project, test_case, environment, plan)


@router.delete("/pin", status_code=status.HTTP_204_NO_CONTENT)
async def unpin_dataplan(
    project: str, test_case: str, environment: EnvironmentQuery, session: SessionDep, actor: EditorDep
) -> None:
    await service.unpin(session, actor, project, test_case, environment)
