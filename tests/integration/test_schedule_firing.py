"""Firing schedules with an injected clock: one suite run per due time (also under concurrent passes),
misfire policies, disabled schedules, empty suites, and the hook in the scheduler's pass."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from orchestra.app import create_app
from orchestra.config import Settings
from orchestra.models import Schedule, SuiteRun, TestRun
from orchestra.models.run_states import RunStatus
from orchestra.runtime import Runtime
from orchestra.schedules import firing
from orchestra.schedules.firing import DueSchedule, fire_at, fire_due
from tests.conftest import admin_headers_for
from tests.ports import refused_url

PROJECT = "shop"
T0 = datetime(2026, 5, 1, 10, 30, tzinfo=UTC)  # schedules are created at this time
DUE = datetime(2026, 5, 1, 11, tzinfo=UTC)  # the first fire time of an hourly schedule created at T0


@pytest.fixture
async def quiet(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime whose own scheduler and executor do not run: the test drives the passes."""
    runtime = await Runtime.start(settings, run_scheduler=False, run_executor=False)
    runtime.scheduler.clock = lambda: T0
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def client(settings: Settings, quiet: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, quiet))
    headers = await admin_headers_for(quiet, settings)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://orchestra.test/api/v1", headers=headers
    ) as http:
        step = {"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}
        documents = {
            "test_cases": [{"name": "health", "steps": [step]}, {"name": "login", "steps": [step]}],
            "suites": [
                {"suite": "smoke", "tests": ["health", "login"], "variables": {"user": "demo", "n": 1}}
            ],
        }
        response = await http.post(f"/projects/{PROJECT}/apply", json=documents)
        assert response.status_code == 200, response.text
        environment = {"base_url": refused_url()}
        response = await http.put(f"/projects/{PROJECT}/environments/staging", json=environment)
        assert response.status_code == 201, response.text
        yield http


async def create(
    client: httpx.AsyncClient, name: str, project: str = PROJECT, **fields: Any
) -> dict[str, Any]:
    body = {"name": name, "suite": "smoke", "environment": "staging", "cron": "0 * * * *", **fields}
    response = await client.post(f"/projects/{project}/schedules", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def state(runtime: Runtime, schedule_id: str) -> Schedule:
    async with runtime.db.transaction(runtime.tenant_id) as session:
        found = await session.get(Schedule, uuid.UUID(schedule_id))
        assert found is not None
        return found


async def scheduled_suite_runs(runtime: Runtime) -> list[SuiteRun]:
    async with runtime.db.transaction(runtime.tenant_id) as session:
        query = select(SuiteRun).where(SuiteRun.trigger == "schedule").order_by(SuiteRun.created_at)
        return list((await session.execute(query)).scalars())


async def fires(client: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    response = await client.get(f"/projects/{PROJECT}/schedules/{name}/fires", params={"limit": 500})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_due_schedule_fires_once_even_from_concurrent_passes(
    client: httpx.AsyncClient, quiet: Runtime
) -> None:
    created = await create(client, "hourly")
    assert created["next_fire_at"] == "2026-05-01T11:00:00Z"
    assert await fire_due(quiet.db, DUE - timedelta(seconds=1)) == []  # not yet
    now = DUE + timedelta(seconds=2)
    first, second = await asyncio.gather(fire_due(quiet.db, now), fire_due(quiet.db, now))
    assert len(first) + len(second) == 1
    suite_runs = await scheduled_suite_runs(quiet)
    assert [run.id for run in suite_runs] == first + second
    assert suite_runs[0].name == "smoke"
    history = await fires(client, "hourly")
    assert [(fire["fire_time"], fire["suite_run_id"], fire["error"]) for fire in history] == [
        ("2026-05-01T11:00:00Z", str(suite_runs[0].id), None)
    ]
    schedule = await state(quiet, created["id"])
    assert schedule.next_fire_at == DUE + timedelta(hours=1)  # advanced past now
    assert schedule.last_fire_at == DUE
    assert await fire_due(quiet.db, now) == []  # a later pass at the same time: nothing left to do
    assert len(await fire_due(quiet.db, DUE + timedelta(hours=1))) == 1  # the next hour, once
    assert len(await scheduled_suite_runs(quiet)) == 2


async def test_a_due_time_claimed_by_one_transaction_is_not_fired_by_another(
    client: httpx.AsyncClient, quiet: Runtime
) -> None:
    """Even past the row lock (two replicas that both saw the schedule due), the unique fire row decides."""
    created = await create(client, "hourly")
    async with quiet.db.transaction(quiet.tenant_id) as session:
        row = await session.get(Schedule, uuid.UUID(created["id"]))
        assert row is not None
        due = DueSchedule.of(row)

    async def rival() -> uuid.UUID | None:
        async with quiet.db.transaction(quiet.tenant_id) as session:
            return await fire_at(session, due, DUE)

    async with quiet.db.transaction(quiet.tenant_id) as session:
        winner = await fire_at(session, due, DUE)
        assert winner is not None
        contender = asyncio.create_task(rival())
        await asyncio.sleep(0.3)
        assert not contender.done()  # it waits on the winner's uncommitted claim
    assert await contender is None
    assert [run.id for run in await scheduled_suite_runs(quiet)] == [winner]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("latest", [datetime(2026, 5, 4, 10, tzinfo=UTC)]),
        ("all", [datetime(2026, 5, 4, hour, tzinfo=UTC) for hour in range(1, 11)]),
        ("skip", []),
    ],
)
async def test_misfire_policies_after_three_days_down(
    client: httpx.AsyncClient, quiet: Runtime, policy: str, expected: list[datetime]
) -> None:
    created = await create(client, "hourly", misfire_policy=policy)
    back = DUE + timedelta(days=3, minutes=-30)  # 2026-05-04 10:30
    suite_run_ids = await fire_due(quiet.db, back)
    assert len(suite_run_ids) == len(expected)
    history = await fires(client, "hourly")
    assert sorted(datetime.fromisoformat(fire["fire_time"]) for fire in history) == expected
    assert all(fire["suite_run_id"] for fire in history)
    schedule = await state(quiet, created["id"])
    assert schedule.next_fire_at == datetime(2026, 5, 4, 11, tzinfo=UTC)  # the next time in the future
    assert schedule.last_fire_at == (expected[-1] if expected else None)
    assert await fire_due(quiet.db, back) == []


async def test_disabled_schedules_never_fire(client: httpx.AsyncClient, quiet: Runtime) -> None:
    created = await create(client, "off", enabled=False)
    await create(client, "switched-off")
    response = await client.post(f"/projects/{PROJECT}/schedules/switched-off/disable")
    assert response.status_code == 200, response.text
    for days in (0, 1, 30):
        assert await fire_due(quiet.db, DUE + timedelta(days=days)) == []
    assert await scheduled_suite_runs(quiet) == []
    assert (await state(quiet, created["id"])).next_fire_at is None
    # enabled again later: from the time of enabling on, missed times are not made up for
    quiet.scheduler.clock = lambda: DUE + timedelta(days=30, minutes=10)
    enabled = (await client.post(f"/projects/{PROJECT}/schedules/off/enable")).json()
    assert enabled["next_fire_at"] == "2026-05-31T12:00:00Z"
    assert len(await fire_due(quiet.db, DUE + timedelta(days=30, hours=1))) == 1


async def test_schedule_settings_reach_the_runs(client: httpx.AsyncClient, quiet: Runtime) -> None:
    await create(client, "prio", priority=7, variables={"user": "night"})
    await create(client, "default", cron="0 11 * * *")
    created = await fire_due(quiet.db, DUE)
    assert len(created) == 2
    by_priority: dict[int, SuiteRun] = {run.priority: run for run in await scheduled_suite_runs(quiet)}
    assert sorted(by_priority) == [0, 7]  # no priority: the "schedule" trigger's default
    assert by_priority[7].variables == {"user": "night", "n": 1}  # the schedule's override the suite's
    assert by_priority[0].variables == {"user": "demo", "n": 1}
    async with quiet.db.transaction(quiet.tenant_id) as session:
        query = select(TestRun).where(TestRun.suite_run_id == by_priority[7].id)
        runs = list((await session.execute(query)).scalars())
    assert sorted(run.name for run in runs) == ["health", "login"]
    assert {(run.trigger, run.priority, run.status) for run in runs} == {("schedule", 7, RunStatus.PENDING)}


async def test_an_empty_suite_is_recorded_and_skipped_without_stopping_the_pass(
    client: httpx.AsyncClient, quiet: Runtime
) -> None:
    response = await client.post(
        "/projects/bare/apply", json={"test_cases": [], "suites": [{"suite": "all", "tests": ["*"]}]}
    )
    assert response.status_code == 200, response.text
    response = await client.put("/projects/bare/environments/staging", json={"base_url": refused_url()})
    assert response.status_code == 201, response.text
    empty = await create(client, "empty", project="bare", suite="all")
    await create(client, "fine")
    created = await fire_due(quiet.db, DUE)
    assert len(created) == 1  # the other schedule fired in the same pass
    response = await client.get("/projects/bare/schedules/empty/fires")
    [fire] = response.json()["items"]
    assert fire["suite_run_id"] is None
    assert "has no test cases to run" in fire["error"]
    assert (await state(quiet, empty["id"])).next_fire_at == DUE + timedelta(hours=1)
    assert await fire_due(quiet.db, DUE) == []  # not retried for the same time


async def test_a_deleted_suite_takes_its_schedules_along(client: httpx.AsyncClient, quiet: Runtime) -> None:
    await create(client, "hourly")
    assert (await client.delete(f"/projects/{PROJECT}/suites/smoke")).status_code == 204
    assert await fire_due(quiet.db, DUE) == []
    async with quiet.db.transaction(quiet.tenant_id) as session:
        assert (await session.execute(select(func.count()).select_from(Schedule))).scalar_one() == 0


async def test_the_scheduler_pass_fires_then_admits(client: httpx.AsyncClient, quiet: Runtime) -> None:
    await create(client, "hourly")
    quiet.scheduler.clock = lambda: DUE + timedelta(milliseconds=300)
    admitted = await quiet.scheduler.run_once()
    [suite_run] = await scheduled_suite_runs(quiet)
    async with quiet.db.transaction(quiet.tenant_id) as session:
        runs = list(
            (await session.execute(select(TestRun).where(TestRun.suite_run_id == suite_run.id))).scalars()
        )
    assert sorted(admitted) == sorted(run.id for run in runs)
    assert {run.status for run in runs} == {RunStatus.QUEUED}
    assert await quiet.scheduler.run_once() == []


async def test_a_failing_firing_does_not_stop_admission(
    client: httpx.AsyncClient, quiet: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_: object) -> list[uuid.UUID]:
        raise RuntimeError("firing is broken")

    response = await client.post(
        "/runs", json={"project": PROJECT, "environment": "staging", "test_case": "health"}
    )
    assert response.status_code == 201, response.text
    monkeypatch.setattr(firing, "fire_due", broken)
    assert await quiet.scheduler.run_once() == [uuid.UUID(response.json()["id"])]
