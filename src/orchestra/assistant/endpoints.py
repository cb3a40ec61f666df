"""The assistant: explain a run, suggest test cases for an operation, chat about a project. Answers come
from the ai-service; when it cannot be reached the answer is a 503 problem saying so."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from orchestra.ai_client.messages import ChatResponse, ExplainResponse, SuggestResponse
from orchestra.api_deps import SecretsDep, SettingsDep, TransactionsDep, ViewerDep
from orchestra.assistant import service
from orchestra.assistant.schemas import ChatIn, SuggestIn

router = APIRouter(tags=["assistant"])


@router.post("/runs/{run_id}/explain", response_model=ExplainResponse)
async def explain_run(
    run_id: uuid.UUID,
    transactions: TransactionsDep,
    actor: ViewerDep,
    settings: SettingsDep,
    secrets: SecretsDep,
) -> ExplainResponse:
    return await service.explain(transactions, actor, settings, secrets, run_id)


@router.post("/projects/{project}/assistant/suggest", response_model=SuggestResponse)
async def suggest_test_cases(
    project: str,
    data: SuggestIn,
    transactions: TransactionsDep,
    actor: ViewerDep,
    settings: SettingsDep,
    secrets: SecretsDep,
) -> SuggestResponse:
    return await service.suggest(transactions, actor, settings, secrets, project, data)


@router.post("/projects/{project}/assistant/chat", response_model=ChatResponse)
async def chat(
    project: str,
    data: ChatIn,
    transactions: TransactionsDep,
    actor: ViewerDep,
    settings: SettingsDep,
    secrets: SecretsDep,
) -> ChatResponse:
    return await service.chat(transactions, actor, settings, secrets, project, data)
