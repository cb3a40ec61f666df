"""A suite's setup and teardown through the API, the scheduler and the executor, against the demo SUT."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.conftest import Harness
from tests.integration.test_run_lifecycle import LOGIN

AUTHORIZED_LIST = {
    "request": {
        "url": "{{ env.base_url }}/items",
        "headers": {"Authorization": "Bearer {{ suite.token }}"},
    },
    "expect": {"status": 200},
}


async def _run_suite(api: httpx.AsyncClient, project: str, suite: str) -> dict[str, Any]:
    response = await api.post("/suite-runs", json={"project": project, "environment": "sut", "suite": suite})
    assert response.status_code == 201, response.text
    suite_run_id = response.json()["id"]
    async with asyncio.timeout(60):
        while (suite_run := (await api.get(f"/suite-runs/{suite_run_id}")).json())["status"] in (
            "PENDING",
            "QUEUED",
            "IN_PROGRESS",
        ):
            await asyncio.sleep(0.05)
    return suite_run


async def test_one_setup_login_serves_every_test_and_teardown_runs_last(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    cases = [{"name": f"t{index}", "steps": [AUTHORIZED_LIST]} for index in range(3)]
    suite = {
        "suite": "shared-login",
        "tests": ["t0", "t1", "t2"],
        "setup": [LOGIN],
        "teardown": [{"name": "still logged in", **AUTHORIZED_LIST}],
    }
    await harness.apply(*cases, suites=[suite])
    suite_run = await _run_suite(api, harness.project, "shared-login")
    assert suite_run["status"] == "PASSED", suite_run
    assert suite_run["counts"] == {"PASSED": 3}
    setup, teardown = suite_run["setup"], suite_run["teardown"]
    assert setup["status"] == "PASSED"
    assert [step["name"] for step in setup["steps"]] == ["login"]
    assert isinstance(setup["shared"]["token"], str)
    assert teardown["status"] == "PASSED"
    assert teardown["started_at"] >= max(run["finished_at"] for run in suite_run["runs"])
    assert setup["finished_at"] <= min(run["started_at"] for run in suite_run["runs"])


async def test_a_failed_setup_starts_no_test_and_still_tears_down(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    refused = {**LOGIN, "expect": {"status": 201}}
    suite = {
        "suite": "bad-login",
        "tests": ["u0"],
        "setup": [refused],
        "teardown": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}],
    }
    await harness.apply({"name": "u0", "steps": [AUTHORIZED_LIST]}, suites=[suite])
    suite_run = await _run_suite(api, harness.project, "bad-login")
    assert suite_run["setup"]["status"] == "FAILED"
    (run,) = suite_run["runs"]
    assert run["status"] == "ERROR"
    assert run["status_reason"].startswith("suite setup failed (FAILED): step 'login'")
    steps = (await api.get(f"/runs/{run['id']}")).json()["steps"]
    assert steps == []
    assert suite_run["teardown"]["status"] == "PASSED"
    assert suite_run["status"] == "ERROR"
