"""Running a run or a suite run again: the same parameters (test-case version, environment, variables,
priority), only the tests that did not pass when asked, and clear refusals — nothing is created then."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Harness, assert_problem

HEALTH = {"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}
PASSES = {"name": "passes", "variables": {"who": "nobody"}, "steps": [HEALTH]}
FAILS = {
    "name": "fails",
    "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 201}}],
}
SLOW = {"name": "slow", "steps": [{"sleep": "20s"}]}


async def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_suite_run(h: Harness, suite_run_id: str) -> dict[str, Any]:
    for run_id in (await h.api.get(f"/suite-runs/{suite_run_id}")).json()["runs"]:
        await h.wait(uuid.UUID(run_id["id"]))
    body: dict[str, Any] = (await h.api.get(f"/suite-runs/{suite_run_id}")).json()
    return body


async def run_count(api: httpx.AsyncClient, project: str) -> tuple[int, int]:
    runs = (await api.get("/runs", params={"project": project})).json()["total"]
    suite_runs = (await api.get("/suite-runs", params={"project": project})).json()["total"]
    return runs, suite_runs


async def test_a_run_is_run_again_with_its_version_environment_variables_and_priority(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    await harness.apply(PASSES)
    first = await harness.wait(
        await harness.start("passes", variables={"who": "first"}, priority=7, trigger="ci")
    )
    assert first["status"] == "PASSED"
    await harness.apply({**PASSES, "tags": ["changed"]})  # a new version of the test case

    again = await created(await api.post(f"/runs/{first['id']}/rerun"))
    assert again["status"] == "PENDING"
    assert again["runs"] == [again["id"]]
    second = await harness.wait(uuid.UUID(again["id"]))
    assert second["status"] == "PASSED"
    assert second["id"] != first["id"]
    same = (
        "test_case_id",
        "test_case_version_id",
        "test_case_version",
        "environment",
        "variables",
        "priority",
    )
    assert {key: second[key] for key in same} == {key: first[key] for key in same}
    assert first["test_case_version"] == 1
    assert second["trigger"] == "manual"
    assert second["suite_run_id"] is None


async def test_a_suite_run_is_run_again_whole_or_only_its_failed_tests(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    await harness.apply(PASSES, FAILS, suites=[{"suite": "mixed", "tests": ["passes", "fails"]}])
    body = {"project": harness.project, "environment": "sut", "suite": "mixed", "variables": {"k": "v"}}
    first = await wait_suite_run(harness, (await created(await api.post("/suite-runs", json=body)))["id"])
    assert first["status"] == "FAILED"

    whole = await created(await api.post(f"/suite-runs/{first['id']}/rerun"))
    assert len(whole["runs"]) == 2
    failed_only = await created(
        await api.post(f"/suite-runs/{first['id']}/rerun", json={"only_failed": True})
    )
    assert len(failed_only["runs"]) == 1

    again = await wait_suite_run(harness, failed_only["id"])
    assert [run["name"] for run in again["runs"]] == ["fails"]
    assert again["status"] == "FAILED"
    for key in ("name", "suite_id", "environment", "variables", "priority"):
        assert again[key] == first[key], key
    assert again["trigger"] == "manual"
    assert (await wait_suite_run(harness, whole["id"]))["counts"] == {"PASSED": 1, "FAILED": 1}


async def test_only_failed_is_refused_while_running_and_when_all_passed(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    await harness.apply(
        PASSES, SLOW, suites=[{"suite": "ok", "tests": ["passes"]}, {"suite": "slow", "tests": ["slow"]}]
    )
    base = {"project": harness.project, "environment": "sut"}
    passed = await wait_suite_run(
        harness, (await created(await api.post("/suite-runs", json={**base, "suite": "ok"})))["id"]
    )
    assert passed["status"] == "PASSED"
    slow = await created(await api.post("/suite-runs", json={**base, "suite": "slow"}))
    before = await run_count(api, harness.project)

    assert_problem(
        await api.post(f"/suite-runs/{passed['id']}/rerun", json={"only_failed": True}), 409, "passed"
    )
    assert_problem(
        await api.post(f"/suite-runs/{slow['id']}/rerun", json={"only_failed": True}), 409, "ended"
    )
    assert await run_count(api, harness.project) == before
    await api.post(f"/suite-runs/{slow['id']}/cancel")


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"only_failed": "yes"}, 422, "only_failed"),
        ({"only_failed": True, "extra": 1}, 422, "extra"),
        ([True], 422, ""),
    ],
)
async def test_a_bad_rerun_body_is_refused(
    harness: Harness, api: httpx.AsyncClient, body: Any, status: int, needle: str
) -> None:
    await harness.apply(PASSES, suites=[{"suite": "ok", "tests": ["passes"]}])
    suite_run = await created(
        await api.post("/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "ok"})
    )
    await wait_suite_run(harness, suite_run["id"])
    before = await run_count(api, harness.project)
    assert_problem(await api.post(f"/suite-runs/{suite_run['id']}/rerun", json=body), status, needle)
    assert_problem(
        await api.post(
            f"/suite-runs/{suite_run['id']}/rerun",
            content=b"{nope",
            headers={"content-type": "application/json"},
        ),
        422,
        "JSON",
    )
    assert await run_count(api, harness.project) == before


async def test_rerunning_what_does_not_exist_is_404(api: httpx.AsyncClient) -> None:
    assert_problem(await api.post(f"/runs/{uuid.uuid4()}/rerun"), 404, "does not exist")
    assert_problem(await api.post(f"/suite-runs/{uuid.uuid4()}/rerun"), 404, "does not exist")
    assert_problem(await api.post("/runs/not-a-uuid/rerun"), 422, "run_id")
