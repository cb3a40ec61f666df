"""Whatever a user writes keeps its order: stored definitions and versions, runs, reports, and the JSON
bodies the SUT receives, byte for byte (JSONB used to store keys shortest first)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx

from tests.integration.conftest import Harness

# Keys JSONB would reorder (it sorts by length, then bytes): the longest first, "a" after "zz".
BODY = {"zeta_longest_key": 1, "mid": {"yy": True, "b": [3, 2, 1]}, "a": "x"}
CASE: dict[str, Any] = {
    "name": "ordered",
    "steps": [
        {"set": {"zz": "first", "a": "{{ zz }}-second", "b": "{{ a }}-third"}},
        {
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/echo",
                "headers": {"X-Zulu-Header": "1", "X-A": "2"},
                "json": BODY,
            },
            "expect": {
                "status": 200,
                "json": {"$.json.zeta_longest_key": 1, "$.json.mid.yy": True, "$.json.a": "x"},
            },
        },
    ],
}


async def test_set_renders_in_written_order_and_the_sut_gets_the_body_as_written(harness: Harness) -> None:
    run = await harness.run(CASE)
    assert run["status"] == "PASSED", run["status_reason"]
    assert run["steps"][0]["name"] == "set zz, a, b"
    sent = run["steps"][1]
    echoed = json.loads(sent["response"]["body"])
    # the SUT read the keys in the written order, at every level
    assert json.loads(echoed["body"], object_pairs_hook=list) == json.loads(
        json.dumps(BODY), object_pairs_hook=list
    )
    assert [name for name in sent["request"]["headers"] if name.lower().startswith("x-")][:2] == [
        "x-zulu-header",
        "x-a",
    ]
    paths = list(CASE["steps"][1]["expect"]["json"])
    checks = [check["check"] for check in sent["assertions"] if "$." in check["check"]]
    assert [next(path for path in paths if path in check) for check in checks] == paths  # as written


async def test_stored_definitions_and_versions_keep_the_written_order(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    await harness.apply(CASE)
    stored = (await api.get(f"/projects/{harness.project}/test-cases/ordered")).json()["definition"]
    assert list(stored["steps"][0]["set"]) == ["zz", "a", "b"]
    assert list(stored["steps"][1]["request"]["json"]) == list(BODY)
    version = (await api.get(f"/projects/{harness.project}/test-cases/ordered/versions/1")).json()
    assert list(version["definition"]["steps"][0]["set"]) == ["zz", "a", "b"]

    # the same content written in another order is a new version; written again, unchanged
    reordered = json.loads(json.dumps(CASE))
    reordered["steps"][0]["set"] = {"a": "x", "zz": "first", "b": "y"}
    for case, result in [(reordered, "updated"), (reordered, "unchanged")]:
        response = await api.post(
            f"/projects/{harness.project}/apply", json={"test_cases": [case], "suites": []}
        )
        assert response.status_code == 200, response.text
        assert response.json()["test_cases"][0]["result"] == result


async def test_a_suite_keeps_the_written_order_of_its_variables(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    suite = {"suite": "s", "tests": ["ordered"], "variables": {"zz": 1, "a": 2, "mm": 3}}
    await harness.apply(CASE, suites=[suite])
    stored = (await api.get(f"/projects/{harness.project}/suites/s")).json()
    assert list(stored["variables"]) == ["zz", "a", "mm"]


async def test_a_suite_runs_its_tests_in_the_written_order(harness: Harness, api: httpx.AsyncClient) -> None:
    """parallelism 1: one after another, in the order `tests` lists them (not by name, not at random)."""
    names = ["charlie", "alpha", "echo", "bravo", "delta"]
    step = {"request": {"url": "{{ env.base_url }}/slow?ms=20"}}
    cases = [{"name": name, "steps": [step]} for name in names]
    await harness.apply(*cases, suites=[{"suite": "ordered", "tests": names, "parallelism": 1}])
    response = await api.post(
        "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "ordered"}
    )
    assert response.status_code == 201, response.text
    runs = [await harness.wait(run_id) for run_id in response.json()["runs"]]
    assert all(run["status"] == "PASSED" for run in runs)
    by_start = sorted(runs, key=lambda run: run["started_at"])
    assert [run["name"] for run in by_start] == names
    for before, after in itertools.pairwise(by_start):
        assert before["finished_at"] <= after["started_at"]  # one at a time
