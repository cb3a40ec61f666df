"""The data ledger over HTTP: what runs created in an environment's SUT, and sweeping it on demand."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from orchestra.api_deps import EditorDep, SecretsDep, SessionDep, SettingsDep, ViewerDep
from orchestra.kit.pagination import Page, PageParams
from orchestra.ledger import service
from orchestra.ledger.schemas import LedgerEntryOut, LedgerStatus, SweepReportOut

router = APIRouter(tags=["ledger"])


@router.get("/projects/{project}/environments/{environment}/ledger", response_model=Page[LedgerEntryOut])
async def environment_ledger(
    project: str,
    environment: str,
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    status: Annotated[LedgerStatus | None, Query()] = None,
) -> Page[LedgerEntryOut]:
    return await service.of_environment(session, actor, project, environment, status, page)


@router.post("/projects/{project}/environments/{environment}/sweep", response_model=SweepReportOut)
async def sweep_environment(
    project: str,
    environment: str,
    session: SessionDep,
    actor: EditorDep,
    settings: SettingsDep,
    secrets: SecretsDep,
) -> SweepReportOut:
    return await service.sweep(session, actor, project, environment, secrets, settings)


@router.get("/runs/{run_id}/ledger", response_model=list[LedgerEntryOut])
async def run_ledger(run_id: uuid.UUID, session: SessionDep, actor: ViewerDep) -> list[LedgerEntryOut]:
    return await service.of_run(session, actor, run_id)
