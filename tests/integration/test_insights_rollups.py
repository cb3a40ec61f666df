"""The daily rollups of migration 0028 in the real PostgreSQL: the operations page read from
``operation_days`` equals the one computed from the steps (calls and errors exactly, latency percentiles
within operation_rollups.RELATIVE_ERROR) on crafted histories over many days: verdicts given after the steps
were written, cancelled and unfinished runs, latencies of 0 ms and of minutes, every kind of HTTP answer,
runs deleted by retention and a verdict given by the reaper; the trends by day and week read from
``trend_days`` (migration 0029) equal those computed from the runs (runs and passes exactly, duration
percentiles within the same bound) on histories with runs on both sides of midnights, verdicts and ends
given late, verdicts taken back, runs re-dated, retention and the reaper; and the migrations' backfill of
an existing history gives the rollups the triggers keep."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.insights import operation_rollups, repository, service, trend_rollups, trends
from orchestra.insights.trends import Scope
from orchestra.kit.pagination import PageParams
from orchestra.migrate import alembic_config
from orchestra.models import Project, StepResult, TestCase, TestCaseVersion, TestRun
from orchestra.retention import repository as retention
from orchestra.runtime import Runtime
from orchestra.scheduler import admission
from tests.integration.insights_history import History

STATUSES = ["PASSED", "PASSED", "FAILED", "ERROR", "TIMED_OUT", "CANCELLED", "IN_PROGRESS"]
URLS = [
    "http://127.0.0.1:9/orders/{n}/pay?x=1",
    "https://sut.example/orders/{n}",
    "http://127.0.0.1:9/customers/0f508291-fc29-4787-bc08-64ca4bae71ef/cards",
    "http://127.0.0.1:9/",
    "/health#top",
]
ANSWERS: list[Any] = [200, 201, 404, 500, 503, "oops", None]


async def calls_history(runtime: Runtime, project: str, environments: list[uuid.UUID], seed: int) -> None:
    """Runs over 40 days (some written unfinished and given their verdict after their steps), each with a
    few calls of random operations, latencies and answers."""
    rng = random.Random(seed)
    tenant = runtime.tenant_id
    late: dict[uuid.UUID, str] = {}
    async with runtime.db.transaction(tenant) as session:
        project_id = (await session.execute(select(Project.id).where(Project.name == project))).scalar_one()
        found = await session.execute(
            select(TestCase.id, TestCaseVersion.id)
            .join(TestCaseVersion, TestCaseVersion.test_case_id == TestCase.id)
            .where(TestCase.project_id == project_id)
        )
        cases = [(case_id, version_id) for case_id, version_id in found]
        at = datetime.now(UTC) - timedelta(days=40)
        for _ in range(160):
            at += timedelta(minutes=rng.randrange(0, 720))
            case_id, version_id = rng.choice(cases)
            status = rng.choice(STATUSES)
            calls = rng.randrange(4)
            # the executor writes steps only to a run in progress, and gives the verdict after them
            written = "IN_PROGRESS" if calls or rng.random() < 0.3 else status
            run = TestRun(
                id=uuid.uuid4(),
                tenant_id=tenant,
                project_id=project_id,
                test_case_id=case_id,
                test_case_version_id=version_id,
                environment_id=rng.choice(environments),
                name="run",
                status=written,
                priority=0,
                queue_key=0.0,
                trigger="api",
                attempt=1,
                fencing_token=1,
                cancel_requested=False,
                variables={},
                context={},
                created_at=at,
            )
            session.add(run)
            await session.flush()
            if written != status:
                late[run.id] = status
            for seq in range(calls):
                answer = rng.choice(ANSWERS)
                session.add(
                    StepResult(
                        tenant_id=tenant,
                        test_run_id=run.id,
                        seq=seq,
                        phase="main",
                        name=f"call{seq}",
                        status=rng.choice(["passed", "failed", "skipped"]),
                        attempts=1,
                        fencing_token=1,
                        request=None
                        if rng.random() < 0.1
                        else {
                            "method": rng.choice(["get", "POST", None]),
                            "url": rng.choice(URLS).format(n=rng.randrange(100)),
                        },
                        response=None if answer is None else {"status": answer},
                        assertions=[],
                        started_at=at,
                        duration_ms=rng.choice([0.0, 0.4, 12.5, 250.0, 61_000.0, rng.uniform(1, 5000)]),
                    )
                )
    async with runtime.db.transaction(tenant) as session:  # the executor's verdicts, after the steps
        for run_id, status in late.items():
            await session.execute(update(TestRun).where(TestRun.id == run_id).values(status=status))


async def both_ways(runtime: Runtime, scope: Scope) -> None:
    """The operations page from the rollup equals the one from the steps (within the bound)."""
    async with runtime.db.transaction(runtime.tenant_id) as session:
        sql, params = trends.operations_sql(scope, 1000, 0)
        exact = await repository.rows(session, sql, params)
        rolled = (await service.operations_page(session, scope, PageParams(limit=200))).items
    assert exact, "the window has calls"
    assert [(row["method"], row["path"], row["calls"], row["errors"]) for row in exact] == [
        (item.method, item.path, item.calls, item.errors) for item in rolled
    ]
    for row, item in zip(exact, rolled, strict=True):
        for value, estimate in ((row["p50"], item.latency_p50_ms), (row["p95"], item.latency_p95_ms)):
            assert estimate is not None
            assert abs(estimate - value) <= operation_rollups.RELATIVE_ERROR * value + 0.0005, (row, item)


@pytest.mark.parametrize("seed", range(3))
async def test_operations_from_the_rollup_equal_those_from_the_steps(
    api: httpx.AsyncClient, runtime: Runtime, seed: int
) -> None:
    history = History(api, runtime, f"calls{seed}")
    await history.setup("a", "b", environments=("sut", "staging"))
    environments = list(history.environments.values())
    await calls_history(runtime, f"calls{seed}", environments, seed)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        project_id = (
            await session.execute(select(Project.id).where(Project.name == f"calls{seed}"))
        ).scalar_one()
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date(), datetime.min.time(), UTC)
    scopes = [
        Scope(runtime.tenant_id, project_id, now - timedelta(days=30)),  # from mid-day
        Scope(runtime.tenant_id, project_id, midnight - timedelta(days=20)),  # from midnight
        # early and late in a day: its part before the window subtracted from it, or its part in the window
        Scope(runtime.tenant_id, project_id, midnight - timedelta(days=20, hours=21)),
        Scope(runtime.tenant_id, project_id, midnight - timedelta(days=20, hours=3)),
        Scope(runtime.tenant_id, project_id, now - timedelta(days=30), environment_id=environments[0]),
    ]
    for scope in scopes:
        await both_ways(runtime, scope)

    # retention deletes the oldest runs (their steps first, then the runs)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        oldest = (
            await session.execute(
                select(TestRun.id)
                .where(TestRun.project_id == project_id, TestRun.created_at < now - timedelta(days=25))
                .where(TestRun.status.in_(["PASSED", "FAILED", "ERROR", "CANCELLED", "TIMED_OUT"]))
            )
        ).scalars()
        chosen = list(oldest)
        await retention.delete_steps(session, chosen, 100_000)
        await retention.delete_runs(session, chosen, [])
    for scope in scopes:
        await both_ways(runtime, scope)

    # the reaper ends a run in ERROR after its last attempt: counted from its steps (operation_backlog)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        run_id = (
            (
                await session.execute(
                    select(TestRun.id).where(
                        TestRun.project_id == project_id, TestRun.status == "IN_PROGRESS"
                    )
                )
            )
            .scalars()
            .first()
        )
        if run_id is None:  # every run got its verdict: leave one in progress
            run_id = (
                (
                    await session.execute(
                        select(TestRun.id).where(
                            TestRun.project_id == project_id, TestRun.status == "CANCELLED"
                        )
                    )
                )
                .scalars()
                .first()
            )
        assert run_id is not None
        await session.execute(
            update(TestRun)
            .where(TestRun.id == run_id)
            .values(status="IN_PROGRESS", attempt=3, lease_expires_at=now - timedelta(minutes=1))
        )
        steps = await session.execute(select(StepResult.id).where(StepResult.test_run_id == run_id))
        if not steps.first():
            session.add(
                StepResult(
                    tenant_id=runtime.tenant_id,
                    test_run_id=run_id,
                    seq=9,
                    phase="main",
                    name="reaped",
                    status="error",
                    attempts=1,
                    fencing_token=1,
                    request={"url": "http://127.0.0.1:9/reaped"},
                    response=None,
                    assertions=[],
                    started_at=now,
                    duration_ms=30_000.0,
                )
            )
    async with runtime.db.engine.begin() as conn:
        await admission.reap_expired(conn, 3)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        run = await session.get(TestRun, run_id)
        assert run is not None
        assert run.status == "ERROR"
        backlog = await session.execute(
            text("SELECT count(*) FROM operation_backlog WHERE test_run_id = :r"), {"r": run_id}
        )
        assert backlog.scalar_one() == 1
    for scope in scopes:
        await both_ways(runtime, scope)


def _migrate(connection: Connection, direction: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


ROLLUPS = {
    "flakiness_days": "project_id, test_case_id, environment_id, test_case_version_id, day",
    "step_flakiness_days": "project_id, test_case_id, environment_id, test_case_version_id, day, phase, name",
    "operation_days": "project_id, environment_id, day, method, path, bucket",
    "trend_days": "project_id, environment_id, day, bucket",
}


async def test_the_backfill_gives_the_rollups_the_triggers_keep(
    api: httpx.AsyncClient, runtime: Runtime, owner_database_url: str
) -> None:
    history = History(api, runtime, "backfilled")
    await history.setup("a", "b", environments=("sut", "staging"))
    await calls_history(runtime, "backfilled", list(history.environments.values()), 7)
    await history.runs("a", "PFPPFCFP")
    engine = create_async_engine(owner_database_url)
    try:
        async with engine.connect() as conn:
            kept = {
                table: (
                    await conn.execute(
                        text(f"SELECT * FROM {table} WHERE runs > 0 ORDER BY {key}")
                        if table != "operation_days"
                        else text(f"SELECT * FROM {table} WHERE calls > 0 ORDER BY {key}")
                    )
                ).all()
                for table, key in ROLLUPS.items()
            }
            assert all(kept.values())
            await conn.run_sync(_migrate, "downgrade", "0027")  # and 0029
            await conn.run_sync(_migrate, "upgrade", "head")
            await conn.commit()
            for table, key in ROLLUPS.items():
                counted = "calls" if table == "operation_days" else "runs"
                found = await conn.execute(text(f"SELECT * FROM {table} WHERE {counted} > 0 ORDER BY {key}"))
                assert found.all() == kept[table], table
    finally:
        await engine.dispose()


DURATIONS: list[timedelta | None] = [
    None,
    timedelta(0),
    timedelta(microseconds=400),
    timedelta(milliseconds=250),
    timedelta(minutes=3),
]


async def trend_history(
    runtime: Runtime, project: str, environments: list[uuid.UUID], seed: int
) -> uuid.UUID:
    """Runs over the past 40 days, many of them on either side of a UTC midnight, with every verdict and
    durations of none, 0 ms, under a millisecond and minutes; some written unfinished and given their
    verdict (and end) later. Returns the project's id."""
    rng = random.Random(seed)
    tenant = runtime.tenant_id
    late: dict[uuid.UUID, tuple[str, datetime | None]] = {}
    async with runtime.db.transaction(tenant) as session:
        project_id = (await session.execute(select(Project.id).where(Project.name == project))).scalar_one()
        found = await session.execute(
            select(TestCase.id, TestCaseVersion.id)
            .join(TestCaseVersion, TestCaseVersion.test_case_id == TestCase.id)
            .where(TestCase.project_id == project_id)
        )
        cases = [(case_id, version_id) for case_id, version_id in found]
        today = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), UTC)
        for _ in range(300):
            if rng.random() < 0.3:  # at a day's boundary
                at = (
                    today
                    - timedelta(days=rng.randrange(1, 41))
                    + rng.choice([-timedelta(microseconds=1), timedelta(0), timedelta(microseconds=1)])
                )
            else:
                at = today - timedelta(days=40) + timedelta(seconds=rng.randrange(40 * 86400))
            case_id, version_id = rng.choice(cases)
            status = rng.choice(STATUSES)
            calls = rng.randrange(4)
            # the executor writes steps only to a run in progress, and gives the verdict after them
            written = "IN_PROGRESS" if calls or rng.random() < 0.3 else status
            duration = rng.choice([*DURATIONS, timedelta(milliseconds=rng.uniform(1, 5000))])
            finished = None if duration is None else at + duration
            run = TestRun(
                id=uuid.uuid4(),
                tenant_id=tenant,
                project_id=project_id,
                test_case_id=case_id,
                test_case_version_id=version_id,
                environment_id=rng.choice(environments),
                name="run",
                status=written,
                priority=0,
                queue_key=0.0,
                trigger="api",
                attempt=1,
                fencing_token=1,
                cancel_requested=False,
                variables={},
                context={},
                created_at=at,
                started_at=at,
                finished_at=None if written != status else finished,
            )
            session.add(run)
            if written != status:
                late[run.id] = (status, finished)
    async with runtime.db.transaction(tenant) as session:  # the executor's verdicts, later
        for run_id, (status, finished) in late.items():
            await session.execute(
                update(TestRun).where(TestRun.id == run_id).values(status=status, finished_at=finished)
            )
    return project_id


async def same_trends(runtime: Runtime, scope: Scope, bucket: str) -> None:
    """The trends from the rollup equal those from the runs: counts exactly, percentiles within the bound."""
    async with runtime.db.transaction(runtime.tenant_id) as session:
        sql, params = trends.buckets_sql(scope, bucket)
        exact = await repository.rows(session, sql, params)
        found = (await service.trends_of(session, scope, bucket)).buckets
    assert exact, "the window has runs"
    assert [(row["start"], row["runs"], row["passes"]) for row in exact] == [
        (item.start, item.runs, item.passes) for item in found
    ]
    for row, item in zip(exact, found, strict=True):
        for value, estimate in ((row["p50"], item.duration_p50_ms), (row["p95"], item.duration_p95_ms)):
            if value is None:
                assert estimate is None, (row, item)
            else:
                assert estimate is not None, (row, item)
                assert abs(estimate - value) <= operation_rollups.RELATIVE_ERROR * value + 0.0005, (row, item)


@pytest.mark.parametrize("seed", range(3))
async def test_trends_from_the_rollup_equal_those_from_the_runs(
    api: httpx.AsyncClient, runtime: Runtime, seed: int
) -> None:
    history = History(api, runtime, f"trends{seed}")
    await history.setup("a", "b", environments=("sut", "staging"))
    environments = list(history.environments.values())
    project_id = await trend_history(runtime, f"trends{seed}", environments, seed)
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date(), datetime.min.time(), UTC)
    scopes = [
        Scope(runtime.tenant_id, project_id, now - timedelta(days=30)),  # from mid-day
        Scope(runtime.tenant_id, project_id, midnight - timedelta(days=20)),  # from midnight
        Scope(runtime.tenant_id, project_id, midnight - timedelta(days=20, microseconds=1)),
        # early and late in a day: its part before the window subtracted from it, or its part in the window
        Scope(runtime.tenant_id, project_id, midnight - timedelta(days=20, hours=21)),
        Scope(runtime.tenant_id, project_id, midnight - timedelta(days=20, hours=3)),
        Scope(
            runtime.tenant_id,
            project_id,
            midnight - timedelta(days=20, hours=23),
            environment_id=environments[1],
        ),
        Scope(runtime.tenant_id, project_id, now - timedelta(days=30), environment_id=environments[0]),
    ]

    async def all_equal() -> None:
        for scope in scopes:
            for bucket in ("day", "week"):
                assert trend_rollups.usable(scope, bucket)
                await same_trends(runtime, scope, bucket)

    await all_equal()

    # retention deletes the oldest runs, keeping their verdicts (run_verdicts): still counted
    async with runtime.db.transaction(runtime.tenant_id) as session:
        oldest = (
            await session.execute(
                select(TestRun.id)
                .where(TestRun.project_id == project_id, TestRun.created_at < now - timedelta(days=25))
                .where(TestRun.status.in_(["PASSED", "FAILED", "ERROR", "CANCELLED", "TIMED_OUT"]))
            )
        ).scalars()
        chosen = list(oldest)
        assert chosen
        await retention.delete_steps(session, chosen, 100_000)
        await retention.delete_runs(session, chosen, [])
        kept = await session.execute(
            text("SELECT count(*) FROM run_verdicts WHERE id = ANY(:runs)"), {"runs": chosen}
        )
        assert kept.scalar_one() > 0
    await all_equal()

    # a verdict taken back (re-run in place) and one re-dated across midnight
    async with runtime.db.transaction(runtime.tenant_id) as session:
        runs = (
            await session.execute(
                select(TestRun.id)
                .where(TestRun.project_id == project_id, TestRun.status.in_(["PASSED", "FAILED"]))
                .order_by(TestRun.created_at.desc())
                .limit(2)
            )
        ).scalars()
        taken_back, redated = list(runs)
        await session.execute(update(TestRun).where(TestRun.id == taken_back).values(status="IN_PROGRESS"))
        await session.execute(
            update(TestRun)
            .where(TestRun.id == redated)
            .values(created_at=midnight - timedelta(microseconds=1))
        )
    await all_equal()

    # the reaper ends a run in ERROR after its last attempt (as orchestra_system)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        await session.execute(
            update(TestRun)
            .where(TestRun.id == taken_back)
            .values(status="IN_PROGRESS", attempt=3, lease_expires_at=now - timedelta(minutes=1))
        )
    async with runtime.db.engine.begin() as conn:
        await admission.reap_expired(conn, 3)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        run = await session.get(TestRun, taken_back)
        assert run is not None
        assert run.status == "ERROR"
    await all_equal()

    # what the rollup cannot serve is computed from the runs
    case_scope = Scope(runtime.tenant_id, project_id, now - timedelta(days=30), test_case_id=uuid.uuid4())
    assert not trend_rollups.usable(case_scope, "day")
    assert not trend_rollups.usable(scopes[0], "hour")
