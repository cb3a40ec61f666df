"""``/v1/plan``: the Ollama planner when a model is configured, the built-in planner otherwise, and the
built-in planner again whenever the model cannot deliver (with a notice saying why), so that a run never
waits on a model that is down."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from pydantic import ValidationError

from orchestra.ai.api_tools import ApiTools
from orchestra.ai.ollama_chat import ModelClient, ModelUnavailable
from orchestra.ai.ollama_planner import plan_with_model
from orchestra.ai_client.messages import PlanRequest, PlanResponse
from orchestra.config import Settings
from orchestra.definitions.testcase_model import DataRequirements
from orchestra.errors import InvalidInput
from orchestra.kit import metrics
from orchestra.openapi.operations import Catalogue
from orchestra.testdata.planner.builtin import plan_for
from orchestra.testdata.planner.refusals import Lessons, repair_lessons

log = structlog.get_logger(__name__)
BUILTIN = "builtin"


async def load_catalogue(api: ApiTools, environment_id: str) -> Catalogue:
    data = await api.catalogue(environment_id)
    if data is None:
        raise InvalidInput("no OpenAPI description is imported for this environment; import one first")
    try:
        return Catalogue.from_json(data)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"the environment's catalogue could not be read: {error}") from error


def builtin_plan(
    request: PlanRequest, environment: dict[str, Any], catalogue: Catalogue, learnt: Lessons | None = None
) -> dict[str, Any]:
    """``learnt``: what the SUT's refusals of earlier plans taught (``lessons_of``)."""
    try:
        requirements = DataRequirements.model_validate(request.test_case.requirements)
    except ValidationError as error:
        raise InvalidInput(f"test_case.requirements: {error.errors()[0]['msg']}") from error
    seed = request.seed if request.seed is not None else requirements.seed
    try:
        plan = plan_for(
            requirements,
            catalogue,
            environment=dict(environment.get("variables") or {}),
            secret_names=list(environment.get("secret_names") or []),
            seed=seed,
            learnt=learnt,
        )
    except (KeyError, LookupError, ValueError) as error:
        raise InvalidInput(f"the built-in planner could not make a plan: {error}") from error
    return plan.model_dump(mode="json", by_alias=True, exclude_defaults=False, exclude_none=True)


def lessons_of(request: PlanRequest, catalogue: Catalogue) -> tuple[Lessons, list[str]]:
    """For a repair: what the failed plan's notes say was learnt before, with what its refusals teach now
    (the new lessons, one line each)."""
    if request.repair is None:
        return Lessons(), []
    notes = request.repair.plan.get("notes")
    failures = [failure.model_dump() for failure in request.repair.failures]
    return repair_lessons(notes if isinstance(notes, list) else [], failures, catalogue)


def model_budget_s(settings: Settings) -> float:
    """How long the model may take for one whole answer: less than the API waits for the ai-service
    (``ai_timeout_s``), so that the built-in fallback still reaches the API in time."""
    return max(1.0, settings.ai_timeout_s * 0.75)


async def make_plan(
    request: PlanRequest, api: ApiTools, model: ModelClient | None, settings: Settings
) -> PlanResponse:
    """A plan, timed by the planner that made it (``orchestra_ai_plan_duration_seconds``)."""
    started = time.monotonic()
    response = await _make_plan(request, api, model, settings)
    planner = metrics.PLANNERS[0] if response.planner == BUILTIN else metrics.PLANNERS[1]
    metrics.AI_PLAN_DURATION.labels(planner).observe(time.monotonic() - started)
    return response


async def _make_plan(
    request: PlanRequest, api: ApiTools, model: ModelClient | None, settings: Settings
) -> PlanResponse:
    environment = await api.environment(request.environment_id)
    catalogue = await load_catalogue(api, request.environment_id)
    notices: list[str] = []
    if model is not None:
        budget = model_budget_s(settings)
        try:
            async with asyncio.timeout(budget):
                outcome = await plan_with_model(
                    request, environment, catalogue, api, model, settings.planner_repair_attempts
                )
        except TimeoutError:
            metrics.AI_PLAN_FALLBACKS.labels("timeout").inc()
            notices.append(f"The model took longer than {budget:g}s; the built-in planner made this plan.")
        except ModelUnavailable as error:
            log.warning("ai.model_unavailable", reason=str(error))
            metrics.AI_PLAN_FALLBACKS.labels("unavailable").inc()
            notices.append(f"{error}; the built-in planner made this plan instead.")
        else:
            if outcome.plan is not None:
                return PlanResponse(plan=outcome.plan, planner=model.label, notices=outcome.notices)
            metrics.AI_PLAN_FALLBACKS.labels("invalid").inc()
            notices.append(
                f"The model {model.model} gave {outcome.reason}; the built-in planner made this plan."
            )
    lessons, new = lessons_of(request, catalogue)
    if request.repair is not None:
        notices.append(
            f"The built-in planner learnt from the SUT's refusals: {'; '.join(new)}."
            if new
            else "The SUT's refusals name no field of the bodies they refused; this is a fresh plan."
        )
    plan = builtin_plan(request, environment, catalogue, lessons)
    return PlanResponse(plan=plan, planner=BUILTIN, notices=notices)
