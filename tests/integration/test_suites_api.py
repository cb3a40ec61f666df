"""Suites API: definitions as JSON, references to existing test cases, idempotent PUT, hostile input."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from orchestra.actor import Actor
from orchestra.definitions.testcase_model import SuiteDefinition
from orchestra.runtime import Runtime
from orchestra.suites import service
from tests.integration.conftest import assert_problem

PROJECT = "shop"


def url(name: str = "", project: str = PROJECT) -> str:
    return f"/projects/{project}/suites" + (f"/{name}" if name else "")


def suite(name: str = "smoke", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "suite": name,
        "description": "quick checks",
        "variables": {"user": "demo"},
        "tests": ["health", "login"],
        "parallelism": 2,
    }
    body.update(changes)
    return body


@pytest.fixture
async def project(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.post("/projects", json={"name": PROJECT})
    assert response.status_code == 201, response.text
    for name in ("health", "login"):
        case = {"name": name, "steps": [{"request": {"url": "{{ env.base_url }}/" + name}}]}
        assert (await api.post(f"/projects/{PROJECT}/test-cases", json=case)).status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def test_create_get_list(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    response = await api.post(url(), json=suite(project=PROJECT))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "smoke"
    assert created["tests"] == ["health", "login"]
    assert created["variables"] == {"user": "demo"}
    assert created["parallelism"] == 2
    assert created["description"] == "quick checks"
    assert created["definition"] == suite()  # "project" is implied by the URL and not stored
    for ref in ("smoke", created["id"]):
        got = await api.get(url(ref))
        assert got.status_code == 200
        assert got.json() == created
    assert (await api.post(url(), json={"suite": "all", "tests": ["*"]})).status_code == 201
    page = (await api.get(url())).json()
    assert page["total"] == 2
    assert [item["name"] for item in page["items"]] == ["all", "smoke"]
    assert page["items"][0]["tests"] == ["*"]
    assert page["items"][0]["parallelism"] is None


async def test_duplicate_conflicts(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert (await api.post(url(), json=suite())).status_code == 201
    body = assert_problem(await api.post(url(), json=suite(tests=["*"])), 409)
    assert "smoke" in body["detail"]


async def test_unknown_test_names_are_listed(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    body = assert_problem(await api.post(url(), json=suite(tests=["health", "ghost", "phantom"])), 422)
    assert "ghost" in body["detail"]
    assert "phantom" in body["detail"]
    assert [(e["path"], "ghost" in e["message"]) for e in body["errors"]] == [
        ("tests[1]", True),
        ("tests[2]", False),
    ]
    assert_problem(await api.put(url("smoke"), json=suite(tests=["ghost"])), 422)
    assert (await api.get(url())).json()["total"] == 0


async def test_star_means_all_and_needs_no_test_cases(api: httpx.AsyncClient) -> None:
    assert (await api.post("/projects", json={"name": "empty"})).status_code == 201
    response = await api.post(url(project="empty"), json={"suite": "everything", "tests": ["*"]})
    assert response.status_code == 201, response.text


async def test_foreign_project_is_refused(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    body = assert_problem(await api.post(url(), json=suite(project="elsewhere")), 422)
    assert [e["path"] for e in body["errors"]] == ["project"]
    assert (await api.post(url(), json=suite(project=project["id"]))).status_code == 201


async def test_put_upsert_is_idempotent(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    first = await api.put(url("smoke"), json=suite())
    assert first.status_code == 201, first.text
    assert first.json()["changed"] is True
    assert first.json()["result"] == "created"
    same = await api.put(url("smoke"), json=suite())
    assert same.status_code == 200
    assert same.json()["changed"] is False
    assert same.json()["result"] == "unchanged"
    assert same.json()["updated_at"] == first.json()["updated_at"]
    round_trip = await api.put(url("smoke"), json=same.json()["definition"])
    assert round_trip.json()["changed"] is False
    changed = await api.put(url("smoke"), json=suite(tests=["login"], parallelism=1))
    assert changed.status_code == 200
    assert changed.json()["changed"] is True
    assert changed.json()["result"] == "updated"
    assert changed.json()["tests"] == ["login"]
    assert (await api.get(url("smoke"))).json()["tests"] == ["login"]
    assert changed.json()["id"] == first.json()["id"]


async def test_put_rename_is_refused(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    body = assert_problem(await api.put(url("smoke"), json=suite("other")), 422)
    assert "other" in body["detail"]
    assert "smoke" in body["detail"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"tests": ["health"]}, ""),
        ({"suite": "s"}, ""),
        ({"suite": "s", "tests": []}, "tests"),
        ({"suite": "s", "tests": ["*", "health"]}, "tests"),
        ({"suite": "s", "tests": ["health", "health"]}, "tests"),
        ({"suite": "s", "tests": "health"}, "tests"),
        ({"suite": "s", "tests": [""]}, "tests[0]"),
        ({"suite": "s", "tests": ["health"], "parallelism": 0}, "parallelism"),
        ({"suite": "s", "tests": ["health"], "parallelism": "many"}, "parallelism"),
        ({"suite": "x" * 201, "tests": ["health"]}, "suite"),
        ({"suite": "", "tests": ["health"]}, "suite"),
        ({"suite": "s", "tests": ["health"], "steps": []}, ""),
        ({"suite": "s", "tests": ["health"], "variables": {"env": 1}}, "variables"),
        ({"suite": "s", "tests": ["health"], "variables": {"a": "nul\x00"}}, "variables.a"),
    ],
)
async def test_invalid_definitions(
    api: httpx.AsyncClient, project: dict[str, Any], body: dict[str, Any], path: str
) -> None:
    problem = assert_problem(await api.post(url(), json=body), 422)
    assert problem["errors"], problem
    assert any(error["path"].startswith(path) and error["message"] for error in problem["errors"]), problem
    assert (await api.get(url())).json()["total"] == 0


async def test_malformed_json(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    for content in (
        "{",
        "[]",
        "1",
        '{"suite": "s", "tests": ["health"],}',
        '{"suite": "s", "variables": {"a": NaN}}',
    ):
        response = await api.put(url("s"), content=content, headers={"content-type": "application/json"})
        assert_problem(response, 422)


async def test_not_found(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert_problem(await api.get(url(project="nope")), 404)
    assert_problem(await api.post(url(project="nope"), json=suite()), 404)
    assert_problem(await api.put(url("smoke", project="nope"), json=suite()), 404)
    assert_problem(await api.get(url("missing")), 404)
    assert_problem(await api.get(url(str(uuid.uuid4()))), 404)
    assert_problem(await api.delete(url("missing")), 404)
    created = (await api.post(url(), json=suite())).json()
    assert (await api.post("/projects", json={"name": "other"})).status_code == 201
    assert_problem(await api.get(url(created["id"], project="other")), 404)


async def test_delete(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert (await api.post(url(), json=suite())).status_code == 201
    response = await api.delete(url("smoke"))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await api.get(url("smoke")), 404)
    # The test cases are free to go now.
    assert (await api.delete(f"/projects/{PROJECT}/test-cases/health")).status_code == 204


async def test_service_functions(api: httpx.AsyncClient, project: dict[str, Any], runtime: Runtime) -> None:
    actor = Actor(tenant_id=runtime.tenant_id)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        definition = SuiteDefinition.model_validate(suite())
        stored, result = await service.upsert_definition(session, actor, PROJECT, definition)
        assert result == "created"
        again, result = await service.upsert_definition(session, actor, project["id"], definition)
        assert result == "unchanged"
        assert again.id == stored.id
        found = await service.get(session, actor, PROJECT, "smoke")
        assert found.id == stored.id
        assert found.definition["tests"] == ["health", "login"]


async def test_concurrent_puts_of_a_new_suite_all_succeed(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    responses = await asyncio.gather(*(api.put(url("racy"), json=suite("racy")) for _ in range(6)))
    assert sorted(response.status_code for response in responses) == [200] * 5 + [201]
    assert sorted(response.json()["result"] for response in responses) == ["created"] + ["unchanged"] * 5
