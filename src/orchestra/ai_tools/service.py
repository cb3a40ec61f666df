"""What the tool endpoints answer. Everything is read through the caller's session, so row-level security
limits a delegation token to its tenant and project; secret values are never part of an answer."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.ai_tools import evidence, repository
from orchestra.ai_tools.schemas import (
    Entities,
    EnvironmentView,
    Evidence,
    EvidenceItemOut,
    LedgerEntity,
    PlanProblemOut,
    RunSummary,
    SearchHits,
    SimilarRun,
    TestCaseView,
)
from orchestra.config import Settings
from orchestra.db import Transactions
from orchestra.errors import NotFound
from orchestra.kit.egress import policy_of
from orchestra.models import Environment, StepResult
from orchestra.models.run_states import RunStatus
from orchestra.openapi.operations import Catalogue
from orchestra.openapi.repository import load_catalogue
from orchestra.rag import retrieval
from orchestra.rag.embedders import embedder_for
from orchestra.testdata.plans.validate import parse_plan, validate_plan

FAILURE_KIND = "failure"
MAX_SIMILAR = 3
# Below this cosine similarity another failure is not worth a model's attention.
MIN_SIMILARITY = 0.3


async def environment_of(session: AsyncSession, environment_id: uuid.UUID) -> Environment:
    found = await repository.environment(session, environment_id)
    if found is None:
        raise NotFound(f"environment {environment_id} does not exist")
    return found


async def environment_view(session: AsyncSession, environment_id: uuid.UUID) -> EnvironmentView:
    found = await environment_of(session, environment_id)
    return EnvironmentView(
        id=found.id,
        name=found.name,
        base_url=found.base_url,
        allowed_hosts=list(found.allowed_hosts),
        variables=dict(found.variables),
        secret_names=sorted(found.secrets),
    )


async def catalogue_of(session: AsyncSession, environment: Environment) -> Catalogue:
    catalogue = await load_catalogue(session, environment.id)
    if catalogue is None:
        raise NotFound(f"environment '{environment.name}' has no OpenAPI description imported")
    return catalogue


async def catalogue_view(session: AsyncSession, environment_id: uuid.UUID) -> dict[str, Any]:
    return (await catalogue_of(session, await environment_of(session, environment_id))).to_json()


async def plan_problems(session: AsyncSession, environment_id: uuid.UUID, data: Any) -> list[PlanProblemOut]:
    """Every problem of a proposed plan against the environment's API description and egress policy."""
    environment = await environment_of(session, environment_id)
    catalogue = await catalogue_of(session, environment)
    plan, problems = parse_plan(data)
    if plan is not None:
        problems = validate_plan(plan, catalogue, policy_of(environment))
    return [PlanProblemOut(**problem.to_json()) for problem in problems]


async def test_case_view(session: AsyncSession, test_case_id: uuid.UUID) -> TestCaseView:
    found = await repository.test_case_with_current_version(session, test_case_id)
    if found is None:
        raise NotFound(f"test case {test_case_id} does not exist")
    case, version = found
    return TestCaseView(id=case.id, name=case.name, version=version.version, definition=version.definition)


def _records(steps: list[StepResult]) -> list[evidence.EvidenceStep]:
    return [
        evidence.EvidenceStep(
            seq=step.seq,
            phase=step.phase,
            name=step.name,
            status=step.status,
            request=step.request,
            response=step.response,
            assertions=list(step.assertions or []),
            error=step.error,
        )
        for step in steps
    ]


def failure_text(status: str, status_reason: str | None, steps: list[evidence.EvidenceStep]) -> str:
    """How a failure reads for similarity search and for the failure document (see assistant/service.py):
    the reason, the failing step and its failed expectations."""
    lines = [f"Run {status}: {status_reason or 'no reason recorded'}"]
    step = evidence.failing_step(steps)
    if step is not None:
        lines.append(f"Failing step: {step.name} ({step.status}){': ' + step.error if step.error else ''}")
        for expectation in evidence.failed_expectations(step)[:5]:
            lines.append(f"Failed expectation: {expectation.get('message') or expectation.get('check')}")
    return "\n".join(lines)


async def similar_failures(
    transactions: Transactions, settings: Settings, project_id: uuid.UUID, run_id: uuid.UUID, text: str
) -> list[evidence.SimilarFailure]:
    """Explained failures of other runs of the project whose text is nearest to this one's (the text is
    embedded before the transaction opens)."""
    vector = await retrieval.query_vector(embedder_for(settings), text)
    async with transactions() as session:
        hits = await retrieval.similar(
            session,
            project_id=project_id,
            vector=vector,
            kind=FAILURE_KIND,
            limit=MAX_SIMILAR * 2,
            exclude_sources=[str(run_id)],
        )
    found: dict[str, evidence.SimilarFailure] = {}
    for hit in hits:
        if hit.score >= MIN_SIMILARITY and hit.source not in found:
            found[hit.source] = evidence.SimilarFailure(hit.source, round(hit.score, 4), hit.excerpt)
    return list(found.values())[:MAX_SIMILAR]


async def run_evidence(transactions: Transactions, settings: Settings, run_id: uuid.UUID) -> Evidence:
    """The evidence of a run (meant for failed ones; a passed run has little to show)."""
    async with transactions() as session:
        found = await repository.run_with_names(session, run_id)
        if found is None:
            raise NotFound(f"run {run_id} does not exist")
        run, test_case, environment = found
        assert run.test_case_id is not None  # found with its test case
        steps = _records(await repository.steps_of(session, run.id))
        passing = await repository.last_passing_run(
            session, run.test_case_id, run.environment_id, run.created_at
        )
        passing_steps = _records(await repository.steps_of(session, passing.id)) if passing else []
    text = failure_text(run.status.value, run.status_reason, steps)
    similar = await similar_failures(transactions, settings, run.project_id, run.id, text)
    items = evidence.assemble(
        run_id=str(run.id),
        status=run.status.value,
        status_reason=run.status_reason,
        steps=steps,
        last_passing_run_id=str(passing.id) if passing else None,
        last_passing_steps=passing_steps,
        similar=similar,
    )
    return Evidence(
        run=RunSummary(
            id=run.id,
            name=run.name,
            status=run.status.value,
            status_reason=run.status_reason,
            test_case=test_case,
            environment=environment,
        ),
        items=[EvidenceItemOut(**item.to_json()) for item in items],
        last_passing_run_id=str(passing.id) if passing else None,
        similar_runs=[SimilarRun(run_id=s.run_id, score=s.score, summary=s.summary) for s in similar],
    )


async def run_failure_text(
    session: AsyncSession, run_id: uuid.UUID
) -> tuple[uuid.UUID, RunStatus, str] | None:
    """The run's project, its status and its failure text (None: no such run visible)."""
    found = await repository.run_with_names(session, run_id)
    if found is None:
        return None
    run = found[0]
    return (
        run.project_id,
        run.status,
        failure_text(
            run.status.value, run.status_reason, _records(await repository.steps_of(session, run.id))
        ),
    )


async def search(
    transactions: Transactions,
    settings: Settings,
    project_id: uuid.UUID,
    query: str,
    kind: str | None,
    limit: int,
) -> SearchHits:
    vector = await retrieval.query_vector(embedder_for(settings), query)  # before the transaction opens
    async with transactions() as session:
        if await repository.project(session, project_id) is None:
            raise NotFound(f"project {project_id} does not exist")
        hits = await retrieval.search(
            session,
            project_id=project_id,
            query=query,
            vector=vector,
            kinds=[kind] if kind else None,
            limit=limit,
        )
    return SearchHits(hits=[hit.to_json() for hit in hits])


async def entities(
    session: AsyncSession, environment_id: uuid.UUID, operation: str | None, limit: int
) -> Entities:
    await environment_of(session, environment_id)
    rows = await repository.recent_entities(session, environment_id, operation, limit)
    return Entities(
        entities=[
            LedgerEntity(
                operation=row.operation,
                label=row.label,
                resource=row.resource,
                status=row.status,
                created_at=row.created_at.isoformat(),
                run_id=str(row.test_run_id) if row.test_run_id else None,
            )
            for row in rows
        ]
    )
