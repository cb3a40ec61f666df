"""Running a suite run with a setup and a teardown again: both are made again around the tests (whole or
only the failed ones), the tests read the new setup's values, and the tests keep the suite's order."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.conftest import Harness
from tests.integration.test_rerun_api import created
from tests.integration.test_run_lifecycle import LOGIN
from tests.integration.test_suite_setup import AUTHORIZED_LIST

ACTIVE = ("PENDING", "QUEUED", "IN_PROGRESS")


async def finished(api: httpx.AsyncClient, suite_run_id: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            body: dict[str, Any] = (await api.get(f"/suite-runs/{suite_run_id}")).json()
            phases = [phase for phase in (body["setup"], body["teardown"]) if phase]
            if body["status"] not in ACTIVE and all(phase["status"] not in ACTIVE for phase in phases):
                return body
            await asyncio.sleep(0.05)


def started_order(suite_run: dict[str, Any]) -> list[str]:
    return [run["name"] for run in sorted(suite_run["runs"], key=lambda run: run["started_at"])]


async def test_a_rerun_makes_the_setup_and_teardown_again_and_keeps_the_order(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    tests = ["zeta", "alpha", "mid"]  # neither alphabetical nor by creation
    cases = [{"name": name, "steps": [AUTHORIZED_LIST]} for name in tests]
    failing = {"name": "fails", "steps": [{**AUTHORIZED_LIST, "expect": {"status": 201}}]}
    suite = {
        "suite": "logged-in",
        "tests": [*tests, "fails"],
        "parallelism": 1,
        "setup": [LOGIN],
        "teardown": [{"name": "still logged in", **AUTHORIZED_LIST}],
    }
    await harness.apply(*cases, failing, suites=[suite])
    body = {"project": harness.project, "environment": "sut", "suite": "logged-in"}
    first = await finished(api, (await created(await api.post("/suite-runs", json=body)))["id"])
    assert first["counts"] == {"PASSED": 3, "FAILED": 1}
    assert started_order(first) == [*tests, "fails"]

    whole = await finished(api, (await created(await api.post(f"/suite-runs/{first['id']}/rerun")))["id"])
    assert whole["setup"]["status"] == "PASSED", whole["setup"]
    assert whole["setup"]["id"] != first["setup"]["id"]
    assert whole["teardown"]["status"] == "PASSED", whole["teardown"]
    assert whole["counts"] == {"PASSED": 3, "FAILED": 1}  # the tests read the new setup's token
    assert started_order(whole) == [*tests, "fails"]
    assert whole["setup"]["finished_at"] <= min(run["started_at"] for run in whole["runs"])
    assert whole["teardown"]["started_at"] >= max(run["finished_at"] for run in whole["runs"])

    response = await api.post(f"/suite-runs/{first['id']}/rerun", json={"only_failed": True})
    failed_only = await finished(api, (await created(response))["id"])
    assert [run["name"] for run in failed_only["runs"]] == ["fails"]
    (run,) = failed_only["runs"]
    assert run["status"] == "FAILED"
    assert "status: expected 201, got 200" in run["status_reason"]  # logged in: not a 401
    assert failed_only["setup"]["status"] == "PASSED"
    assert failed_only["teardown"]["status"] == "PASSED"
    assert [step["name"] for step in failed_only["setup"]["steps"]] == ["login"]
