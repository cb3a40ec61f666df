"""Flakiness computed in SQL equals its definition in Python (insights/flakiness.py) on random histories
in the real PostgreSQL: several test cases, environments and versions, every verdict and CANCELLED, runs
created at the same instant, automatic retries, the compact verdicts of deleted runs (no steps), skipped
steps, a step name twice in one run, steps passed on a later attempt, and runs outside the window."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from orchestra.insights import flakiness, flakiness_queries
from orchestra.insights.flakiness import RunObservation, StepObservation
from orchestra.insights.trends import Scope
from orchestra.models import Project, RunVerdict, StepResult, TestCase, TestCaseVersion, TestRun
from orchestra.runtime import Runtime
from tests.integration.insights_history import History

STATUSES = ["PASSED", "PASSED", "PASSED", "FAILED", "ERROR", "TIMED_OUT", "CANCELLED"]
STEP_NAMES = ["login", "pay", "poll"]


async def random_history(
    runtime: Runtime, project: str, environments: list[uuid.UUID], seed: int
) -> tuple[Scope, list[RunObservation]]:
    """Write a random history into the tables; return the scope (a 30-day window) and the observed runs."""
    rng = random.Random(seed)
    tenant = runtime.tenant_id
    now = datetime.now(UTC)
    since = now - timedelta(days=30)
    observed: list[RunObservation] = []
    async with runtime.db.transaction(tenant) as session:
        project_id = (await session.execute(select(Project.id).where(Project.name == project))).scalar_one()
        cases = (await session.execute(select(TestCase).where(TestCase.project_id == project_id))).scalars()
        for case in list(cases):
            versions = [
                (
                    await session.execute(
                        select(TestCaseVersion.id).where(TestCaseVersion.test_case_id == case.id)
                    )
                )
                .scalars()
                .one()
            ]
            for number in (2, 3)[: rng.randrange(3)]:
                version = TestCaseVersion(
                    id=uuid.uuid4(),
                    tenant_id=tenant,
                    test_case_id=case.id,
                    version=number,
                    definition={},
                    content_hash=f"h{number}",
                )
                session.add(version)
                versions.append(version.id)
            await session.flush()
            at = since - timedelta(hours=2)  # the first runs are outside the window
            last_failed: uuid.UUID | None = None
            for _ in range(rng.randrange(1, 40)):
                if rng.random() > 0.2:  # else the same instant as the run before
                    at += timedelta(minutes=rng.randrange(1, 90))
                status = rng.choice(STATUSES)
                run_id = uuid.uuid4()
                environment = rng.choice(environments)
                version_id = rng.choice(versions)
                retry_of = last_failed if status == "PASSED" and last_failed and rng.random() < 0.5 else None
                kept = rng.random() >= 0.15  # else deleted by retention: its verdict only
                if not kept:
                    session.add(
                        RunVerdict(
                            id=run_id,
                            tenant_id=tenant,
                            project_id=project_id,
                            test_case_id=case.id,
                            test_case_version_id=version_id,
                            environment_id=environment,
                            retry_of_id=retry_of,
                            status=status,
                            trigger="api",
                            attempt=1,
                            created_at=at,
                        )
                    )
                    steps: tuple[StepObservation, ...] = ()
                else:
                    session.add(
                        TestRun(
                            id=run_id,
                            tenant_id=tenant,
                            project_id=project_id,
                            test_case_id=case.id,
                            test_case_version_id=version_id,
                            environment_id=environment,
                            name=case.name,
                            status=status,
                            priority=0,
                            queue_key=0.0,
                            trigger="api",
                            attempt=1,
                            fencing_token=1,
                            cancel_requested=False,
                            variables={},
                            context={},
                            created_at=at,
                            retry_of_id=retry_of,
                        )
                    )
                    await session.flush()
                    steps = tuple(
                        StepObservation(
                            rng.choice(["main", "setup"]),
                            rng.choice(STEP_NAMES),
                            rng.choice(["passed", "passed", "failed", "error", "skipped"]),
                            rng.choice([1, 1, 2]),
                        )
                        for _ in range(rng.randrange(4))
                    )
                    for seq, step in enumerate(steps):
                        session.add(
                            StepResult(
                                tenant_id=tenant,
                                test_run_id=run_id,
                                seq=seq,
                                phase=step.phase,
                                name=step.name,
                                status=step.status,
                                attempts=step.attempts,
                                fencing_token=1,
                                assertions=[],
                                started_at=at,
                                duration_ms=1.0,
                            )
                        )
                last_failed = run_id if status == "FAILED" and kept else None  # a retry's is a kept run
                if at >= since:
                    observed.append(
                        RunObservation(run_id, case.id, environment, version_id, status, at, steps, retry_of)
                    )
    return Scope(tenant, project_id, since), observed


@pytest.mark.parametrize("seed", range(6))
async def test_sql_scores_equal_the_definition_on_random_histories(
    api: httpx.AsyncClient, runtime: Runtime, seed: int
) -> None:
    history = History(api, runtime, f"random{seed}")
    await history.setup("a", "b", "c", "d", environments=("sut", "staging"))
    scope, observed = await random_history(
        runtime, f"random{seed}", list(history.environments.values()), seed
    )
    expected = flakiness.score_cases(observed)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        counts = flakiness.flakiest_first(await flakiness_queries.case_counts(session, scope))
        cases = [case.test_case_id for case in counts]
        evidence = await flakiness_queries.evidence(session, scope, cases)
        steps = await flakiness_queries.step_scores(session, scope, cases)
    found = [
        flakiness.CaseScore.of(
            case,
            evidence.flips.get(case.test_case_id, []),
            evidence.retries.get(case.test_case_id, []),
            steps.get(case.test_case_id, []),
        )
        for case in counts
    ]
    assert expected, "the history has runs with a verdict in the window"
    assert found == expected
