"""GET /runs narrowed by suite, tag, creation time and text, in every sort order, and its bad input."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Harness, assert_problem

SORTS = ["created_at", "name", "status", "duration"]


def case(name: str, tags: list[str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "steps": [{"request": {"url": "{{ env.base_url }}/health"}}]}
    if tags is not None:
        found["tags"] = tags
    return found


@pytest.fixture
async def runs(harness: Harness, api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Four finished runs: "Alpha 100%" (tag smoke), "alphaZx", "alpha_x" (tag slow, through the suite)
    and "omega", created in this order."""
    suite = f"s-{harness.project}"
    await harness.apply(
        case("Alpha 100%", ["smoke"]),
        case("alpha_x", ["slow"]),
        case("alphaZx"),
        case("omega"),
        suites=[{"suite": suite, "tests": ["alpha_x"]}],
    )
    made = {"Alpha 100%": await harness.wait(await harness.start("Alpha 100%"))}
    made["alphaZx"] = await harness.wait(await harness.start("alphaZx"))
    response = await api.post(
        "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": suite}
    )
    assert response.status_code == 201, response.text
    made["alpha_x"] = await harness.wait(uuid.UUID(response.json()["runs"][0]))
    made["omega"] = await harness.wait(await harness.start("omega"))
    return made


async def listed(api: httpx.AsyncClient, project: str | None, **params: Any) -> list[str]:
    wanted = {"project": project, "limit": 100, **params}
    response = await api.get(
        "/runs", params={key: value for key, value in wanted.items() if value is not None}
    )
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_narrowed_by_suite_tag_and_text(
    harness: Harness, api: httpx.AsyncClient, runs: dict[str, dict[str, Any]]
) -> None:
    project = harness.project
    suite = f"s-{project}"
    assert await listed(api, project, suite=suite) == ["alpha_x"]
    suite_id = (await api.get(f"/projects/{project}/suites/{suite}")).json()["id"]
    assert await listed(api, None, suite=suite_id) == ["alpha_x"]  # by id, in every project
    assert await listed(api, None, suite=suite) == ["alpha_x"]
    assert_problem(await api.get("/runs", params={"project": project, "suite": "nope"}), 404, "nope")
    assert await listed(api, None, suite="nope") == []
    assert await listed(api, None, suite="s\x00") == []  # no name can hold a NUL
    assert_problem(await api.get("/runs", params={"project": project, "suite": "s\x00"}), 404, "suite")

    assert await listed(api, project, tag="smoke") == ["Alpha 100%"]
    assert await listed(api, project, tag="slow") == ["alpha_x"]
    assert await listed(api, project, tag="smok") == []  # a whole tag, not a part of one
    assert await listed(api, project, tag="smoke", q="omega") == []
    assert await listed(api, project, tag="smoke\x00") == []

    # The text is found case-insensitively, and its LIKE wildcards stand for themselves.
    assert sorted(await listed(api, project, q="ALPHA")) == ["Alpha 100%", "alphaZx", "alpha_x"]
    assert await listed(api, project, q="%") == ["Alpha 100%"]
    assert await listed(api, project, q="a_x") == ["alpha_x"]  # not "alphaZx"
    assert await listed(api, project, q="0%") == ["Alpha 100%"]
    assert await listed(api, project, q="\\") == []
    assert await listed(api, project, q="x" * 200) == []
    assert await listed(api, project, q="a\x00") == []  # no name can hold a NUL


async def test_created_window(
    harness: Harness, api: httpx.AsyncClient, runs: dict[str, dict[str, Any]]
) -> None:
    project = harness.project
    middle = runs["alphaZx"]["created_at"]
    assert await listed(api, project, created_after=middle, sort="created_at") == [
        "alphaZx",
        "alpha_x",
        "omega",
    ]
    assert await listed(api, project, created_before=middle) == ["Alpha 100%"]  # exclusive
    assert await listed(api, project, created_after=middle, created_before=middle) == []
    later = datetime.fromisoformat(runs["omega"]["created_at"]) + timedelta(seconds=1)
    naive = later.replace(tzinfo=None).isoformat()  # without an offset: UTC
    assert len(await listed(api, project, created_before=naive)) == 4
    assert await listed(api, project, created_after=later.isoformat()) == []


async def test_sorted_and_paged_stably(
    harness: Harness, api: httpx.AsyncClient, runs: dict[str, dict[str, Any]]
) -> None:
    project = harness.project
    newest_first = await listed(api, project)
    assert newest_first == ["omega", "alpha_x", "alphaZx", "Alpha 100%"]
    assert await listed(api, project, sort="-created_at") == newest_first
    for key in SORTS:
        ascending = await listed(api, project, sort=key)
        assert sorted(ascending) == sorted(newest_first)
        assert await listed(api, project, sort=f"-{key}") == ascending[::-1], key  # ties broken by id
        paged = []
        for offset in range(4):
            response = await api.get(
                "/runs", params={"project": project, "sort": key, "limit": 1, "offset": offset}
            )
            assert response.status_code == 200, response.text
            assert response.json()["total"] == 4
            paged += [item["name"] for item in response.json()["items"]]
        assert paged == ascending, key
    assert (await listed(api, project, sort="name"))[-1] == "omega"
    assert (await listed(api, project, sort="-name"))[0] == "omega"
    durations = [
        datetime.fromisoformat(runs[name]["finished_at"]) - datetime.fromisoformat(runs[name]["started_at"])
        for name in await listed(api, project, sort="duration")
    ]
    assert durations == sorted(durations)


async def test_bad_list_parameters_are_refused(harness: Harness, api: httpx.AsyncClient) -> None:
    project = {"project": harness.project}
    assert_problem(await api.get("/runs", params={**project, "sort": "priority"}), 422, "sort")
    assert_problem(await api.get("/runs", params={**project, "sort": "--name"}), 422, "sort")
    assert_problem(await api.get("/runs", params={**project, "sort": ""}), 422, "sort")
    assert_problem(
        await api.get("/runs", params={**project, "created_after": "yesterday"}), 422, "created_after"
    )
    assert_problem(
        await api.get("/runs", params={**project, "created_before": "2026-13-01"}), 422, "created_before"
    )
    window = {"created_after": "2026-02-02T00:00:00Z", "created_before": "2026-02-01T00:00:00Z"}
    inverted = await api.get("/runs", params={**project, **window})  # a window no run fits: an empty page
    assert (inverted.status_code, inverted.json()["items"], inverted.json()["total"]) == (200, [], 0)
    assert_problem(await api.get("/runs", params={**project, "q": "x" * 201}), 422, "q")
    assert_problem(await api.get("/runs", params={**project, "q": ""}), 422, "q")
    assert_problem(await api.get("/runs", params={**project, "tag": "t" * 201}), 422, "tag")
    assert_problem(await api.get("/runs", params={**project, "suite": ""}), 422, "suite")
