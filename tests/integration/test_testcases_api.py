"""Test cases API: definitions as JSON, versioning, idempotent PUT, validation problems, hostile input."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest

from orchestra.actor import Actor
from orchestra.definitions.testcase_model import TestCaseDefinition
from orchestra.runtime import Runtime
from orchestra.testcases import service
from tests.integration.conftest import assert_problem

PROJECT = "shop"


def definition(name: str = "items-list", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "description": "lists the items",
        "tags": ["items", "smoke"],
        "variables": {"limit": 10},
        "steps": [
            {
                "name": "list",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/items",
                    "query": {"limit": "{{ limit }}"},
                },
                "expect": {"status": 200, "json": {"$.items": {"type": "array"}}},
                "capture": {"first": "$.items[0].id"},
            }
        ],
    }
    body.update(changes)
    return body


def url(name: str = "", project: str = PROJECT) -> str:
    return f"/projects/{project}/test-cases" + (f"/{name}" if name else "")


@pytest.fixture
async def project(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.post("/projects", json={"name": PROJECT})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_and_get(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    response = await api.post(url(), json=definition())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "items-list"
    assert created["current_version"] == 1
    assert created["tags"] == ["items", "smoke"]
    assert created["description"] == "lists the items"
    assert created["definition"] == definition()  # stored exactly as given: aliases, no added defaults
    stored = definition()
    expected_hash = hashlib.sha256(
        json.dumps(stored, separators=(",", ":")).encode()  # in written order
    ).hexdigest()
    assert created["content_hash"] == expected_hash

    for ref in ("items-list", created["id"]):
        got = await api.get(url(ref))
        assert got.status_code == 200
        assert got.json() == created


async def test_create_duplicate_conflicts(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert (await api.post(url(), json=definition())).status_code == 201
    body = assert_problem(await api.post(url(), json=definition(description="other")), 409)
    assert "items-list" in body["detail"]


async def test_list_with_tag_filter_and_pagination(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    for name, tags in (("b-test", ["x"]), ("a-test", ["x", "y"]), ("c-test", [])):
        assert (await api.post(url(), json=definition(name, tags=tags))).status_code == 201
    page = (await api.get(url())).json()
    assert page["total"] == 3
    assert [item["name"] for item in page["items"]] == ["a-test", "b-test", "c-test"]
    item = page["items"][0]
    assert set(item) == {"id", "name", "current_version", "tags", "description", "updated_at", "last_run"}
    assert item["last_run"] is None  # never run
    assert item["tags"] == ["x", "y"]
    assert item["current_version"] == 1
    assert [i["name"] for i in (await api.get(url(), params={"tag": "x"})).json()["items"]] == [
        "a-test",
        "b-test",
    ]
    assert [i["name"] for i in (await api.get(url(), params={"tag": "y"})).json()["items"]] == ["a-test"]
    assert (await api.get(url(), params={"tag": "none"})).json()["total"] == 0
    limited = (await api.get(url(), params={"limit": 2, "offset": 2})).json()
    assert limited["total"] == 3
    assert [i["name"] for i in limited["items"]] == ["c-test"]
    assert_problem(await api.get(url(), params={"limit": 0}), 422)
    assert_problem(await api.get(url(), params={"limit": "many"}), 422)
    assert_problem(await api.get(url(), params={"tag": "t" * 201}), 422)


async def test_put_versioning(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    first = await api.put(url("items-list"), json=definition())
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert first.json()["changed"] is True

    same = await api.put(url("items-list"), json=definition())
    assert same.status_code == 200
    assert same.json()["version"] == 1
    assert same.json()["changed"] is False
    assert same.json()["result"] == "unchanged"

    # The definition read back is accepted as is and changes nothing (round trip).
    read_back = (await api.get(url("items-list"))).json()["definition"]
    assert (await api.put(url("items-list"), json=read_back)).json()["changed"] is False

    changed = await api.put(url("items-list"), json=definition(description="now different"))
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    assert changed.json()["changed"] is True
    assert changed.json()["current_version"] == 2
    assert changed.json()["content_hash"] != first.json()["content_hash"]

    current = (await api.get(url("items-list"))).json()
    assert current["current_version"] == 2
    assert current["description"] == "now different"

    versions = (await api.get(url("items-list") + "/versions")).json()
    assert versions["total"] == 2
    assert [v["version"] for v in versions["items"]] == [1, 2]
    assert versions["items"][0]["content_hash"] == first.json()["content_hash"]
    assert all("created_at" in v for v in versions["items"])

    old = await api.get(url("items-list") + "/versions/1")
    assert old.status_code == 200
    assert old.json()["definition"] == definition()
    assert old.json()["version"] == 1
    assert old.json()["current"] is False
    new = (await api.get(url(current["id"]) + "/versions/2")).json()
    assert new["definition"]["description"] == "now different"
    assert new["current"] is True

    # Back to the first content: a new version (versions are history, not a set).
    back = await api.put(url("items-list"), json=definition())
    assert back.json()["version"] == 3
    assert back.json()["changed"] is True


async def test_put_rename_is_refused(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert (await api.put(url("items-list"), json=definition())).status_code == 201
    body = assert_problem(await api.put(url("items-list"), json=definition("renamed")), 422)
    assert "renamed" in body["detail"]
    assert "items-list" in body["detail"]
    assert_problem(await api.get(url("renamed")), 404)


async def test_schema_violations_list_path_and_message(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    bad = definition()
    bad["steps"][0]["request"]["method"] = "FETCH"
    bad["steps"][0]["request"]["colour"] = "red"
    bad["steps"][0]["expect"]["status"] = 999
    bad["timeout_s"] = -1
    response = await api.post(url(), json=bad)
    body = assert_problem(response, 422)
    assert body["title"] == "Invalid definition"
    paths = {error["path"] for error in body["errors"]}
    assert "steps[0].request.method" in paths
    assert "steps[0].request" in paths  # the unknown key is reported on its mapping
    assert "steps[0].expect.status" in paths
    assert "timeout_s" in paths
    for error in body["errors"]:
        assert set(error) == {"path", "line", "column", "message"}
        assert error["message"]
        assert error["line"] is None
        assert error["column"] is None
    unknown = next(e for e in body["errors"] if e["path"] == "steps[0].request")
    assert "colour" in unknown["message"]
    assert (await api.get(url())).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"name": "x"}, ""),  # no steps
        ({"name": "x", "steps": []}, "steps"),
        ({"steps": [{"sleep": 1}]}, ""),  # no name
        ({"name": "", "steps": [{"sleep": 1}]}, "name"),
        ({"name": "x" * 201, "steps": [{"sleep": 1}]}, "name"),
        ({"name": 12, "steps": [{"sleep": 1}]}, "name"),
        ({"name": "x", "steps": [{"sleep": 1, "set": {"a": 1}}]}, "steps[0]"),
        ({"name": "x", "steps": [{"request": {"url": ""}}]}, "steps[0].request.url"),
        ({"name": "x", "steps": [{"sleep": 1}], "unknown": True}, ""),
        ({"name": "x", "steps": [{"set": {"env": 1}}]}, "steps[0].set"),
        ({"name": "x", "steps": "not a list"}, "steps"),
    ],
)
async def test_invalid_definitions(
    api: httpx.AsyncClient, project: dict[str, Any], body: dict[str, Any], path: str
) -> None:
    problem = assert_problem(await api.post(url(), json=body), 422)
    assert any(error["path"].startswith(path) for error in problem["errors"]), problem
    assert_problem(await api.put(url("x"), json=body), 422)
    assert (await api.get(url())).json()["total"] == 0


async def test_unstorable_json_is_refused(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    nul = definition(variables={"a": "nul\x00byte"})
    body = assert_problem(await api.post(url(), json=nul), 422)
    assert body["errors"][0]["path"] == "variables.a"
    name_nul = definition("bad\x00name")
    assert_problem(await api.post(url(), json=name_nul), 422)
    for content in (
        json.dumps(definition(variables={"a": 1})).replace("1", "NaN", 1),
        json.dumps(definition(timeout_s=1)).replace('"timeout_s": 1', '"timeout_s": Infinity'),
        json.dumps(definition(variables={"a": "x"})).replace('"x"', '"\\ud800"'),
    ):
        response = await api.post(url(), content=content, headers={"content-type": "application/json"})
        assert_problem(response, 422)
    assert (await api.get(url())).json()["total"] == 0


async def test_malformed_and_wrongly_typed_bodies(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    for content in ("{", '{"name": "x", "steps": [}', "", "[]", '"text"', "null"):
        response = await api.post(url(), content=content, headers={"content-type": "application/json"})
        assert_problem(response, 422)
    response = await api.post(url(), content="name: x", headers={"content-type": "application/yaml"})
    assert response.status_code in (415, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_not_found(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert_problem(await api.get(url(project="nope")), 404)
    assert_problem(await api.post(url(project="nope"), json=definition()), 404)
    assert_problem(await api.put(url("items-list", project="nope"), json=definition()), 404)
    assert_problem(await api.get(url("missing")), 404)
    assert_problem(await api.get(url(str(uuid.uuid4()))), 404)
    assert_problem(await api.get(url("missing") + "/versions"), 404)
    assert_problem(await api.delete(url("missing")), 404)
    assert (await api.put(url("items-list"), json=definition())).status_code == 201
    assert_problem(await api.get(url("items-list") + "/versions/2"), 404)
    assert_problem(await api.get(url("items-list") + "/versions/99999999999"), 422)
    assert_problem(await api.get(url("items-list") + "/versions/0"), 422)
    assert_problem(await api.get(url("items-list") + "/versions/one"), 422)
    assert (await api.post("/projects", json={"name": "other"})).status_code == 201
    assert_problem(await api.get(url("items-list", project="other")), 404)


async def test_delete(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    created = (await api.post(url(), json=definition())).json()
    assert (await api.put(url("items-list"), json=definition(description="v2"))).status_code == 200
    response = await api.delete(url(created["id"]))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await api.get(url("items-list")), 404)
    assert_problem(await api.get(url(created["id"]) + "/versions/1"), 404)
    again = await api.post(url(), json=definition())
    assert again.status_code == 201
    assert again.json()["current_version"] == 1


async def test_delete_of_a_test_case_in_a_suite_conflicts(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    assert (await api.post(url(), json=definition())).status_code == 201
    suite = {"suite": "smoke", "tests": ["items-list"]}
    assert (await api.post(f"/projects/{PROJECT}/suites", json=suite)).status_code == 201
    body = assert_problem(await api.delete(url("items-list")), 409)
    assert "smoke" in body["detail"]


async def test_service_functions_for_runs(
    api: httpx.AsyncClient, project: dict[str, Any], runtime: Runtime
) -> None:
    actor = Actor(tenant_id=runtime.tenant_id)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        one = TestCaseDefinition.model_validate(definition("b-one"))
        case, version, result = await service.upsert_definition(session, actor, PROJECT, one)
        assert result == "created"
        assert version.version == 1
        assert case.current_version == 1
        _, _, result = await service.upsert_definition(session, actor, PROJECT, copy.deepcopy(one))
        assert result == "unchanged"
        two = TestCaseDefinition.model_validate(definition("b-one", description="two"))
        case, version, result = await service.upsert_definition(session, actor, PROJECT, two)
        assert result == "updated"
        assert version.version == 2
        assert case.current_version == 2
        await service.upsert_definition(
            session, actor, PROJECT, TestCaseDefinition.model_validate(definition("a-two"))
        )
        project_id = uuid.UUID(project["id"])

        current = await service.get_current_version(session, actor, project_id, "b-one")
        assert current is not None
        assert current.version == 2
        assert await service.get_current_version(session, actor, project_id, "missing") is None

        every = await service.list_current_versions(session, runtime.tenant_id, project_id, None)
        assert [(c.name, v.version) for c, v in every] == [("a-two", 1), ("b-one", 2)]
        some = await service.list_current_versions(session, runtime.tenant_id, project_id, ["b-one", "zzz"])
        assert [(c.name, v.version) for c, v in some] == [("b-one", 2)]
        assert await service.list_current_versions(session, runtime.tenant_id, project_id, []) == []
        assert await service.list_current_versions(session, uuid.uuid4(), project_id, None) == []


async def test_concurrent_puts_of_a_new_test_case_all_succeed(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    async def put(index: int) -> httpx.Response:
        return await api.put(url("racy"), json=definition("racy", description=f"writer {index}"))

    responses = await asyncio.gather(*(put(index) for index in range(8)))
    assert sorted(response.status_code for response in responses) == [200] * 7 + [201]
    versions = (await api.get(url("racy") + "/versions")).json()
    assert [item["version"] for item in versions["items"]] == list(range(1, 9))
