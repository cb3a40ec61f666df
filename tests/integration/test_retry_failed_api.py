"""Retrying a FAILED run once (``retry_failed``) against the demo SUT's ``/flaky`` endpoint: the retry is a
new run linked to the first, a pass on retry passes its suite run as flaky (reports show it), a second
failure fails it, only FAILED verdicts are retried, the setting comes from the test case, the suite or the
request, the flakiness score counts passes on retry, and bad settings are a clear 4xx."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Harness, assert_problem


def flaky(name: str, fail_times: int, **extra: Any) -> dict[str, Any]:
    """A test case whose call fails its first ``fail_times`` times (per test, per harness)."""
    key = f"{name}-{uuid.uuid4().hex}"
    return {
        "name": name,
        "steps": [
            {
                "name": "call the flaky endpoint",
                "request": {
                    "url": "{{ env.base_url }}/flaky",
                    "query": {"key": key, "fail_times": fail_times},
                },
                "expect": {"status": 200},
            }
        ],
        **extra,
    }


GREEN = {
    "name": "green",
    "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}],
}


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def suite_run(h: Harness, **body: Any) -> dict[str, Any]:
    made = await ok(
        await h.api.post("/suite-runs", json={"project": h.project, "environment": "sut", **body}), 201
    )
    for run_id in made["runs"]:
        first = await h.wait(uuid.UUID(run_id))
        if first["retried_by"]:
            await h.wait(uuid.UUID(first["retried_by"]))
    found: dict[str, Any] = await ok(await h.api.get(f"/suite-runs/{made['id']}"))
    return found


async def test_a_failed_run_is_retried_once_and_a_pass_on_retry_is_flaky(harness: Harness) -> None:
    await harness.apply(flaky("wobbly", 1, retry_failed=1))
    first = await harness.wait(await harness.start("wobbly"))
    assert (first["status"], first["retry_failed"], first["retry_of"], first["flaky"]) == (
        "FAILED",
        1,
        None,
        False,
    )
    assert first["retried_by"] is not None
    retry = await harness.wait(uuid.UUID(first["retried_by"]))
    assert (retry["status"], retry["retry_of"], retry["flaky"], retry["retried_by"]) == (
        "PASSED",
        first["id"],
        True,
        None,
    )
    same = ("test_case_id", "test_case_version_id", "environment", "variables", "priority", "trigger", "name")
    assert {key: retry[key] for key in same} == {key: first[key] for key in same}
    assert [step["status"] for step in retry["steps"]] == ["passed"]  # it ran again, from the start

    scores = await ok(await harness.api.get("/insights/flakiness", params={"project": harness.project}))
    score = scores["items"][0]
    assert (score["test_case"], score["classification"], score["passed_on_retry"]) == ("wobbly", "flaky", 1)
    assert score["retry_evidence"] == [
        {"from_run": first["id"], "to_run": retry["id"], "from_status": "FAILED", "to_status": "PASSED"}
    ]


async def test_a_suite_run_whose_test_passed_on_retry_passes_and_its_reports_say_flaky(
    harness: Harness,
) -> None:
    await harness.apply(
        flaky("wobbly", 1),
        GREEN,
        suites=[{"suite": "smoke", "tests": ["green", "wobbly"], "retry_failed": 1}],
    )
    result = await suite_run(harness, suite="smoke")
    assert (result["status"], result["counts"], result["total"], result["flaky"]) == (
        "PASSED",
        {"PASSED": 2},
        2,
        1,
    )
    wobbly = [run for run in result["runs"] if run["name"] == "wobbly"]
    assert [(run["status"], run["flaky"], bool(run["retried_by"])) for run in wobbly] == [
        ("FAILED", False, True),
        ("PASSED", True, False),
    ]
    junit = await harness.api.get(f"/suite-runs/{result['id']}/report", params={"format": "junit"})
    root = ET.fromstring(junit.content)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "0", "0")
    case = next(case for case in root.iter("testcase") if case.get("name") == "wobbly")
    flaky_failure = case.find("flakyFailure")
    assert flaky_failure is not None
    assert "503" in (flaky_failure.get("message") or "") + (flaky_failure.findtext("system-out") or "")
    report = (await harness.api.get(f"/suite-runs/{result['id']}/report", params={"format": "json"})).json()
    assert (report["flaky"], report["status"]) == (1, "PASSED")

    # Running the failed tests again: there are none (the retry passed).
    again = await harness.api.post(f"/suite-runs/{result['id']}/rerun", json={"only_failed": True})
    assert_problem(again, 409, "passed")


async def test_a_retry_that_fails_again_fails_the_suite_run_and_is_not_retried(harness: Harness) -> None:
    await harness.apply(flaky("down", 5, retry_failed=1), suites=[{"suite": "smoke", "tests": ["down"]}])
    result = await suite_run(harness, suite="smoke")
    assert (result["status"], result["counts"], result["total"], result["flaky"]) == (
        "FAILED",
        {"FAILED": 1},
        1,
        0,
    )
    first, retry = result["runs"]
    assert (first["retried_by"], retry["retry_of"], retry["retried_by"]) == (retry["id"], first["id"], None)
    junit = await harness.api.get(f"/suite-runs/{result['id']}/report", params={"format": "junit"})
    root = ET.fromstring(junit.content)
    assert (root.get("tests"), root.get("failures")) == ("1", "1")
    case = root.find("testsuite/testcase")
    assert case is not None
    assert (case.find("failure") is not None, case.find("rerunFailure") is not None) == (True, True)
    scores = await ok(await harness.api.get("/insights/flakiness", params={"project": harness.project}))
    assert (scores["items"][0]["classification"], scores["items"][0]["passed_on_retry"]) == ("broken", 0)


async def test_the_request_overrides_the_suite_and_the_test_case(harness: Harness) -> None:
    await harness.apply(
        flaky("wobbly", 1, retry_failed=1),
        suites=[{"suite": "smoke", "tests": ["wobbly"], "retry_failed": 1}],
    )
    result = await suite_run(harness, suite="smoke", retry_failed=0)
    assert result["status"] == "FAILED"
    assert [(run["retry_failed"], run["retried_by"]) for run in result["runs"]] == [(0, None)]

    await harness.apply(flaky("plain", 2))  # no retry by default; fails twice, then passes
    plain = await harness.wait(await harness.start("plain"))
    assert (plain["status"], plain["retried_by"]) == ("FAILED", None)
    asked = await harness.wait(await harness.start("plain", retry_failed=1))  # the request asks for one
    assert asked["retried_by"] is not None
    assert (await harness.wait(uuid.UUID(asked["retried_by"])))["status"] == "PASSED"


async def test_only_a_failed_verdict_is_retried(harness: Harness) -> None:
    broken = {
        "name": "broken",
        "retry_failed": 1,
        "steps": [{"request": {"url": "{{ env.base_url }}/health?x={{ missing_variable }}"}}],
    }
    run = await harness.run(broken)
    assert run["status"] == "ERROR", run
    assert run["retried_by"] is None
    runs = await ok(await harness.api.get("/runs", params={"project": harness.project}))
    assert runs["total"] == 1


@pytest.mark.parametrize("value", [2, -1, "1", True, 1.5, None])
async def test_a_bad_retry_setting_in_a_run_request_is_refused(harness: Harness, value: Any) -> None:
    await harness.apply(GREEN)
    body = {"project": harness.project, "environment": "sut", "test_case": "green", "retry_failed": value}
    response = await harness.api.post("/runs", json=body)
    if value is None:  # null means: as the suite or test case says
        assert response.status_code == 201, response.text
        return
    assert_problem(response, 422, "retry_failed")
    assert (await ok(await harness.api.get("/runs", params={"project": harness.project})))["total"] == 0


@pytest.mark.parametrize("value", [2, -1, "once", False, [1]])
async def test_a_bad_retry_setting_in_a_definition_is_refused(harness: Harness, value: Any) -> None:
    case = await harness.api.post(
        f"/projects/{harness.project}/apply", json={"test_cases": [{**GREEN, "retry_failed": value}]}
    )
    assert_problem(case, 422, "retry_failed")
    suite = await harness.api.post(
        f"/projects/{harness.project}/apply",
        json={
            "test_cases": [GREEN],
            "suites": [{"suite": "smoke", "tests": ["green"], "retry_failed": value}],
        },
    )
    assert_problem(suite, 422, "retry_failed")
