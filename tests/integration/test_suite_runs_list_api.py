"""GET /suite-runs narrowed by status, project, environment, suite, trigger, creation time and text, in every
sort order, and its bad input. The status it filters and sorts by is the summary the database keeps
(migration 0027): for each way a suite run's status derives from its runs (a failure, a muted failure, a
pass on retry, a failed setup, a cancel) it is the status GET /suite-runs/{id} derives."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orchestra.models.run_states import TERMINAL
from tests.integration.conftest import Harness, assert_problem

SORTS = ["created_at", "name", "status", "duration"]
HEALTH = {"url": "{{ env.base_url }}/health"}
GREEN = {"name": "green", "steps": [{"request": HEALTH, "expect": {"status": 200}}]}
RED = {"name": "red", "steps": [{"request": HEALTH, "expect": {"status": 418}}]}
SLOW = {"name": "slow", "steps": [{"sleep": "3s"}, {"request": HEALTH}]}  # long enough to be cancelled


def wobbly() -> dict[str, Any]:
    """Fails its first call, passes the next: retried once, it passes on retry."""
    query = {"key": f"wobbly-{uuid.uuid4().hex}", "fail_times": 1}
    call = {"request": {"url": "{{ env.base_url }}/flaky", "query": query}, "expect": {"status": 200}}
    return {"name": "wobbly", "retry_failed": 1, "steps": [call]}


async def settled(api: httpx.AsyncClient, suite_run_id: str) -> dict[str, Any]:
    """The suite run once it has ended (every run, retries and teardown included)."""
    async with asyncio.timeout(30):
        while True:
            response = await api.get(f"/suite-runs/{suite_run_id}")
            assert response.status_code == 200, response.text
            found: dict[str, Any] = response.json()
            if found["status"] in TERMINAL:
                return found
            await asyncio.sleep(0.1)


async def start(api: httpx.AsyncClient, harness: Harness, suite: str, **extra: Any) -> str:
    body = {"project": harness.project, "environment": "sut", "suite": suite, **extra}
    response = await api.post("/suite-runs", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def suite_runs(harness: Harness, api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Six ended suite runs, created in this order: "nightly green" (PASSED, trigger ci), "nightly red"
    (FAILED), "red 100%" (the red test muted: PASSED), "wobbly_x" (a pass on retry: PASSED), "setup fails"
    (ERROR: its setup failed) and "cancelled" (CANCELLED while it waited or ran)."""
    await harness.apply(
        GREEN,
        RED,
        wobbly(),
        SLOW,
        suites=[
            {"suite": "nightly green", "tests": ["green"]},
            {"suite": "nightly red", "tests": ["green", "red"]},
            {"suite": "red 100%", "tests": ["red"]},
            {"suite": "wobbly_x", "tests": ["wobbly"]},
            {
                "suite": "setup fails",
                "tests": ["green"],
                "setup": [{"request": HEALTH, "expect": {"status": 500}}],
            },
            {"suite": "cancelled", "tests": ["slow"]},
        ],
    )
    made = {"nightly green": await settled(api, await start(api, harness, "nightly green", trigger="ci"))}
    made["nightly red"] = await settled(api, await start(api, harness, "nightly red"))
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    mute = {"test_case": "red", "environment": "sut", "reason": "PAY-12", "expires_at": expires}
    response = await api.post(f"/projects/{harness.project}/mutes", json=mute)
    assert response.status_code == 201, response.text
    made["red 100%"] = await settled(api, await start(api, harness, "red 100%"))
    made["wobbly_x"] = await settled(api, await start(api, harness, "wobbly_x"))
    made["setup fails"] = await settled(api, await start(api, harness, "setup fails"))
    cancelled = await start(api, harness, "cancelled")
    response = await api.post(f"/suite-runs/{cancelled}/cancel")
    assert response.status_code == 200, response.text
    made["cancelled"] = await settled(api, cancelled)
    statuses = {name: found["status"] for name, found in made.items()}
    assert statuses == {
        "nightly green": "PASSED",
        "nightly red": "FAILED",
        "red 100%": "PASSED",
        "wobbly_x": "PASSED",
        "setup fails": "ERROR",
        "cancelled": "CANCELLED",
    }
    return made


async def page(api: httpx.AsyncClient, project: str | None, **params: Any) -> dict[str, Any]:
    wanted = {"project": project, "limit": 100, **params}
    response = await api.get(
        "/suite-runs", params={key: value for key, value in wanted.items() if value is not None}
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def listed(api: httpx.AsyncClient, project: str | None, **params: Any) -> list[str]:
    return [item["name"] for item in (await page(api, project, **params))["items"]]


async def test_the_status_filtered_is_the_status_derived(
    harness: Harness, api: httpx.AsyncClient, suite_runs: dict[str, dict[str, Any]]
) -> None:
    project = harness.project
    for status in ("PASSED", "FAILED", "CANCELLED", "ERROR", "PENDING", "IN_PROGRESS"):
        wanted = sorted(name for name, found in suite_runs.items() if found["status"] == status)
        assert sorted(await listed(api, project, status=status)) == wanted, status
    every = (await page(api, project))["items"]
    assert {item["name"]: item["status"] for item in every} == {
        name: found["status"] for name, found in suite_runs.items()
    }


async def test_narrowed_by_project_environment_suite_trigger_and_text(
    harness: Harness, api: httpx.AsyncClient, suite_runs: dict[str, dict[str, Any]]
) -> None:
    project = harness.project
    assert len(await listed(api, project)) == 6
    assert await listed(api, project, trigger="ci") == ["nightly green"]
    assert len(await listed(api, project, environment="sut")) == 6
    assert_problem(
        await api.get("/suite-runs", params={"project": project, "environment": "nope"}), 404, "nope"
    )
    assert await listed(api, None, environment=f"nope-{project}") == []

    assert await listed(api, project, suite="nightly red") == ["nightly red"]
    suite_id = suite_runs["wobbly_x"]["suite_id"]
    assert await listed(api, None, suite=suite_id) == ["wobbly_x"]  # by id, in every project
    assert_problem(await api.get("/suite-runs", params={"project": project, "suite": "nope"}), 404, "nope")
    assert await listed(api, None, suite=f"nope-{project}") == []
    assert_problem(await api.get("/suite-runs", params={"project": f"nope-{project}"}), 404)

    # The text is found case-insensitively, and its LIKE wildcards stand for themselves.
    assert sorted(await listed(api, project, q="NIGHTLY")) == ["nightly green", "nightly red"]
    assert await listed(api, project, q="%") == ["red 100%"]
    assert await listed(api, project, q="y_x") == ["wobbly_x"]
    assert await listed(api, project, q="_") == ["wobbly_x"]
    assert await listed(api, project, q="\\") == []
    assert await listed(api, project, q="x" * 200) == []
    assert await listed(api, project, q="a\x00") == []  # no name can hold a NUL
    assert await listed(api, None, suite="a\x00") == []
    assert await listed(api, None, environment="a\x00") == []
    assert await listed(api, project, q="red", status="PASSED", trigger="api") == ["red 100%"]


async def test_created_window(
    harness: Harness, api: httpx.AsyncClient, suite_runs: dict[str, dict[str, Any]]
) -> None:
    project = harness.project
    middle = suite_runs["wobbly_x"]["created_at"]
    assert await listed(api, project, created_after=middle, sort="created_at") == [
        "wobbly_x",
        "setup fails",
        "cancelled",
    ]
    assert await listed(api, project, created_before=middle) == ["red 100%", "nightly red", "nightly green"]
    assert await listed(api, project, created_after=middle, created_before=middle) == []
    later = datetime.fromisoformat(suite_runs["cancelled"]["created_at"]) + timedelta(seconds=1)
    naive = later.replace(tzinfo=None).isoformat()  # without an offset: UTC
    assert len(await listed(api, project, created_before=naive)) == 6
    assert await listed(api, project, created_after=later.isoformat()) == []
    inverted = await page(api, project, created_after=later.isoformat(), created_before=middle)
    assert (inverted["items"], inverted["total"]) == ([], 0)  # a window no suite run fits


async def test_sorted_and_paged_stably(
    harness: Harness, api: httpx.AsyncClient, suite_runs: dict[str, dict[str, Any]]
) -> None:
    project = harness.project
    newest_first = await listed(api, project)
    assert newest_first == list(suite_runs)[::-1]
    assert await listed(api, project, sort="-created_at") == newest_first
    for key in SORTS:
        ascending = await listed(api, project, sort=key)
        assert sorted(ascending) == sorted(newest_first)
        assert await listed(api, project, sort=f"-{key}") == ascending[::-1], key  # ties broken by id
        paged = []
        for offset in range(6):
            found = await page(api, project, sort=key, limit=1, offset=offset)
            assert found["total"] == 6
            paged += [item["name"] for item in found["items"]]
        assert paged == ascending, key
    assert await listed(api, project, sort="name") == sorted(suite_runs)
    statuses = [suite_runs[name]["status"] for name in await listed(api, project, sort="status")]
    assert statuses == sorted(statuses)
    # The duration the list sorts by is the one each suite run reports (first start to last end), as it is
    # derived at the time of the list; one without (cancelled before it started) comes last.
    items = (await page(api, project, sort="duration"))["items"]
    durations = [item["duration_ms"] for item in items]
    known = sorted(duration for duration in durations if duration is not None)
    assert durations == known + [None] * (len(durations) - len(known)), [
        (item["name"], item["duration_ms"], item["started_at"], item["finished_at"]) for item in items
    ]
    assert len(known) >= 5


async def test_bad_list_parameters_are_refused(harness: Harness, api: httpx.AsyncClient) -> None:
    project = {"project": harness.project}

    async def refused(needle: str, **params: Any) -> None:
        assert_problem(await api.get("/suite-runs", params={**project, **params}), 422, needle)

    for sort in ("priority", "--name", "", "duration "):
        await refused("sort", sort=sort)
    await refused("created_after", created_after="yesterday")
    await refused("created_before", created_before="2026-13-01")
    await refused("q", q="x" * 201)
    await refused("q", q="")
    await refused("suite", suite="s" * 201)
    await refused("environment", environment="")
    await refused("status", status="BROKEN")
    await refused("trigger", trigger="cron")
    await refused("limit", limit=0)
    await refused("offset", offset=-1)
