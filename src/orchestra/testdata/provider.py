"""Which DataPlan a run uses: the pinned one, else the one cached for this test-case version and API
description, else a new one from the ai-service — checked here again before it is stored, because a plan
is about to send requests to someone's system. When the ai-service cannot answer, the built-in planner runs
in-process and the plan says so in a notice: a run is never blocked by a missing model.

No database connection is held while a planner works: the facts are read in one transaction and the plan
is stored in another.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.ai_client.client import AiClient, AiRefused, AiUnavailable
from orchestra.ai_client.delegation import Delegation
from orchestra.config import Settings
from orchestra.db import Database
from orchestra.definitions.testcase_model import DataRequirements
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.secret_box import SecretBox
from orchestra.models import Environment, Project, StoredDataPlan, TestCase
from orchestra.openapi.operations import Catalogue
from orchestra.openapi.repository import load_catalogue
from orchestra.testdata import plan_cache
from orchestra.testdata.planner import builtin as builtin_planner
from orchestra.testdata.planner.refusals import Lessons, repair_lessons
from orchestra.testdata.planner.undo import left_behind
from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.plans.validate import parse_plan, validate_plan

log = structlog.get_logger(__name__)

MAX_FAILURE_BODY = 2048
MAX_PROBLEMS_SHOWN = 5
_ISSUER = "orchestra"


@dataclass(frozen=True, slots=True)
class PreparedPlan:
    plan: DataPlan
    catalogue: Catalogue
    planner: str  # "pinned" | "cached:<planner>" | "builtin" | "ollama:<model>"
    notices: tuple[str, ...]
    plan_id: uuid.UUID | None  # row of data_plans, when stored


class PlanUnavailable(Exception):
    """No plan can be given; ``str(error)`` is a user-facing reason."""


@dataclass(frozen=True, slots=True)
class PlanTarget:
    """Whose plan: a test-case version in an environment of a project of a tenant."""

    tenant_id: uuid.UUID
    project_id: uuid.UUID
    test_case_id: uuid.UUID
    test_case_version_id: uuid.UUID
    environment_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Situation:
    """What planning needs to know, read in one transaction."""

    catalogue: Catalogue
    environment_name: str
    variables: dict[str, Any]
    secret_names: tuple[str, ...]
    policy: EgressPolicy
    test_case_name: str
    pinned: StoredDataPlan | None
    cached: StoredDataPlan | None


@dataclass(frozen=True, slots=True)
class Made:
    plan: DataPlan
    planner: str
    notices: tuple[str, ...]


def plan_json(plan: DataPlan) -> dict[str, Any]:
    """The plan as stored and sent: what was set (an explicit ``value: null`` stays, defaults are left to
    the reader), and its version always."""
    return {"version": plan.version, **plan.model_dump(mode="json", by_alias=True, exclude_unset=True)}


def _problems_text(problems: list[Any]) -> str:
    shown = "; ".join(str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN])
    more = len(problems) - MAX_PROBLEMS_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def _cut_failure(failure: dict[str, Any]) -> dict[str, Any]:
    body = failure.get("response_body")
    text = body if isinstance(body, str) or body is None else str(body)
    return {
        "binding": str(failure.get("binding", "")),
        "operation": str(failure.get("operation", "")),
        "status": failure.get("status"),
        "response_body": text[:MAX_FAILURE_BODY] if text else text,
        "reason": str(failure.get("reason", ""))[:MAX_FAILURE_BODY],
    }


async def read_situation(session: AsyncSession, target: PlanTarget) -> Situation:
    """The environment, its API description and the stored plans (PlanUnavailable without a description)."""
    environment = await session.get(Environment, target.environment_id)
    test_case = await session.get(TestCase, target.test_case_id)
    if environment is None or test_case is None:
        raise PlanUnavailable("the test case or the environment no longer exists")
    catalogue = await load_catalogue(session, environment.id)
    if catalogue is None:
        project = await session.get(Project, target.project_id)
        project_name = project.name if project else str(target.project_id)
        raise PlanUnavailable(
            f"environment '{environment.name}' has no OpenAPI description; import one: "
            f"PUT /api/v1/projects/{project_name}/environments/{environment.name}/openapi, "
            "or `orchestra run --openapi FILE|URL`"
        )
    return Situation(
        catalogue=catalogue,
        environment_name=environment.name,
        variables=dict(environment.variables),
        secret_names=tuple(sorted(environment.secrets)),
        policy=EgressPolicy.for_environment(
            environment.base_url,
            environment.allowed_hosts,
            environment.allow_private_network,
            environment.name,
        ),
        test_case_name=test_case.name,
        pinned=await plan_cache.pinned(session, target.test_case_id, target.environment_id),
        cached=await plan_cache.cached(
            session, target.test_case_version_id, target.environment_id, catalogue.spec_hash
        ),
    )


def checked_plan(data: Any, situation: Situation, *, leftovers: bool) -> DataPlan:
    """The plan when it is valid for this environment; PlanUnavailable listing its problems otherwise.
    Unless the test case allows leftovers (``leftovers``), a plan whose call creates something without a
    cleanup is refused too: nothing is ever left in the SUT silently, whoever made the plan."""
    plan, problems = parse_plan(data)
    if plan is not None:
        problems = validate_plan(plan, situation.catalogue, situation.policy)
    if plan is None or problems:
        raise PlanUnavailable(f"the planner's plan is not valid: {_problems_text(problems)}")
    left = [] if leftovers else left_behind(plan, situation.catalogue)
    if left:
        raise PlanUnavailable(
            f"the plan would leave what it creates in the SUT: {'; '.join(left)}; add the cleanup that "
            f"undoes it, or set data.leftovers: true in the test case to allow that"
        )
    return plan


class PlanProvider:
    def __init__(self, db: Database, settings: Settings, secrets: SecretBox) -> None:
        self.db = db
        self.settings = settings
        self.ai = AiClient(settings, Delegation(secrets))

    async def plan_for_run(
        self,
        *,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        test_case_id: uuid.UUID,
        test_case_version_id: uuid.UUID,
        environment_id: uuid.UUID,
        requirements: DataRequirements,
    ) -> PreparedPlan:
        target = PlanTarget(tenant_id, project_id, test_case_id, test_case_version_id, environment_id)
        async with self.db.transaction(tenant_id, project_id) as session:
            situation = await read_situation(session, target)
        stored = situation.pinned or situation.cached
        if stored is not None:
            try:
                plan = checked_plan(stored.plan, situation, leftovers=requirements.leftovers)
            except PlanUnavailable as error:
                if stored.pinned:
                    raise PlanUnavailable(
                        f"the pinned DataPlan no longer fits the API description: {error}; "
                        "edit it or unpin it"
                    ) from None
                log.warning("dataplan.cached_invalid", plan_id=str(stored.id))
            else:
                planner = "pinned" if stored.pinned else f"cached:{stored.planner}"
                return PreparedPlan(plan, situation.catalogue, planner, tuple(stored.notices), stored.id)
        made = await self.make(
            target, situation, requirements, subject=f"test case {situation.test_case_name}"
        )
        async with self.db.transaction(tenant_id, project_id) as session:
            row = await self.store(session, target, situation, made, created_by="planner")
        return PreparedPlan(made.plan, situation.catalogue, made.planner, made.notices, row.id)

    async def repair(
        self,
        prepared: PreparedPlan,
        *,
        tenant_id: uuid.UUID,
        project_id: uuid.UUID,
        test_case_id: uuid.UUID,
        test_case_version_id: uuid.UUID,
        environment_id: uuid.UUID,
        requirements: DataRequirements,
        failures: list[dict[str, Any]],
    ) -> PreparedPlan:
        """A new plan made knowing how ``prepared`` failed against the SUT. The failed plan is never kept
        in the cache; a pinned plan is a person's choice and is not replaced by a planner's. When the
        ai-service cannot answer, the built-in planner repairs it in-process with what the refusals name."""
        if prepared.planner == "pinned":
            raise PlanUnavailable(
                "the pinned DataPlan failed; edit it or unpin it to let a planner repair it"
            )
        target = PlanTarget(tenant_id, project_id, test_case_id, test_case_version_id, environment_id)
        async with self.db.transaction(tenant_id, project_id) as session:
            if prepared.plan_id is not None:
                await plan_cache.forget(session, prepared.plan_id)
            situation = await read_situation(session, target)
        body = self._plan_request(target, situation, requirements)
        body["repair"] = {
            "plan": plan_json(prepared.plan),
            "failures": [_cut_failure(failure) for failure in failures[:20]],
        }
        try:
            answer = await self.ai.plan(tenant_id, project_id, f"repair of {situation.test_case_name}", body)
        except AiUnavailable as error:
            log.warning("dataplan.ai_unavailable", reason=str(error))
            learnt, new = repair_lessons(prepared.plan.notes, body["repair"]["failures"], situation.catalogue)
            if not new:
                raise PlanUnavailable(
                    f"the DataPlan failed and cannot be repaired now: {error}; the SUT's refusals name no "
                    "field the built-in planner could send"
                ) from None
            notice = f"{error}; the built-in planner repaired the plan with what the SUT's refusals name"
            made = self._builtin(situation, requirements, notice, learnt)
        except AiRefused as error:
            raise PlanUnavailable(
                f"the DataPlan failed and the planner could not repair it: {error}"
            ) from None
        else:
            made = Made(
                checked_plan(answer.plan, situation, leftovers=requirements.leftovers),
                answer.planner,
                tuple(answer.notices),
            )
        async with self.db.transaction(tenant_id, project_id) as session:
            row = await self.store(session, target, situation, made, created_by="planner (repair)")
        return PreparedPlan(made.plan, situation.catalogue, made.planner, made.notices, row.id)

    async def forget(
        self, prepared: PreparedPlan, *, tenant_id: uuid.UUID, project_id: uuid.UUID | None
    ) -> None:
        """Drop a plan whose binding failed and was not repaired from the cache, so that the next run of
        the test case is given a new one; a pinned plan is a person's choice and stays."""
        if prepared.plan_id is None or prepared.planner == "pinned":
            return
        async with self.db.transaction(tenant_id, project_id) as session:
            await plan_cache.forget(session, prepared.plan_id)

    async def make(
        self, target: PlanTarget, situation: Situation, requirements: DataRequirements, *, subject: str
    ) -> Made:
        """A new, checked plan: from the ai-service, or from the built-in planner when it cannot answer."""
        body = self._plan_request(target, situation, requirements)
        try:
            answer = await self.ai.plan(target.tenant_id, target.project_id, subject, body)
        except AiUnavailable as error:
            log.warning("dataplan.ai_unavailable", reason=str(error))
            return self._builtin(situation, requirements, f"{error}; the built-in planner was used")
        except AiRefused as error:
            raise PlanUnavailable(f"no DataPlan can be made: {error.detail}") from None
        checked = checked_plan(answer.plan, situation, leftovers=requirements.leftovers)
        return Made(checked, answer.planner, tuple(answer.notices))

    @staticmethod
    def _builtin(
        situation: Situation, requirements: DataRequirements, notice: str, learnt: Lessons | None = None
    ) -> Made:
        """A checked plan of the built-in planner, in-process (``learnt``: what the SUT's refusals taught)."""
        try:
            plan = builtin_planner.plan_for(
                requirements,
                situation.catalogue,
                environment=situation.variables,
                secret_names=situation.secret_names,
                seed=requirements.seed,
                learnt=learnt,
            )
        except builtin_planner.PlanRefused as refused:
            raise PlanUnavailable(f"no DataPlan can be made: the built-in planner {refused}") from None
        checked = checked_plan(plan_json(plan), situation, leftovers=requirements.leftovers)
        return Made(checked, "builtin", (notice,))

    @staticmethod
    async def store(
        session: AsyncSession, target: PlanTarget, situation: Situation, made: Made, *, created_by: str
    ) -> StoredDataPlan:
        return await plan_cache.add(
            session,
            tenant_id=target.tenant_id,
            project_id=target.project_id,
            test_case_id=target.test_case_id,
            test_case_version_id=target.test_case_version_id,
            environment_id=target.environment_id,
            spec_hash=situation.catalogue.spec_hash,
            plan=plan_json(made.plan),
            planner=made.planner,
            notices=list(made.notices),
            pinned=False,
            created_by=created_by,
        )

    @staticmethod
    def _plan_request(
        target: PlanTarget, situation: Situation, requirements: DataRequirements
    ) -> dict[str, Any]:
        return {
            "project_id": str(target.project_id),
            "environment_id": str(target.environment_id),
            "test_case": {
                "id": str(target.test_case_id),
                "version_id": str(target.test_case_version_id),
                "name": situation.test_case_name,
                "requirements": requirements.model_dump(mode="json", exclude_none=True),
            },
            "seed": requirements.seed,
            "repair": None,
        }
