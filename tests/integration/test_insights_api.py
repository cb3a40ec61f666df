"""Insights through the API on a crafted history in the real PostgreSQL: flakiness with its evidence, run
comparison, trends and operations; bad input is a clear 4xx; another tenant or project sees nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem
from tests.integration.insights_history import History


@pytest.fixture
async def history(api: httpx.AsyncClient, runtime: Runtime) -> History:
    shop = History(api, runtime, "shop")
    await shop.setup("flaky", "broken", "healthy", environments=("sut", "staging"))
    return shop


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def test_flakiness_classifies_a_crafted_history_with_the_runs_as_evidence(
    api: httpx.AsyncClient, history: History
) -> None:
    flaky = await history.runs("flaky", "PFPPFP")
    await history.runs("broken", "FFEF")
    await history.runs("healthy", "PPCP")
    await history.runs("healthy", "FFF", environment="staging")  # another SUT: a series of its own
    page = await ok(await api.get("/insights/flakiness", params={"project": "shop", "environment": "sut"}))
    assert page["total"] == 3
    shown = {item["test_case"]: item for item in page["items"]}
    assert [item["test_case"] for item in page["items"]] == ["flaky", "broken", "healthy"]
    assert {name: item["classification"] for name, item in shown.items()} == {
        "flaky": "flaky",
        "broken": "broken",
        "healthy": "healthy",
    }
    item = shown["flaky"]
    assert (item["score"], item["flips"], item["transitions"], item["recoveries"]) == (0.8, 4, 5, 2)
    assert [(flip["from_run"], flip["to_run"]) for flip in item["evidence"]] == [
        (str(flaky[0]), str(flaky[1])),
        (str(flaky[1]), str(flaky[2])),
        (str(flaky[3]), str(flaky[4])),
        (str(flaky[4]), str(flaky[5])),
    ]
    steps = {step["name"]: step for step in item["steps"]}
    assert steps["pay"]["failed_runs"] == [str(flaky[1]), str(flaky[4])]
    assert (steps["pay"]["score"], steps["login"]["score"]) == (0.8, 0.0)
    assert shown["healthy"]["runs"] == 3  # the cancelled run is no verdict
    on_staging = await ok(
        await api.get("/insights/flakiness", params={"project": "shop", "environment": "staging"})
    )
    assert [(i["test_case"], i["classification"]) for i in on_staging["items"]] == [("healthy", "broken")]


async def test_flakiness_pages_and_filters(api: httpx.AsyncClient, history: History) -> None:
    await history.runs("flaky", "PFP")
    await history.runs("broken", "FF")
    await history.runs("healthy", "PP")
    first = await ok(await api.get("/insights/flakiness", params={"project": "shop", "limit": 1}))
    assert (first["total"], [i["test_case"] for i in first["items"]]) == (3, ["flaky"])
    second = await ok(
        await api.get("/insights/flakiness", params={"project": "shop", "limit": 1, "offset": 1})
    )
    assert [i["test_case"] for i in second["items"]] == ["broken"]
    only = await ok(
        await api.get("/insights/flakiness", params={"project": "shop", "classification": "broken"})
    )
    assert [i["test_case"] for i in only["items"]] == ["broken"]
    one = await ok(await api.get("/insights/flakiness", params={"project": "shop", "test_case": "healthy"}))
    assert [i["test_case"] for i in one["items"]] == ["healthy"]


async def test_runs_outside_the_window_are_not_scored(api: httpx.AsyncClient, history: History) -> None:
    from datetime import UTC, datetime, timedelta

    await history.runs("flaky", "PFPF", at=datetime.now(UTC) - timedelta(days=10))
    await history.runs("flaky", "PP", at=datetime.now(UTC) - timedelta(days=1))
    page = await ok(await api.get("/insights/flakiness", params={"project": "shop", "days": 3}))
    assert [(i["test_case"], i["runs"], i["classification"]) for i in page["items"]] == [
        ("flaky", 2, "healthy")
    ]
    page = await ok(await api.get("/insights/flakiness", params={"project": "shop", "days": 30}))
    assert page["items"][0]["runs"] == 6


@pytest.mark.parametrize(
    ("params", "status", "needle"),
    [
        ({"project": "shop", "days": 0}, 422, "days"),
        ({"project": "shop", "days": 367}, 422, "days"),
        ({"project": "shop", "days": "week"}, 422, "days"),
        ({}, 422, "project"),
        ({"project": "shop", "classification": "wobbly"}, 422, "classification"),
        ({"project": "nowhere"}, 404, "nowhere"),
        ({"project": "shop", "environment": "moon"}, 404, "moon"),
        ({"project": "shop", "test_case": "ghost"}, 404, "ghost"),
    ],
)
@pytest.mark.parametrize("path", ["/insights/flakiness", "/insights/trends", "/insights/operations"])
async def test_bad_filters_are_a_clear_4xx(
    api: httpx.AsyncClient, history: History, path: str, params: dict[str, Any], status: int, needle: str
) -> None:
    if "classification" in params:  # each path's own enumerated or bounded parameter
        bad = {"/insights/trends": ("bucket", "fortnight"), "/insights/operations": ("limit", "0")}
        name, value = bad.get(path, ("classification", "wobbly"))
        params, needle = {"project": "shop", name: value}, name
    assert_problem(await api.get(path, params=params), status, needle)


async def test_compare_shows_the_steps_checks_bodies_and_variables_side_by_side(
    api: httpx.AsyncClient, history: History
) -> None:
    passed, failed = await history.runs(
        "flaky",
        "PF",
        bodies=[{"id": 7, "state": "paid", "items": [1, 2]}, {"id": 7, "state": "open", "items": [1]}],
    )
    body = await ok(await api.get(f"/runs/{failed}/compare", params={"with": str(passed)}))
    assert (body["left"]["id"], body["right"]["id"]) == (str(failed), str(passed))
    steps = {step["name"]: step for step in body["steps"]}
    # login passed in both runs, but its response body (the crafted one, as pay's) differs
    assert (steps["login"]["left_status"], steps["login"]["right_status"]) == ("passed", "passed")
    assert steps["login"]["same"] is False
    pay = steps["pay"]
    assert (pay["left_status"], pay["right_status"]) == ("failed", "passed")
    assert (pay["left_response_status"], pay["right_response_status"]) == (503, 200)
    assert {(d["path"], d["change"]) for d in pay["body"]} == {
        ("$.state", "changed"),
        ("$.items[1]", "added"),
    }
    assert pay["checks"] == [
        {
            "check": "status",
            "left_passed": False,
            "right_passed": True,
            "expected": 200,
            "left_actual": 503,
            "right_actual": 200,
        }
    ]
    assert body["captured"] == [{"path": "$.order", "change": "changed", "left": 1, "right": 0}]


async def test_compare_with_the_last_pass_is_one_call_away(api: httpx.AsyncClient, history: History) -> None:
    runs = await history.runs("flaky", "PPFF")
    await history.runs("flaky", "P", environment="staging")  # later, but on another environment
    body = await ok(await api.get(f"/runs/{runs[3]}/compare", params={"with": "last_pass"}))
    assert body["right"]["id"] == str(runs[1])
    default = await ok(await api.get(f"/runs/{runs[3]}/compare"))
    assert default["right"]["id"] == str(runs[1])
    same = await ok(await api.get(f"/runs/{runs[0]}/compare", params={"with": str(runs[0])}))
    assert all(step["same"] for step in same["steps"])


async def test_compare_refuses_what_cannot_be_compared(api: httpx.AsyncClient, history: History) -> None:
    flaky = await history.runs("flaky", "FP")
    broken = await history.runs("broken", "F")
    unknown = uuid.uuid4()
    assert_problem(
        await api.get(f"/runs/{flaky[0]}/compare", params={"with": str(broken[0])}), 422, "different"
    )
    assert_problem(
        await api.get(f"/runs/{flaky[0]}/compare", params={"with": str(unknown)}), 404, str(unknown)
    )
    assert_problem(
        await api.get(f"/runs/{unknown}/compare", params={"with": str(flaky[0])}), 404, str(unknown)
    )
    assert_problem(await api.get(f"/runs/{flaky[0]}/compare", params={"with": "yesterday"}), 422, "last_pass")
    assert_problem(await api.get(f"/runs/{flaky[0]}/compare", params={"with": "last_pass"}), 404, "passing")
    assert_problem(await api.get("/runs/not-a-run/compare"), 422, "run_id")


async def test_trends_give_pass_rate_durations_and_failing_steps(
    api: httpx.AsyncClient, history: History
) -> None:
    await history.runs("flaky", "PFPF")
    body = await ok(await api.get("/insights/trends", params={"project": "shop", "bucket": "week"}))
    runs = sum(bucket["runs"] for bucket in body["buckets"])
    passes = sum(bucket["passes"] for bucket in body["buckets"])
    assert (runs, passes) == (4, 2)
    if len(body["buckets"]) == 1:  # the four runs a minute apart fell into one week
        bucket = body["buckets"][0]
        assert bucket["pass_rate"] == 0.5
        # 100, 200, 300, 400 ms, read from the daily rollup's duration buckets: within 1 % (docs/insights.md)
        assert bucket["duration_p50_ms"] == pytest.approx(250.0, rel=0.01)
        assert bucket["duration_p95_ms"] == pytest.approx(385.0, rel=0.01)
    by_hour = await ok(await api.get("/insights/trends", params={"project": "shop", "bucket": "hour"}))
    if len(by_hour["buckets"]) == 1:  # computed from the runs: exact
        assert (by_hour["buckets"][0]["duration_p50_ms"], by_hour["buckets"][0]["duration_p95_ms"]) == (
            250.0,
            385.0,
        )
    assert body["failures_by_step"] == [{"phase": "main", "name": "pay", "failures": 2}]
    empty = await ok(await api.get("/insights/trends", params={"project": "shop", "test_case": "healthy"}))
    assert (empty["buckets"], empty["failures_by_step"]) == ([], [])


async def test_operations_group_calls_by_method_and_path_template(
    api: httpx.AsyncClient, history: History
) -> None:
    await history.runs("flaky", "PFPF")
    page = await ok(await api.get("/insights/operations", params={"project": "shop"}))
    assert page["total"] == 2
    stats = {(item["method"], item["path"]): item for item in page["items"]}
    pay = stats[("POST", "/orders/{id}/pay")]
    assert (pay["calls"], pay["errors"], pay["error_rate"]) == (4, 2, 0.5)
    # read from the daily rollup's latency buckets: within 1 % (docs/insights.md)
    assert pay["latency_p50_ms"] == pytest.approx(20.0, rel=0.01)
    assert pay["latency_p95_ms"] == pytest.approx(20.0, rel=0.01)
    one_case = {"project": "shop", "test_case": "flaky"}  # computed from the steps: exact
    exact = await ok(await api.get("/insights/operations", params=one_case))
    pay = {(item["method"], item["path"]): item for item in exact["items"]}[("POST", "/orders/{id}/pay")]
    assert (pay["calls"], pay["errors"], pay["latency_p50_ms"], pay["latency_p95_ms"]) == (4, 2, 20.0, 20.0)
    assert stats[("POST", "/login")]["errors"] == 0
    paged = await ok(
        await api.get("/insights/operations", params={"project": "shop", "limit": 1, "offset": 5})
    )
    assert (paged["items"], paged["total"]) == ([], 2)


async def test_another_tenant_or_project_sees_nothing(
    api: httpx.AsyncClient, history: History, runtime: Runtime
) -> None:
    runs = await history.runs("flaky", "PF")
    other = History(api, runtime, "other")
    await other.setup("flaky")
    theirs = await other.runs("flaky", "P")
    response = await api.post("/tokens", json={"name": "ci", "role": "viewer", "project": "other"})
    assert response.status_code == 201, response.text
    scoped = {"Authorization": f"Bearer {response.json()['token']}"}
    assert_problem(
        await api.get("/insights/flakiness", params={"project": "shop"}, headers=scoped), 404, "shop"
    )
    assert_problem(await api.get(f"/runs/{runs[1]}/compare", headers=scoped), 404, str(runs[1]))
    assert_problem(
        await api.get(f"/runs/{theirs[0]}/compare", params={"with": str(runs[0])}, headers=scoped), 404
    )
    page = await ok(await api.get("/insights/flakiness", params={"project": "other"}, headers=scoped))
    assert [item["test_case"] for item in page["items"]] == ["flaky"]
    # the project's own insights count only its own runs
    assert page["items"][0]["runs"] == 1
