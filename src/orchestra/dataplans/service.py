"""Review, regenerate, edit and pin the DataPlan of a test case in an environment."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.dataplans.schemas import DataPlanOut
from orchestra.db import Transactions
from orchestra.definitions.testcase_model import TestCaseDefinition
from orchestra.environments import service as environments
from orchestra.errors import Conflict, InvalidInput, NotFound
from orchestra.models import StoredDataPlan
from orchestra.openapi.repository import load_catalogue
from orchestra.testcases import service as testcases
from orchestra.testdata import plan_cache
from orchestra.testdata.plans.validate import parse_plan, validate_plan
from orchestra.testdata.provider import (
    PlanProvider,
    PlanTarget,
    PlanUnavailable,
    Situation,
    plan_json,
    read_situation,
)

MAX_PROBLEMS_IN_DETAIL = 5


async def _target(
    session: AsyncSession, actor: Actor, project: str, test_case: str, environment: str
) -> tuple[PlanTarget, TestCaseDefinition | None]:
    case, version = await testcases.get(session, actor, project, test_case)
    where = await environments.get(session, actor, project, environment)
    target = PlanTarget(actor.tenant_id, case.project_id, case.id, version.id, where.id)
    try:
        definition = TestCaseDefinition.model_validate(version.definition)
    except ValidationError:
        definition = None  # stored before a format change; its plan can still be reviewed and pinned
    return target, definition


async def _situation(session: AsyncSession, target: PlanTarget) -> Situation:
    try:
        return await read_situation(session, target)
    except PlanUnavailable as error:
        raise Conflict(str(error)) from None


async def current(
    session: AsyncSession, actor: Actor, project: str, test_case: str, environment: str
) -> DataPlanOut:
    """The plan a run would use now: the pinned one, else the one cached for the current version and the
    environment's current API description."""
    target, _ = await _target(session, actor, project, test_case, environment)
    row = await plan_cache.pinned(session, target.test_case_id, target.environment_id)
    if row is None:
        catalogue = await load_catalogue(session, target.environment_id)
        if catalogue is not None:
            row = await plan_cache.cached(
                session, target.test_case_version_id, target.environment_id, catalogue.spec_hash
            )
    if row is None:
        raise NotFound(
            f"test case '{test_case}' has no DataPlan for environment '{environment}' yet; "
            "one is made at its next run, or now with POST .../dataplan/generate"
        )
    return DataPlanOut.of(row)


async def generate(
    transactions: Transactions,
    actor: Actor,
    provider: PlanProvider,
    project: str,
    test_case: str,
    environment: str,
) -> DataPlanOut:
    """Ask the planner now (whatever is cached) and keep its plan in the cache. No transaction is open
    while the planner works: the ai-service reads back through the API's tool endpoints."""
    async with transactions() as session:
        target, definition = await _target(session, actor, project, test_case, environment)
        requirements = definition.data if definition is not None else None
        if requirements is None or not requirements.declared:
            raise Conflict(
                f"test case '{test_case}' declares no data needs (data.requires, data.operations or "
                "data.schemas), so there is nothing to plan"
            )
        situation = await _situation(session, target)
    try:
        made = await provider.make(target, situation, requirements, subject=actor.name)
    except PlanUnavailable as error:
        raise Conflict(str(error)) from None
    async with transactions() as session:
        row = await provider.store(session, target, situation, made, created_by=actor.name)
    return DataPlanOut.of(row)


def plan_problems(data: Any, situation: Situation) -> list[dict[str, str]]:
    plan, problems = parse_plan(data)
    if plan is not None:
        problems = validate_plan(plan, situation.catalogue, situation.policy)
    return [problem.to_json() for problem in problems]


async def pin(
    session: AsyncSession, actor: Actor, project: str, test_case: str, environment: str, data: Any
) -> DataPlanOut:
    """Store a plan a person wrote or edited as the one every run uses (until unpinned); refused with
    every problem it has when it does not fit the environment's API description."""
    target, _ = await _target(session, actor, project, test_case, environment)
    situation = await _situation(session, target)
    problems = plan_problems(data, situation)
    if problems:
        shown = "; ".join(
            f"{p['path'] or '(plan)'}: {p['message']}" for p in problems[:MAX_PROBLEMS_IN_DETAIL]
        )
        more = len(problems) - MAX_PROBLEMS_IN_DETAIL
        raise InvalidInput(
            f"the DataPlan is invalid: {shown}" + (f" (and {more} more)" if more > 0 else ""),
            problems=problems,
        )
    plan, _ = parse_plan(data)
    assert plan is not None  # no problems means it parsed
    await plan_cache.lock_pin(session, target.test_case_id, target.environment_id)
    await plan_cache.unpin(session, target.test_case_id, target.environment_id)
    row: StoredDataPlan = await plan_cache.add(
        session,
        tenant_id=target.tenant_id,
        project_id=target.project_id,
        test_case_id=target.test_case_id,
        test_case_version_id=target.test_case_version_id,
        environment_id=target.environment_id,
        spec_hash=situation.catalogue.spec_hash,
        plan=plan_json(plan),
        planner="user",
        notices=[],
        pinned=True,
        created_by=actor.name,
    )
    return DataPlanOut.of(row)


async def unpin(session: AsyncSession, actor: Actor, project: str, test_case: str, environment: str) -> None:
    target, _ = await _target(session, actor, project, test_case, environment)
    if not await plan_cache.unpin(session, target.test_case_id, target.environment_id):
        raise NotFound(f"test case '{test_case}' has no pinned DataPlan for environment '{environment}'")
