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


async def test_listing_filters_by_case_environment_trigger(ready: Harness, api: httpx.AsyncClient) -> None:
    await ready.apply({"name": "other", "steps": [{"request": {"url": "{{ env.base_url }}/health"}}]})
    ok = await ready.wait(await ready.start("ok"))
    other = await ready.wait(await ready.start("other"))

    async def ids(**params: str | None) -> list[str]:
        wanted = {name: value for name, value in {"project": ready.project, **params}.items() if value}
        response = await api.get("/runs", params=wanted)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(test_case="ok") == [ok["id"]]
    assert await ids(test_case=other["test_case_id"]) == [other["id"]]  # by id too
    assert sorted(await ids(environment="sut")) == sorted([ok["id"], other["id"]])
    assert sorted(await ids(trigger=ok["trigger"])) == sorted([ok["id"], other["id"]])
    assert await ids(trigger="schedule") == []
    assert await ids(test_case="ok", project=None) == [ok["id"]]  # without project: in every project
    assert sorted(await ids(environment="sut", project=None)) == sorted([ok["id"], other["id"]])
    assert await ids(test_case="nope", project=None) == []
    in_project = {"project": ready.project}
    assert_problem(await api.get("/runs", params={**in_project, "test_case": "nope"}), 404, "nope")
    assert_problem(await api.get("/runs", params={**in_project, "environment": "x"}), 404, "'x'")
    assert_problem(await api.get("/runs", params={"trigger": "cron"}), 422, "trigger")
    assert_problem(await api.get("/runs", params={**in_project, "test_case": ""}), 422, "test_case")


async def test_a_variable_the_test_case_does_not_declare_or_use_is_refused(
    ready: Harness, api: httpx.AsyncClient
) -> None:
    await ready.apply(
        {
            "name": "login",
            "variables": {"user": "demo"},
            "parameters": [{"pw": "a"}],
            "steps": [
                {
                    "request": {"url": "/echo", "headers": {"X-Token": "{{ token }}", "X-Pw": "{{ pw }}"}},
                    "capture": {"echoed": "$.path"},
                },
                {"set": {"later": "{{ echoed }}"}},
            ],
        },
        {"name": "reads all", "steps": [{"request": {"url": "/echo?x={{ vars | length }}"}}]},
    )
    base = {"project": ready.project, "environment": "sut", "test_case": "login"}
    before = (await api.get("/runs", params={"project": ready.project})).json()["total"]
    problem = assert_problem(
        await api.post("/runs", json={**base, "variables": {"usr": "x", "user": "y", "pws": 1}}), 422
    )
    assert problem["detail"] == (
        "test case 'login' does not declare or use the variables 'usr', 'pws' (it declares: user); a run may "
        "set the variables a test case declares, its parameters' columns, and the names its templates read"
    )
    assert (await api.get("/runs", params={"project": ready.project})).json()["total"] == before
    declared = {"user": "y", "pw": "b", "token": "t", "echoed": "e", "later": "l"}  # each one is usable
    assert (await api.post("/runs", json={**base, "variables": declared})).status_code == 201
    reads_all = {**base, "test_case": "reads all", "variables": {"anything": 1}}  # `vars`: any name
    assert (await api.post("/runs", json=reads_all)).status_code == 201
    ok = {**base, "test_case": "ok", "variables": {"x": 1}}
    assert_problem(await api.post("/runs", json=ok), 422, "(it declares no variables)")


async def test_a_data_driven_test_case_runs_once_per_row(ready: Harness, api: httpx.AsyncClient) -> None:
    await ready.apply(
        {
            "name": "per row",
            "variables": {"greeting": "hi"},
            "parameters": [{"word": "one"}, {"word": "two"}],
            "steps": [{"request": {"url": "/echo?w={{ word }}&g={{ greeting }}"}, "expect": {"status": 200}}],
        }
    )
    base = {"project": ready.project, "environment": "sut", "test_case": "per row"}
    created = await api.post("/runs", json={**base, "variables": {"greeting": "hello"}})
    assert created.status_code == 201, created.text
    ids = created.json()["runs"]
    assert created.json()["id"] == ids[0]
    runs = [await ready.wait(uuid.UUID(run_id)) for run_id in ids]
    assert [run["name"] for run in runs] == ["per row [word=one]", "per row [word=two]"]
    assert [run["status"] for run in runs] == ["PASSED", "PASSED"]
    sent = [run["steps"][0]["request"]["url"] for run in runs]
    assert [url.split("/echo")[1] for url in sent] == ["?w=one&g=hello", "?w=two&g=hello"]
