"""Retention of finished runs on a real PostgreSQL: the policy API, the rules (days, the last N per test
case, both), runs in progress and unfinished suite runs left alone, verdicts kept for insights, batches."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.config import Settings
from orchestra.retention.sweep import RetentionSweeper, SweepReport
from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem
from tests.integration.insights_history import History, case
from tests.integration.retention_rows import generate

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=40)


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The tests' settings; with an indirect parameter, the leader's retention interval (else it never
    sweeps by itself: the tests sweep when they choose)."""
    interval = getattr(request, "param", 0)
    return settings.model_copy(update={"retention_interval_s": interval})


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """No executor: the runs these tests leave in progress or pending stay as they are."""
    rt = await Runtime.start(settings, run_executor=False)
    try:
        yield rt
    finally:
        await rt.stop()


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(owner_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def history(api: httpx.AsyncClient, runtime: Runtime) -> History:
    h = History(api, runtime, f"ret-{uuid.uuid4().hex[:8]}")
    await h.setup("checkout", "search")
    return h


async def scalar(owner: AsyncEngine, sql: str, **params: Any) -> Any:
    async with owner.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def execute(owner: AsyncEngine, sql: str, **params: Any) -> None:
    async with owner.begin() as conn:
        await conn.execute(text(sql), params)


async def existing(owner: AsyncEngine, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    async with owner.connect() as conn:
        rows = await conn.execute(text("SELECT id FROM test_runs WHERE id = ANY(:ids)"), {"ids": ids})
        return {row[0] for row in rows}


async def set_policy(api: httpx.AsyncClient, project: str, **rule: int | None) -> dict[str, Any]:
    response = await api.put(f"/projects/{project}/retention", json=rule)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sweeper(runtime: Runtime, settings: Settings, **changes: Any) -> RetentionSweeper:
    return RetentionSweeper(runtime.db, settings.model_copy(update={"retention_batch_pause_s": 0, **changes}))


async def test_policy_is_read_and_set_by_admins_only(
    api: httpx.AsyncClient, history: History, owner: AsyncEngine
) -> None:
    url = f"/projects/{history.project}/retention"
    response = await api.get(url)
    assert response.status_code == 200, response.text
    assert response.json() | {"project_id": None} == {
        "project_id": None,
        "keep_days": None,
        "keep_last": None,
        "updated_at": None,
        "verdicts": 0,
    }
    body = await set_policy(api, history.project, keep_days=30)
    assert (body["keep_days"], body["keep_last"]) == (30, None)
    body = await set_policy(api, history.project, keep_last=5)  # keep_days left as it was
    assert (body["keep_days"], body["keep_last"]) == (30, 5)
    body = await set_policy(api, history.project, keep_days=None)
    assert (body["keep_days"], body["keep_last"]) == (None, 5)
    assert (await api.get(url)).json()["keep_last"] == 5

    for role in ("viewer", "editor"):
        response = await api.post("/tokens", json={"name": role, "role": role, "project": history.project})
        assert response.status_code == 201, response.text
        headers = {"Authorization": f"Bearer {response.json()['token']}"}
        assert (await api.get(url, headers=headers)).status_code == 200
        assert_problem(await api.put(url, json={"keep_days": 1}, headers=headers), 403)

    for bad in ({"keep_days": 0}, {"keep_last": -1}, {"keep_days": 10**9}, {"keep_days": "x"}, {"other": 1}):
        assert_problem(await api.put(url, json=bad), 422)
    assert_problem(await api.put(url, content=b"{", headers={"content-type": "application/json"}), 422)
    assert_problem(await api.get("/projects/nope/retention"), 404)
    assert await scalar(owner, "SELECT keep_last FROM retention_policies") == 5


async def test_keep_days_deletes_old_finished_runs_and_keeps_their_verdicts(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    old = await history.runs("checkout", "PFEC", at=OLD)
    running = await history.runs("checkout", "PP", at=OLD + timedelta(hours=1))
    await execute(
        owner, "UPDATE test_runs SET status = 'IN_PROGRESS', finished_at = NULL WHERE id = :r", r=running[0]
    )
    await execute(
        owner, "UPDATE test_runs SET status = 'PENDING', finished_at = NULL WHERE id = :r", r=running[1]
    )
    recent = await history.runs("checkout", "PF", at=NOW - timedelta(days=1))
    other = await history.runs("search", "FF", at=OLD)
    await set_policy(api, history.project, keep_days=30)

    report = await sweeper(runtime, settings).run_once()

    assert (report.runs, report.steps, report.suite_runs) == (6, 12, 0)
    assert await existing(owner, old + running + recent + other) == set(running + recent)
    assert (
        await scalar(
            owner, "SELECT count(*) FROM step_results WHERE test_run_id = ANY(:r)", r=running + recent
        )
        == 8
    )
    verdicts = await scalar(
        owner,
        "SELECT array_agg(status ORDER BY created_at) FROM run_verdicts "
        "WHERE test_case_id = (SELECT test_case_id FROM test_runs WHERE id = :r)",
        r=recent[0],
    )
    assert verdicts == ["PASSED", "FAILED", "ERROR", "CANCELLED"]
    assert (await api.get(f"/projects/{history.project}/retention")).json()["verdicts"] == 6
    assert (await api.get(f"/runs/{old[0]}")).status_code == 404

    again = await sweeper(runtime, settings).run_once()  # idempotent: nothing more is past the rule
    assert (again.runs, again.steps) == (0, 0)
    assert await scalar(owner, "SELECT count(*) FROM run_verdicts") == 6


async def test_keep_last_counts_finished_runs_per_test_case(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    checkout = await history.runs("checkout", "PPFPP", at=OLD)
    search = await history.runs("search", "FFP", at=OLD)
    await execute(
        owner, "UPDATE test_runs SET status = 'IN_PROGRESS', finished_at = NULL WHERE id = :r", r=checkout[-1]
    )  # the newest run is not finished: it does not count among the last 2
    await set_policy(api, history.project, keep_last=2)

    report = await sweeper(runtime, settings).run_once()

    assert report.runs == 3
    assert await existing(owner, checkout + search) == {checkout[2], checkout[3], checkout[4], *search[1:]}
    assert (await sweeper(runtime, settings).run_once()).runs == 0


async def test_a_retried_run_goes_only_with_its_retry(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    failed, retry, later = await history.runs("checkout", "FPP", at=OLD)
    await execute(owner, "UPDATE test_runs SET retry_of_id = :f WHERE id = :r", f=failed, r=retry)
    await set_policy(api, history.project, keep_last=2)

    # the failed run is past the rule, its retry is not: deleting the first would take the retry along
    assert (await sweeper(runtime, settings).run_once()).runs == 0
    assert await existing(owner, [failed, retry, later]) == {failed, retry, later}

    await set_policy(api, history.project, keep_last=1)
    assert (await sweeper(runtime, settings).run_once()).runs == 2
    assert await existing(owner, [failed, retry, later]) == {later}
    kept = await scalar(owner, "SELECT count(*) FROM run_verdicts WHERE id IN (:f, :r)", f=failed, r=retry)
    assert kept == 2
    # the retry's verdict still says whose retry it was: a pass on retry stays flaky in the insights
    assert await scalar(owner, "SELECT retry_of_id FROM run_verdicts WHERE id = :r", r=retry) == failed


async def test_with_both_limits_a_run_goes_only_outside_both(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    old = await history.runs("checkout", "PPPP", at=OLD)  # old: only the last 2 of them stay
    recent = await history.runs("search", "PPPP", at=NOW - timedelta(hours=5))  # recent: all stay
    await set_policy(api, history.project, keep_days=7, keep_last=2)

    assert (await sweeper(runtime, settings).run_once()).runs == 2
    assert await existing(owner, old + recent) == {*old[2:], *recent}


async def _suite_run(owner: AsyncEngine, runs: list[uuid.UUID]) -> uuid.UUID:
    suite_run = uuid.uuid4()
    await execute(
        owner,
        "INSERT INTO suite_runs (id, tenant_id, project_id, suite_id, environment_id, name, priority,"
        " trigger, variables, created_at) SELECT :s, r.tenant_id, r.project_id, s.id, r.environment_id,"
        " 'nightly', 0, 'api', '{}', r.created_at FROM test_runs r JOIN suites s ON s.project_id ="
        " r.project_id AND s.name = 'nightly' WHERE r.id = :r",
        s=suite_run,
        r=runs[0],
    )
    await execute(owner, "UPDATE test_runs SET suite_run_id = :s WHERE id = ANY(:r)", s=suite_run, r=runs)
    return suite_run


async def test_a_suite_run_goes_whole_once_all_its_runs_are_past_the_rule(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    suites = [{"suite": "nightly", "tests": ["checkout", "search"]}]
    body = {"test_cases": [case("checkout"), case("search")], "suites": suites}
    response = await api.post(f"/projects/{history.project}/apply", json=body)
    assert response.status_code == 200, response.text
    finished = await history.runs("checkout", "PF", at=OLD)
    finished += await history.runs("search", "P", at=OLD)
    unfinished = await history.runs("checkout", "PP", at=OLD + timedelta(hours=2))
    done = await _suite_run(owner, finished)
    busy = await _suite_run(owner, unfinished)
    await execute(
        owner, "UPDATE test_runs SET status = 'QUEUED', finished_at = NULL WHERE id = :r", r=unfinished[1]
    )
    await set_policy(api, history.project, keep_days=1)

    report = await sweeper(runtime, settings, retention_batch_rows=2).run_once()

    assert (report.runs, report.suite_runs) == (3, 1)
    assert await existing(owner, finished + unfinished) == set(unfinished)
    assert await scalar(owner, "SELECT count(*) FROM suite_runs WHERE id = ANY(:s)", s=[done, busy]) == 1
    assert (
        await scalar(owner, "SELECT count(*) FROM step_results WHERE test_run_id = ANY(:r)", r=unfinished)
        == 4
    )
    suite_ids = await scalar(owner, "SELECT array_agg(DISTINCT suite_id) FROM run_verdicts")
    assert suite_ids == [await scalar(owner, "SELECT id FROM suites WHERE name = 'nightly'")]
    params = {"project": history.project, "suite": "nightly", "days": 90}
    trends = await api.get("/insights/trends", params=params)
    assert trends.status_code == 200, trends.text
    # the 3 deleted runs' verdicts and the kept suite run's finished run (its queued one has no verdict)
    assert sum(bucket["runs"] for bucket in trends.json()["buckets"]) == 4


async def test_a_suite_runs_retry_keeps_its_verdict_whatever_the_batches(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    suites = [{"suite": "nightly", "tests": ["checkout", "search"]}]
    body = {"test_cases": [case("checkout"), case("search")], "suites": suites}
    response = await api.post(f"/projects/{history.project}/apply", json=body)
    assert response.status_code == 200, response.text
    failed, retry = await history.runs("checkout", "FP", at=OLD)
    other = await history.runs("search", "P", at=OLD)
    await _suite_run(owner, [failed, retry, *other])
    await execute(owner, "UPDATE test_runs SET retry_of_id = :f WHERE id = :r", f=failed, r=retry)
    await set_policy(api, history.project, keep_days=1)

    # one run per batch: the retry goes in a batch of its own before the run it retries, never with it
    report = await sweeper(runtime, settings, retention_batch_rows=1).run_once()

    assert (report.runs, report.suite_runs) == (3, 1)
    verdicts = await scalar(owner, "SELECT count(*) FROM run_verdicts WHERE id = ANY(:r)", r=[failed, retry])
    assert verdicts == 2
    assert await scalar(owner, "SELECT retry_of_id FROM run_verdicts WHERE id = :r", r=retry) == failed


async def test_insights_keep_counting_the_verdicts_of_deleted_runs(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings
) -> None:
    await history.runs("checkout", "PFPFPF", at=OLD)  # flaky: flips on one version and environment
    await history.runs("checkout", "PP", at=NOW - timedelta(hours=3))
    await history.runs("search", "FFF", at=OLD)
    params = {"project": history.project, "days": 90}
    before_trends = (await api.get("/insights/trends", params=params)).json()["buckets"]
    before_flaky = (await api.get("/insights/flakiness", params=params)).json()["items"]
    await set_policy(api, history.project, keep_days=2)

    assert (await sweeper(runtime, settings).run_once()).runs == 9

    after_trends = (await api.get("/insights/trends", params=params)).json()["buckets"]
    after_flaky = (await api.get("/insights/flakiness", params=params)).json()["items"]
    counts = [(b["start"], b["runs"], b["passes"], b["duration_p50_ms"]) for b in before_trends]
    assert [(b["start"], b["runs"], b["passes"], b["duration_p50_ms"]) for b in after_trends] == counts
    keys = ("test_case", "classification", "runs", "passes", "failures", "flips", "transitions")
    assert [{k: item[k] for k in keys} for item in after_flaky] == [
        {k: item[k] for k in keys} for item in before_flaky
    ]
    assert {item["test_case"]: item["classification"] for item in after_flaky} == {
        "checkout": "flaky",
        "search": "broken",
    }


async def test_the_sweep_works_in_batches_of_the_configured_size(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    await history.runs("checkout", "P" * 30, at=OLD)
    await history.runs("search", "F" * 30, at=OLD)
    await set_policy(api, history.project, keep_days=1)

    report = await sweeper(runtime, settings, retention_batch_rows=7).run_once()

    # 60 runs in 9 batches of at most 7; each batch's 14 step rows go in 2 (or 3) chunks of at most 7
    assert (report.runs, report.steps) == (60, 120)
    assert report.transactions >= 9 + 120 // 7 + 9
    assert await scalar(owner, "SELECT count(*) FROM test_runs") == 0


@pytest.mark.parametrize("settings", [0.05], indirect=True)
async def test_the_scheduler_leader_sweeps_periodically(
    history: History, api: httpx.AsyncClient, owner: AsyncEngine
) -> None:
    old = await history.runs("checkout", "PF", at=OLD)
    kept = await history.runs("checkout", "P", at=NOW)
    await set_policy(api, history.project, keep_days=3)
    async with asyncio.timeout(20):
        while await existing(owner, old):
            await asyncio.sleep(0.05)
    assert await existing(owner, kept) == set(kept)
    assert await scalar(owner, "SELECT count(*) FROM run_verdicts") == 2


@pytest.mark.timeout(600)
async def test_the_api_stays_responsive_while_a_million_step_rows_are_swept(
    api: httpx.AsyncClient, history: History, runtime: Runtime, settings: Settings, owner: AsyncEngine
) -> None:
    """100,000 finished runs of 10 steps each, all past the rule. While the sweep runs (for up to 20 s, then
    it is cancelled as a shutdown would), the API answers every request, and the step rows go down batch by
    batch; what was deleted left its verdict and nothing half-kept."""
    project = uuid.UUID((await api.get(f"/projects/{history.project}")).json()["id"])
    await generate(owner, runtime.tenant_id, project, runs=100_000, steps=10)
    assert await scalar(owner, "SELECT count(*) FROM step_results") == 1_000_000
    await set_policy(api, history.project, keep_days=1)

    sweep = asyncio.create_task(sweeper(runtime, settings, retention_batch_pause_s=0.01).run_once())
    latencies: list[float] = []
    remaining: list[int] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while loop.time() < deadline and not sweep.done():
        for request in (
            api.get("/runs", params={"project": history.project, "limit": 50}),
            api.get(f"/projects/{history.project}/retention"),
        ):
            started = loop.time()
            response = await request
            latencies.append(loop.time() - started)
            assert response.status_code == 200, response.text
        if not remaining or len(latencies) % 20 == 0:
            remaining.append(await scalar(owner, "SELECT count(*) FROM step_results"))
    if sweep.done():
        report: SweepReport = sweep.result()
        assert report.steps == 1_000_000
    else:
        sweep.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sweep
    remaining.append(await scalar(owner, "SELECT count(*) FROM step_results"))

    assert max(latencies) < 5.0, f"slowest answer {max(latencies):.2f} s of {len(latencies)}"
    assert remaining[-1] <= 1_000_000 - 10 * 1000, remaining  # at least ten batches went
    assert len(set(remaining)) >= 3, remaining
    assert remaining == sorted(remaining, reverse=True), remaining
    runs_left = await scalar(owner, "SELECT count(*) FROM test_runs")
    assert await scalar(owner, "SELECT count(*) FROM run_verdicts") == 100_000 - runs_left
    # a run is deleted only once its steps are gone, and the steps of at most one batch are half-gone
    partly = await scalar(
        owner,
        "SELECT count(*) FROM (SELECT test_run_id FROM step_results GROUP BY 1 HAVING count(*) < 10) s",
    )
    assert partly <= settings.retention_batch_rows
