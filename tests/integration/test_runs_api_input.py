"""Hostile and malformed input to the run endpoints: a clear 4xx problem, never a 500, nothing stored."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import Harness, assert_problem


@pytest.fixture
async def ready(harness: Harness) -> Harness:
    await harness.apply({"name": "ok", "steps": [{"request": {"url": "{{ env.base_url }}/health"}}]})
    return harness


async def test_malformed_bodies_are_refused(ready: Harness, api: httpx.AsyncClient) -> None:
    base = {"project": ready.project, "environment": "sut", "test_case": "ok"}
    assert_problem(
        await api.post("/runs", content=b"{not json", headers={"content-type": "application/json"}),
        422,
        "JSON",
    )
    assert_problem(
        await api.post("/runs", content=b"\xff\xfe\x00", headers={"content-type": "application/json"}),
        400,
        "UTF-8",
    )
    assert_problem(await api.post("/runs", json={**base, "surprise": 1}), 422, "surprise")
    assert_problem(await api.post("/runs", json={**base, "priority": "high"}), 422, "priority")
    assert_problem(await api.post("/runs", json={**base, "priority": 10**6}), 422, "priority")
    assert_problem(await api.post("/runs", json={**base, "variables": {"bad-name": 1}}), 422, "identifier")
    assert_problem(await api.post("/runs", json={**base, "variables": {"x": "a\u0000b"}}), 422, "NUL")
    assert_problem(await api.post("/runs", json={**base, "test_case": "x" * 5000}), 422, "test_case")
    assert_problem(await api.post("/suite-runs", json={**base}), 422, "")
    listing = await api.get("/runs", params={"project": ready.project})
    assert listing.json()["total"] == 0


async def test_unknown_targets_are_404(ready: Harness, api: httpx.AsyncClient) -> None:
    base = {"project": ready.project, "environment": "sut", "test_case": "ok"}
    assert_problem(await api.post("/runs", json={**base, "project": "nope"}), 404, "project 'nope'")
    assert_problem(await api.post("/runs", json={**base, "environment": "nope"}), 404, "nope")
    assert_problem(await api.post("/runs", json={**base, "test_case": "nope"}), 404, "test case 'nope'")
    missing = uuid.uuid4()
    assert_problem(await api.get(f"/runs/{missing}"), 404, str(missing))
    assert_problem(await api.post(f"/runs/{missing}/cancel"), 404, str(missing))
    assert_problem(await api.get(f"/suite-runs/{missing}/report"), 404, str(missing))
    assert_problem(await api.get("/runs/not-a-uuid"), 422, "run_id")
    assert_problem(await api.get("/projects/a%00b"), 404, "does not exist")


async def test_query_parameters_are_validated(ready: Harness, api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/runs", params={"status": "DONE"}), 422, "status")
    assert_problem(await api.get("/runs", params={"limit": 100000}), 422, "limit")
    assert_problem(await api.get("/runs", params={"offset": -1}), 422, "offset")
    run_id = await ready.start("ok")
    await ready.wait(run_id)
    assert_problem(await api.get(f"/runs/{run_id}/report", params={"format": "pdf"}), 422, "format")


async def test_oversized_body_is_413(ready: Harness, api: httpx.AsyncClient) -> None:
    huge = {
        "project": ready.project,
        "environment": "sut",
        "test_case": "ok",
        "variables": {"x": "a" * 3_000_000},
    }
    assert_problem(await api.post("/runs", json=huge), 413, "larger than")


async def test_run_with_variable_overrides_and_listing(ready: Harness, api: httpx.AsyncClient) -> None:
    await ready.apply(
        {
            "name": "uses var",
            "variables": {"path": "nothing"},
            "steps": [{"request": {"url": "{{ env.base_url }}/{{ path }}"}, "expect": {"status": 200}}],
        }
    )
    run = await ready.wait(await ready.start("uses var", variables={"path": "health"}, priority=7))
    assert run["status"] == "PASSED"
    assert run["priority"] == 7
    assert run["steps"][0]["request"]["url"].endswith("/health")
    listing = (await api.get("/runs", params={"project": ready.project, "status": "PASSED"})).json()
    assert listing["total"] == 1
    assert listing["items"][0]["id"] == run["id"]
    assert listing["items"][0]["steps"] is None
