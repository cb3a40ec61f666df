"""An environment's request defaults: set and read through the API, inherited by every request of its runs
(under the suite's, the test case's and the step's own), masked where they hold secrets; bad input is 422."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Harness, assert_problem

DEFAULTS = {
    "headers": {"X-Team": "platform", "X-Zone": "eu", "Accept": "application/json"},
    "query": {"lang": "en"},
    "auth": {"bearer": {"token": "{{ secrets.api_password }}"}},
    "timeout_ms": 5000,
}


def env_path(harness: Harness) -> str:
    return f"/projects/{harness.project}/environments/sut"


def echo_step(**request: Any) -> dict[str, Any]:
    return {"request": {"url": "/echo", **request}, "expect": {"status": 200}}


async def test_defaults_are_stored_in_written_order_and_replaced_or_removed(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    response = await api.patch(env_path(harness), json={"defaults": DEFAULTS})
    assert response.status_code == 200, response.text
    stored = (await api.get(env_path(harness))).json()["defaults"]
    assert stored == DEFAULTS
    assert list(stored["headers"]) == ["X-Team", "X-Zone", "Accept"]  # as written
    kept = await api.patch(env_path(harness), json={"variables": {"a": 1}})
    assert kept.json()["defaults"] == DEFAULTS  # omitted: kept
    put = await api.put(env_path(harness), json={"base_url": harness.base_url})
    assert put.json()["defaults"] == DEFAULTS  # omitted in a PUT: kept as well
    replaced = await api.patch(env_path(harness), json={"defaults": {"timeout_ms": 100}})
    assert replaced.json()["defaults"] == {"timeout_ms": 100}
    removed = await api.patch(env_path(harness), json={"defaults": None})
    assert removed.json()["defaults"] == {}
    created = await api.post(
        f"/projects/{harness.project}/environments",
        json={"name": "other", "base_url": "http://x.test", "defaults": {"headers": {"A": 1}}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["defaults"] == {"headers": {"A": "1"}}


@pytest.mark.parametrize(
    ("defaults", "needle"),
    [
        ({"header": {"A": "b"}}, "Extra inputs"),
        ({"headers": {"A": {"nested": 1}}}, "headers"),
        ({"headers": "no template"}, "template"),
        ({"timeout_ms": 0}, "timeout_ms"),
        ({"timeout_ms": 10**9}, "timeout_ms"),
        ({"auth": {"bearer": {"token": "a"}, "basic": {"username": "u", "password": "p"}}}, "exactly one"),
        ({"auth": {"api_key": {"name": "k", "value": "v", "in": "cookie"}}}, "in"),
        ([1, 2], "defaults"),
    ],
)
async def test_invalid_defaults_are_refused(
    harness: Harness, api: httpx.AsyncClient, defaults: Any, needle: str
) -> None:
    assert_problem(await api.patch(env_path(harness), json={"defaults": defaults}), 422, needle)
    assert (await api.get(env_path(harness))).json()["defaults"] == {}


async def test_every_request_inherits_the_environment_defaults_under_the_more_specific_ones(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    response = await api.patch(env_path(harness), json={"defaults": DEFAULTS})
    assert response.status_code == 200, response.text
    run = await harness.run(
        {
            "name": "env defaults",
            "defaults": {"headers": {"X-Zone": "us"}},
            "steps": [
                echo_step(),
                echo_step(headers={"X-Team": None, "Accept": "text/plain"}, query={"lang": "de"}, auth=None),
            ],
        }
    )
    assert run["status"] == "PASSED", run["status_reason"]
    first, second = (json.loads(step["response"]["body"]) for step in run["steps"])
    assert first["headers"]["x-team"] == "platform"
    assert first["headers"]["x-zone"] == "us"  # the test case's default over the environment's
    assert first["headers"]["authorization"] == "Bearer ********"  # the secret, masked where stored
    assert first["query"] == {"lang": "en"}
    assert "x-team" not in second["headers"]  # removed by the step
    assert second["headers"]["accept"] == "text/plain"
    assert "authorization" not in second["headers"]
    assert second["query"] == {"lang": "de"}
