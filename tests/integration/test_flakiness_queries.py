"""Flakiness computed in SQL equals its definition in Python (insights/flakiness.py) on random histories
in the real PostgreSQL: several test cases, environments and versions, every verdict and CANCELLED, runs
created at the same instant, automatic retries, the compact verdicts of deleted runs (no steps), skipped
steps, a step name twice in one run, steps passed on a later attempt, and runs outside the window. The same
from the daily rollup (flakiness_rollups.py, kept by the triggers of migration 0028) on histories that cross
days: runs at midnight exactly, several at the same instant across a day's end, runs given their verdict by
an update after they were written, and runs deleted by retention after the fact (their verdicts kept)."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select, text, update

from orchestra.insights import flakiness, flakiness_queries, flakiness_rollups
from orchestra.insights.flakiness import RunObservation, StepObservation
from orchestra.insights.trends import Scope
from orchestra.models import Project, RunVerdict, StepResult, TestCase, TestCaseVersion, TestRun
from orchestra.retention import repository as retention
from orchestra.runtime import Runtime
from tests.integration.insights_history import History

STATUSES = ["PASSED", "PASSED", "PASSED", "FAILED", "ERROR", "TIMED_OUT", "CANCELLED"]
STEP_NAMES = ["login", "pay", "poll"]


async def random_history(
    runtime: Runtime, project: str, environments: list[uuid.UUID], seed: int, days: bool = False
) -> tuple[Scope, list[RunObservation]]:
    """Write a random history into the tables; return the scope (a 30-day window) and the observed runs.
    With ``days``, the runs spread over days, some at midnight exactly, some written unfinished and then
    given their verdict, and every other seed's window starts at midnight."""
    rng = random.Random(seed)
    tenant = runtime.tenant_id
    now = datetime.now(UTC)
    since = now - timedelta(days=30)
    if days and seed % 2:
        since = datetime.combine(since.date(), time(), UTC)
    observed: list[RunObservation] = []
    unfinished: dict[uuid.UUID, str] = {}
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
                if days and rng.random() < 0.3:  # the next day (or the one after) at midnight exactly
                    at = datetime.combine(at.date(), time(), UTC) + timedelta(days=rng.randrange(1, 3))
                elif days and rng.random() < 0.2:  # hours later: across a day's end, often
                    at += timedelta(hours=rng.randrange(1, 30))
                elif rng.random() > 0.2:  # else the same instant as the run before
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
                    steps = tuple(
                        StepObservation(
                            rng.choice(["main", "setup"]),
                            rng.choice(STEP_NAMES),
                            rng.choice(["passed", "passed", "failed", "error", "skipped"]),
                            rng.choice([1, 1, 2]),
                        )
                        for _ in range(rng.randrange(4))
                    )
                    session.add(
                        TestRun(
                            id=run_id,
                            tenant_id=tenant,
                            project_id=project_id,
                            test_case_id=case.id,
                            test_case_version_id=version_id,
                            environment_id=environment,
                            name=case.name,
                            # the executor writes steps only to a run in progress, and gives the verdict after
                            status="IN_PROGRESS" if steps or (days and rng.random() < 0.3) else status,
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
                    run = await session.get(TestRun, run_id)
                    assert run is not None
                    if run.status != status:
                        unfinished[run_id] = status
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
    async with runtime.db.transaction(tenant) as session:  # the executor's verdicts, after the steps
        for run_id, status in unfinished.items():
            await session.execute(update(TestRun).where(TestRun.id == run_id).values(status=status))
    return Scope(tenant, project_id, since), observed


async def retire_some(runtime: Runtime, observed: list[RunObservation], seed: int) -> list[RunObservation]:
    """Delete some of the kept runs as retention does (their steps, then the runs, their verdicts kept),
    none that an automatic retry points at; the observed runs as they are seen then (without steps)."""
    rng = random.Random(seed)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        kept = set((await session.execute(select(TestRun.id))).scalars())
        retried = {run.retry_of for run in observed if run.retry_of}
        chosen = [
            run.id for run in observed if run.id in kept and run.id not in retried and rng.random() < 0.3
        ]
        await retention.delete_steps(session, chosen, 100_000)
        deleted, _ = await retention.delete_runs(session, chosen, [])
        assert deleted == len(chosen)
    gone = set(chosen)
    return [replace(run, steps=()) if run.id in gone else run for run in observed]


async def scored(runtime: Runtime, scope: Scope, rolled_up: bool) -> list[flakiness.CaseScore]:
    """What the flakiness page computes: from the runs, or from the daily rollup (with its bounded
    evidence)."""
    async with runtime.db.transaction(runtime.tenant_id) as session:
        counted = flakiness_rollups.case_counts if rolled_up else flakiness_queries.case_counts
        counts = flakiness.flakiest_first(await counted(session, scope))
        cases = [case.test_case_id for case in counts]
        if rolled_up:
            ends = await flakiness_rollups.evidence_ends(session, scope, cases)
            evidence = await flakiness_queries.evidence(session, scope, list(ends), ends)
        else:
            evidence = await flakiness_queries.evidence(session, scope, cases)
        step_scores = flakiness_rollups.step_scores if rolled_up else flakiness_queries.step_scores
        steps = await step_scores(session, scope, cases)
    return [
        flakiness.CaseScore.of(
            case,
            evidence.flips.get(case.test_case_id, []),
            evidence.retries.get(case.test_case_id, []),
            steps.get(case.test_case_id, []),
        )
        for case in counts
    ]


@pytest.mark.parametrize("rolled_up", [False, True], ids=["runs", "rollup"])
@pytest.mark.parametrize("seed", range(6))
async def test_sql_scores_equal_the_definition_on_random_histories(
    api: httpx.AsyncClient, runtime: Runtime, seed: int, rolled_up: bool
) -> None:
    history = History(api, runtime, f"random{seed}")
    await history.setup("a", "b", "c", "d", environments=("sut", "staging"))
    scope, observed = await random_history(
        runtime, f"random{seed}", list(history.environments.values()), seed
    )
    expected = flakiness.score_cases(observed)
    assert expected, "the history has runs with a verdict in the window"
    assert await scored(runtime, scope, rolled_up) == expected


@pytest.mark.parametrize("seed", range(6))
async def test_rollup_scores_equal_the_definition_across_days_and_retention(
    api: httpx.AsyncClient, runtime: Runtime, seed: int
) -> None:
    history = History(api, runtime, f"days{seed}")
    await history.setup("a", "b", "c", "d", environments=("sut", "staging"))
    scope, observed = await random_history(
        runtime, f"days{seed}", list(history.environments.values()), seed, days=True
    )
    expected = flakiness.score_cases(observed)
    assert expected, "the history has runs with a verdict in the window"
    assert {run.created_at.date() for run in observed} != {observed[0].created_at.date()}
    assert await scored(runtime, scope, rolled_up=True) == expected
    assert await scored(runtime, scope, rolled_up=False) == expected

    observed = await retire_some(runtime, observed, seed)
    expected = flakiness.score_cases(observed)
    assert await scored(runtime, scope, rolled_up=True) == expected
    assert await scored(runtime, scope, rolled_up=False) == expected
    async with runtime.db.transaction(runtime.tenant_id) as session:  # the rollup of the window itself
        found = await session.execute(
            text("SELECT count(*) FROM flakiness_days WHERE project_id = :p AND runs > 0"),
            {"p": scope.project_id},
        )
        assert found.scalar_one() > 0
