"""Limits through the API: the platform-wide and tenant limits, and the project and environment ones."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orchestra.limits.service import effective_global_limit
from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem

DEFAULT = 32  # Settings.max_active_runs, unchanged by the test settings

# Values no limit of active runs accepts: out of range, not an integer, or not a number at all.
BAD_RUN_LIMITS: list[Any] = [0, -1, 100_001, 10**30, 1e308, "5", "many", 2.5, True, [], {}]
BAD_RATES: list[Any] = [0, 0.0, -1, -0.5, 100_000.5, 1e300, "5", "fast", True, [], {}]


async def put_raw(api: httpx.AsyncClient, method: str, url: str, body: str) -> httpx.Response:
    """Send a body verbatim (for NaN and Infinity, which no JSON encoder writes)."""
    return await api.request(method, url, content=body, headers={"content-type": "application/json"})


# -- global ---------------------------------------------------------------------------------------------


async def test_global_limit_defaults_to_the_setting(api: httpx.AsyncClient) -> None:
    response = await api.get("/limits")
    assert response.status_code == 200, response.text
    assert response.json() == {"max_active_runs": DEFAULT, "configured": None, "default": DEFAULT}


async def test_put_global_limit_then_clear_it(api: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await api.put("/limits", json={"max_active_runs": 5})
    assert response.status_code == 200, response.text
    assert response.json() == {"max_active_runs": 5, "configured": 5, "default": DEFAULT}
    assert (await api.get("/limits")).json() == {"max_active_runs": 5, "configured": 5, "default": DEFAULT}
    async with runtime.db.transaction(runtime.tenant_id) as session:
        assert await effective_global_limit(session, DEFAULT) == 5

    response = await api.put("/limits", json={"max_active_runs": 100_000})  # the upsert updates the row
    assert response.json()["max_active_runs"] == 100_000

    # JSON does not tell 7 from 7.0, and the schema says "integer": 7.0 is 7
    response = await api.put("/limits", json={"max_active_runs": 7.0})
    assert response.status_code == 200, response.text
    assert response.json()["configured"] == 7

    response = await api.put("/limits", json={"max_active_runs": None})
    assert response.status_code == 200, response.text
    expected = {"max_active_runs": DEFAULT, "configured": None, "default": DEFAULT}
    assert response.json() == expected
    assert (await api.get("/limits")).json() == expected
    async with runtime.db.transaction(runtime.tenant_id) as session:
        assert await effective_global_limit(session, 7) == 7


@pytest.mark.parametrize("value", BAD_RUN_LIMITS)
async def test_put_global_limit_refuses_bad_values(api: httpx.AsyncClient, value: Any) -> None:
    assert_problem(await api.put("/limits", json={"max_active_runs": value}), 422, "max_active_runs")
    assert (await api.get("/limits")).json()["configured"] is None


async def test_put_global_limit_refuses_bad_bodies(api: httpx.AsyncClient) -> None:
    assert_problem(await api.put("/limits", json={}), 422, "max_active_runs")
    assert_problem(await api.put("/limits", json={"max_active_runs": 3, "other": 1}), 422, "other")
    assert_problem(await api.put("/limits", json=[3]), 422)
    assert_problem(await put_raw(api, "PUT", "/limits", '{"max_active_runs": NaN}'), 422, "max_active_runs")


# -- tenant ---------------------------------------------------------------------------------------------


async def test_tenant_weight_and_limit(api: httpx.AsyncClient) -> None:
    response = await api.get("/tenant")
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "default", "weight": 1, "max_active_runs": None}

    response = await api.patch("/tenant", json={"weight": 3, "max_active_runs": 10})
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "default", "weight": 3, "max_active_runs": 10}

    response = await api.patch("/tenant", json={})  # nothing given: nothing changes
    assert response.json() == {"name": "default", "weight": 3, "max_active_runs": 10}
    response = await api.patch("/tenant", json={"weight": 1000})  # the limit is kept
    assert response.json() == {"name": "default", "weight": 1000, "max_active_runs": 10}
    response = await api.patch("/tenant", json={"max_active_runs": None})  # the weight is kept
    assert response.json() == {"name": "default", "weight": 1000, "max_active_runs": None}
    assert (await api.get("/tenant")).json() == {"name": "default", "weight": 1000, "max_active_runs": None}


@pytest.mark.parametrize("value", [0, -2, 1001, 10**30, None, "2", 1.5, True, []])
async def test_tenant_weight_refuses_bad_values(api: httpx.AsyncClient, value: Any) -> None:
    assert_problem(await api.patch("/tenant", json={"weight": value}), 422, "weight")
    assert (await api.get("/tenant")).json()["weight"] == 1


@pytest.mark.parametrize("value", BAD_RUN_LIMITS)
async def test_tenant_limit_refuses_bad_values(api: httpx.AsyncClient, value: Any) -> None:
    assert_problem(await api.patch("/tenant", json={"max_active_runs": value}), 422, "max_active_runs")
    assert (await api.get("/tenant")).json()["max_active_runs"] is None


async def test_tenant_refuses_unknown_fields(api: httpx.AsyncClient) -> None:
    assert_problem(await api.patch("/tenant", json={"name": "other"}), 422, "name")
    assert_problem(await put_raw(api, "PATCH", "/tenant", '{"weight": NaN}'), 422, "weight")


# -- project --------------------------------------------------------------------------------------------


async def test_project_limit_set_kept_and_cleared(api: httpx.AsyncClient) -> None:
    response = await api.post("/projects", json={"name": "plain"})
    assert response.status_code == 201, response.text
    assert response.json()["max_active_runs"] is None

    response = await api.post("/projects", json={"name": "capped", "max_active_runs": 4})
    assert response.status_code == 201, response.text
    assert response.json()["max_active_runs"] == 4
    assert (await api.get("/projects/capped")).json()["max_active_runs"] == 4
    listed = (await api.get("/projects")).json()["items"]
    assert {item["name"]: item["max_active_runs"] for item in listed} == {"capped": 4, "plain": None}

    response = await api.patch("/projects/capped", json={"description": "kept limit"})
    assert response.json()["max_active_runs"] == 4
    response = await api.patch("/projects/capped", json={"max_active_runs": 100_000})
    assert response.json()["max_active_runs"] == 100_000
    response = await api.patch("/projects/capped", json={"max_active_runs": None})
    assert response.status_code == 200, response.text
    assert response.json()["max_active_runs"] is None
    assert response.json()["description"] == "kept limit"
    assert (await api.get("/projects/capped")).json()["max_active_runs"] is None


@pytest.mark.parametrize("value", BAD_RUN_LIMITS)
async def test_project_limit_refuses_bad_values(api: httpx.AsyncClient, value: Any) -> None:
    body = {"name": "p", "max_active_runs": value}
    assert_problem(await api.post("/projects", json=body), 422, "max_active_runs")
    assert (await api.post("/projects", json={"name": "p"})).status_code == 201
    assert_problem(await api.patch("/projects/p", json={"max_active_runs": value}), 422, "max_active_runs")
    assert (await api.get("/projects/p")).json()["max_active_runs"] is None


# -- environment ----------------------------------------------------------------------------------------


@pytest.fixture
async def project(api: httpx.AsyncClient) -> str:
    response = await api.post("/projects", json={"name": "shop"})
    assert response.status_code == 201, response.text
    return "/projects/shop/environments"


async def test_environment_limits_through_post_patch_and_put(api: httpx.AsyncClient, project: str) -> None:
    response = await api.post(project, json={"name": "plain", "base_url": "http://sut.test"})
    assert response.status_code == 201, response.text
    assert (response.json()["max_active_runs"], response.json()["max_requests_per_s"]) == (None, None)

    body = {"name": "env", "base_url": "http://sut.test", "max_active_runs": 3, "max_requests_per_s": 2.5}
    response = await api.post(project, json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["max_active_runs"], response.json()["max_requests_per_s"]) == (3, 2.5)

    async def limits() -> tuple[Any, Any]:
        got = (await api.get(f"{project}/env")).json()
        return got["max_active_runs"], got["max_requests_per_s"]

    assert await limits() == (3, 2.5)
    response = await api.patch(f"{project}/env", json={"max_requests_per_s": 100})  # an integer is a rate
    assert response.status_code == 200, response.text
    assert await limits() == (3, 100.0)
    await api.patch(f"{project}/env", json={"variables": {"a": 1}})  # fields not given are kept
    assert await limits() == (3, 100.0)
    await api.patch(f"{project}/env", json={"max_active_runs": None})
    assert await limits() == (None, 100.0)
    await api.patch(f"{project}/env", json={"max_requests_per_s": None, "max_active_runs": 100_000})
    assert await limits() == (100_000, None)

    # PUT: limits given are set, omitted ones kept, null removes.
    response = await api.put(
        f"{project}/env", json={"base_url": "http://sut.test", "max_requests_per_s": 0.5}
    )
    assert response.status_code == 200, response.text
    assert await limits() == (100_000, 0.5)
    await api.put(f"{project}/env", json={"base_url": "http://sut.test", "max_active_runs": None})
    assert await limits() == (None, 0.5)
    response = await api.put(f"{project}/new", json={"base_url": "http://sut.test", "max_active_runs": 2})
    assert response.status_code == 201, response.text
    assert (response.json()["max_active_runs"], response.json()["max_requests_per_s"]) == (2, None)

    listed = (await api.get(project)).json()["items"]
    assert {item["name"]: item["max_requests_per_s"] for item in listed} == {
        "env": 0.5,
        "new": None,
        "plain": None,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_active_runs", value) for value in BAD_RUN_LIMITS]
    + [("max_requests_per_s", value) for value in BAD_RATES],
)
async def test_environment_limits_refuse_bad_values(
    api: httpx.AsyncClient, project: str, field: str, value: Any
) -> None:
    base = {"base_url": "http://sut.test"}
    assert_problem(await api.post(project, json={"name": "e", **base, field: value}), 422, field)
    assert_problem(await api.put(f"{project}/e", json={**base, field: value}), 422, field)
    assert (await api.get(f"{project}/e")).status_code == 404
    assert (await api.post(project, json={"name": "e", **base})).status_code == 201
    assert_problem(await api.patch(f"{project}/e", json={field: value}), 422, field)
    assert (await api.get(f"{project}/e")).json()[field] is None


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_environment_rate_refuses_non_finite_numbers(
    api: httpx.AsyncClient, project: str, literal: str
) -> None:
    body = '{"name": "e", "base_url": "http://sut.test", "max_requests_per_s": ' + literal + "}"
    assert_problem(await put_raw(api, "POST", project, body), 422, "max_requests_per_s")
    assert (await api.post(project, json={"name": "e", "base_url": "http://sut.test"})).status_code == 201
    patch = '{"max_requests_per_s": ' + literal + "}"
    assert_problem(await put_raw(api, "PATCH", f"{project}/e", patch), 422, "max_requests_per_s")
    assert (await api.get(f"{project}/e")).json()["max_requests_per_s"] is None
