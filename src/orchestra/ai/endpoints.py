"""The ai-service's routes: parse, take the caller's delegation token, call one function, return a schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from orchestra.ai import analyst, chat, planning, suggest
from orchestra.ai.api_tools import ApiTools
from orchestra.ai.ollama_chat import ModelClient
from orchestra.ai_client.messages import (
    ChatRequest,
    ChatResponse,
    ExplainRequest,
    ExplainResponse,
    Health,
    PlanRequest,
    PlanResponse,
    SuggestRequest,
    SuggestResponse,
)
from orchestra.config import Settings
from orchestra.errors import Unauthorized

router = APIRouter()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def bearer_token(request: Request) -> str:
    """The delegation token the caller sent; it is only ever passed back to the API."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a delegation token is required (Authorization: Bearer …)", invalid_token=False)
    return token.strip()


async def api_tools(
    request: Request, token: Annotated[str, Depends(bearer_token)]
) -> AsyncIterator[ApiTools]:
    tools = ApiTools(_settings(request), token, transport=request.app.state.api_transport)
    try:
        yield tools
    finally:
        await tools.aclose()


async def model_client(request: Request) -> AsyncIterator[ModelClient | None]:
    model = ModelClient.from_settings(_settings(request))
    try:
        yield model
    finally:
        if model is not None:
            await model.aclose()


ToolsDep = Annotated[ApiTools, Depends(api_tools)]
ModelDep = Annotated[ModelClient | None, Depends(model_client)]


@router.get("/health", response_model=Health)
async def health(request: Request) -> Health:
    settings = _settings(request)
    return Health(model=settings.ollama_model if settings.ollama_url else None)


@router.post("/v1/plan", response_model=PlanResponse)
async def plan(body: PlanRequest, request: Request, api: ToolsDep, model: ModelDep) -> PlanResponse:
    return await planning.make_plan(body, api, model, _settings(request))


@router.post("/v1/explain", response_model=ExplainResponse)
async def explain(body: ExplainRequest, api: ToolsDep, model: ModelDep) -> ExplainResponse:
    return await analyst.explain(body.run_id, api, model)


@router.post("/v1/suggest", response_model=SuggestResponse)
async def suggest_cases(body: SuggestRequest, api: ToolsDep, model: ModelDep) -> SuggestResponse:
    return await suggest.suggest(body, api, model)


@router.post("/v1/chat", response_model=ChatResponse)
async def assistant(body: ChatRequest, request: Request, api: ToolsDep, model: ModelDep) -> ChatResponse:
    return await chat.chat(body, api, model, planning.model_budget_s(_settings(request)))
