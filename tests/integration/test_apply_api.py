"""POST /projects/{project}/apply: all-or-nothing, idempotent sync of test cases and suites."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orchestra.actor import Actor
from orchestra.apply.service import apply_definitions
from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition
from orchestra.errors import InvalidDefinition
from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem


def case(name: str, description: str = "d") -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "tags": ["t"],
        "steps": [{"request": {"url": "{{ env.base_url }}/" + name}, "expect": {"status": 200}}],
    }


def documents() -> dict[str, Any]:
    return {
        "test_cases": [case("health"), case("login"), case("items")],
        "suites": [
            {"suite": "smoke", "project": "shop", "tests": ["health", "login"], "parallelism": 2},
            {"suite": "all", "tests": ["*"]},
        ],
    }


async def stored_counts(api: httpx.AsyncClient, project: str = "shop") -> tuple[int, int]:
    cases = await api.get(f"/projects/{project}/test-cases")
    if cases.status_code == 404:
        return 0, 0
    suites = await api.get(f"/projects/{project}/suites")
    return cases.json()["total"], suites.json()["total"]


async def test_apply_creates_the_project_and_everything(api: httpx.AsyncClient) -> None:
    response = await api.post("/projects/shop/apply", json=documents())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["project"]["name"] == "shop"
    assert body["test_cases"] == [
        {"name": "health", "version": 1, "result": "created"},
        {"name": "login", "version": 1, "result": "created"},
        {"name": "items", "version": 1, "result": "created"},
    ]
    assert body["suites"] == [{"name": "smoke", "result": "created"}, {"name": "all", "result": "created"}]
    assert await stored_counts(api) == (3, 2)
    assert (await api.get("/projects/shop")).status_code == 200


async def test_apply_is_idempotent_and_versions_changes(api: httpx.AsyncClient) -> None:
    first = await api.post("/projects/shop/apply", json=documents())
    assert first.status_code == 200
    second = await api.post("/projects/shop/apply", json=documents())
    assert second.status_code == 200
    assert {item["result"] for item in second.json()["test_cases"] + second.json()["suites"]} == {"unchanged"}
    assert [item["version"] for item in second.json()["test_cases"]] == [1, 1, 1]
    assert second.json()["project"]["id"] == first.json()["project"]["id"]

    changed = documents()
    changed["test_cases"][1] = case("login", description="changed")
    changed["suites"][0]["tests"] = ["health", "login", "items"]
    third = (await api.post(f"/projects/{first.json()['project']['id']}/apply", json=changed)).json()
    assert [(i["name"], i["version"], i["result"]) for i in third["test_cases"]] == [
        ("health", 1, "unchanged"),
        ("login", 2, "updated"),
        ("items", 1, "unchanged"),
    ]
    assert third["suites"] == [{"name": "smoke", "result": "updated"}, {"name": "all", "result": "unchanged"}]
    old = await api.get("/projects/shop/test-cases/login/versions/1")
    assert old.json()["definition"]["description"] == "d"


async def test_apply_into_an_existing_project(api: httpx.AsyncClient) -> None:
    assert (await api.post("/projects", json={"name": "shop", "description": "mine"})).status_code == 201
    body = (await api.post("/projects/shop/apply", json={"test_cases": [case("one")]})).json()
    assert body["project"]["description"] == "mine"
    assert body["suites"] == []


async def test_one_invalid_item_stores_nothing(api: httpx.AsyncClient) -> None:
    bad = documents()
    bad["test_cases"][2]["steps"][0]["request"]["method"] = "FETCH"
    bad["test_cases"][1]["steps"] = []
    bad["suites"][0]["tests"] = ["health", "ghost"]
    bad["suites"][1]["parallelism"] = 0
    body = assert_problem(await api.post("/projects/shop/apply", json=bad), 422)
    assert "nothing was applied" in body["detail"]
    paths = [error["path"] for error in body["errors"]]
    assert paths == [
        "test_cases[1].steps",
        "test_cases[2].steps[0].request.method",
        "suites[0].tests[1]",
        "suites[1].parallelism",
    ], body["errors"]
    assert all(error["message"] for error in body["errors"])
    assert "ghost" in body["errors"][2]["message"]
    # Nothing stored, not even the project.
    assert_problem(await api.get("/projects/shop"), 404)

    # Same into an existing project with content: the valid items are not stored either.
    assert (await api.post("/projects/shop/apply", json={"test_cases": [case("health")]})).status_code == 200
    bad = documents()
    bad["test_cases"][2] = {"name": "items"}
    assert_problem(await api.post("/projects/shop/apply", json=bad), 422)
    assert await stored_counts(api) == (1, 0)
    versions = (await api.get("/projects/shop/test-cases/health/versions")).json()
    assert versions["total"] == 1


async def test_suite_may_refer_to_a_broken_test_case_without_a_second_error(api: httpx.AsyncClient) -> None:
    bad = {
        "test_cases": [{"name": "health", "steps": "oops"}],
        "suites": [{"suite": "s", "tests": ["health"]}],
    }
    body = assert_problem(await api.post("/projects/shop/apply", json=bad), 422)
    assert [error["path"] for error in body["errors"]] == ["test_cases[0].steps"]


async def test_duplicates_and_foreign_project(api: httpx.AsyncClient) -> None:
    bad = {
        "test_cases": [case("a"), case("b"), case("a")],
        "suites": [{"suite": "s", "tests": ["a"]}, {"suite": "s", "tests": ["b"], "project": "elsewhere"}],
    }
    body = assert_problem(await api.post("/projects/shop/apply", json=bad), 422)
    paths = [error["path"] for error in body["errors"]]
    assert paths == ["test_cases[2].name", "suites[1].suite", "suites[1].project"], body["errors"]
    assert "test_cases[0]" in body["errors"][0]["message"]


async def test_a_suite_of_another_project_says_how_to_apply_it(api: httpx.AsyncClient) -> None:
    body = {"test_cases": [case("a")], "suites": [{"suite": "s", "tests": ["a"], "project": "billing"}]}
    problem = assert_problem(await api.post("/projects/shop/apply", json=body), 422)
    (error,) = problem["errors"]
    assert error["path"] == "suites[0].project"
    assert error["message"].startswith(
        "the suite names project 'billing' but is applied to project 'shop': apply it to project 'billing'"
    )
    assert "POST /apply takes the definitions of several projects" in error["message"]
    assert_problem(await api.get("/projects/shop"), 404)


def two_projects() -> dict[str, Any]:
    """A folder whose suites name two projects, as `orchestra run` sends it: a test case both list."""
    return {
        "projects": [
            {
                "project": "shop",
                "test_cases": [case("health"), case("login")],
                "suites": [{"suite": "smoke", "project": "shop", "tests": ["health", "login"]}],
            },
            {
                "project": "billing",
                "test_cases": [case("health"), case("invoice")],
                "suites": [{"suite": "all", "project": "billing", "tests": ["*"]}],
            },
        ]
    }


async def test_apply_of_several_projects(api: httpx.AsyncClient) -> None:
    response = await api.post("/apply", json=two_projects())
    assert response.status_code == 200, response.text
    shop, billing = response.json()["projects"]
    assert (shop["project"]["name"], billing["project"]["name"]) == ("shop", "billing")
    assert [(i["name"], i["result"]) for i in shop["test_cases"]] == [
        ("health", "created"),
        ("login", "created"),
    ]
    assert billing["suites"] == [{"name": "all", "result": "created"}]
    assert await stored_counts(api, "shop") == (2, 1)
    assert await stored_counts(api, "billing") == (2, 1)
    again = (await api.post("/apply", json=two_projects())).json()["projects"]
    assert {i["result"] for p in again for i in p["test_cases"] + p["suites"]} == {"unchanged"}


async def test_apply_of_several_projects_is_all_or_nothing(api: httpx.AsyncClient) -> None:
    bad = two_projects()
    bad["projects"][1]["test_cases"][1]["steps"] = []
    bad["projects"][1]["suites"].append({"suite": "x", "project": "shop", "tests": ["invoice"]})
    problem = assert_problem(await api.post("/apply", json=bad), 422, "nothing was applied, 2 problems")
    assert [error["path"] for error in problem["errors"]] == [
        "projects[1].test_cases[1].steps",
        "projects[1].suites[1].project",
    ]
    assert_problem(await api.get("/projects/shop"), 404)  # the valid first project was not stored either
    assert_problem(await api.get("/projects/billing"), 404)


async def test_apply_of_several_projects_names_each_project_once(api: httpx.AsyncClient) -> None:
    created = (await api.post("/projects", json={"name": "shop"})).json()
    twice = two_projects()
    twice["projects"][1] = {**twice["projects"][0], "project": created["id"]}
    problem = assert_problem(await api.post("/apply", json=twice), 422)
    assert [error["path"] for error in problem["errors"]] == ["projects[1].project"]
    assert "project 'shop' is also projects[0]" in problem["errors"][0]["message"]
    assert await stored_counts(api, "shop") == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"projects": []},
        {"projects": [{"test_cases": []}]},
        {"projects": [{"project": "", "test_cases": []}]},
        {"projects": [{"project": "shop", "extra": 1}]},
        {"projects": [{"project": f"p{i}"} for i in range(101)]},
    ],
)
async def test_apply_of_several_projects_refuses_malformed_bodies(
    api: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_problem(await api.post("/apply", json=body), 422)
    assert_problem(await api.get("/projects/shop"), 404)


async def test_apply_of_several_projects_refuses_hostile_project_names(api: httpx.AsyncClient) -> None:
    body = two_projects()
    body["projects"][1]["project"] = "../tokens"
    body["projects"][1]["suites"] = []
    assert_problem(await api.post("/apply", json=body), 422, "invalid project name '../tokens'")
    assert_problem(await api.get("/projects/shop"), 404)


async def test_suite_may_refer_to_test_cases_already_stored(api: httpx.AsyncClient) -> None:
    assert (await api.post("/projects/shop/apply", json={"test_cases": [case("health")]})).status_code == 200
    response = await api.post("/projects/shop/apply", json={"suites": [{"suite": "s", "tests": ["health"]}]})
    assert response.status_code == 200, response.text
    assert response.json()["suites"] == [{"name": "s", "result": "created"}]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        ("{", 422),
        ("[]", 422),
        ('{"test_cases": {}}', 422),
        ('{"test_cases": [], "extra": 1}', 422),
        ('{"test_cases": [1, "x", null]}', 422),
        ('{"suites": [[]]}', 422),
    ],
)
async def test_malformed_bodies(api: httpx.AsyncClient, content: str, status: int) -> None:
    response = await api.post(
        "/projects/shop/apply", content=content, headers={"content-type": "application/json"}
    )
    assert_problem(response, status)
    assert_problem(await api.get("/projects/shop"), 404)


async def test_non_object_items_are_reported_per_item(api: httpx.AsyncClient) -> None:
    body = assert_problem(await api.post("/projects/shop/apply", json={"test_cases": [case("ok"), 5]}), 422)
    assert [error["path"] for error in body["errors"]] == ["test_cases[1]"]


async def test_too_many_items(api: httpx.AsyncClient) -> None:
    body = {"test_cases": [{"name": f"t{i}"} for i in range(1001)]}
    problem = assert_problem(await api.post("/projects/shop/apply", json=body), 422)
    assert any(error["location"] == "test_cases" for error in problem["errors"])


async def test_invalid_project_name(api: httpx.AsyncClient) -> None:
    assert_problem(await api.post("/projects/-bad-/apply", json=documents()), 422)
    assert_problem(await api.post("/projects/" + "p" * 201 + "/apply", json=documents()), 422)


async def test_apply_definitions_for_the_cli(runtime: Runtime) -> None:
    actor = Actor(tenant_id=runtime.tenant_id)
    cases = [TestCaseDefinition.model_validate(item) for item in documents()["test_cases"]]
    suites = [SuiteDefinition.model_validate(item) for item in documents()["suites"]]
    async with runtime.db.transaction(runtime.tenant_id) as session:
        result = await apply_definitions(session, actor, "shop", cases, suites)
    assert [item.result for item in result.test_cases + result.suites] == ["created"] * 5
    async with runtime.db.transaction(runtime.tenant_id) as session:
        again = await apply_definitions(session, actor, "shop", cases, suites)
    assert {item.result for item in again.test_cases + again.suites} == {"unchanged"}
    unknown = [SuiteDefinition.model_validate({"suite": "x", "tests": ["ghost"]})]
    with pytest.raises(InvalidDefinition) as raised:
        async with runtime.db.transaction(runtime.tenant_id) as session:
            await apply_definitions(session, actor, "shop", [], unknown)
    assert raised.value.extra["errors"][0]["path"] == "suites[0].tests[0]"
