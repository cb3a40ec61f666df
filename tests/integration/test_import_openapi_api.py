"""``POST /import/openapi`` through the API: the generated files (which apply as they are), what a re-import
does to the caller's copies, the environment given the base URL and the description, and every hostile
description refused with a clear 4xx and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orchestra.demo.sut import DEMO_PASSWORD, DEMO_USERNAME, create_app
from tests.integration.conftest import Harness, assert_problem


def demo_description() -> dict[str, Any]:
    document: dict[str, Any] = create_app().openapi()
    return document


async def test_the_generated_suite_applies_and_runs_green_with_its_planned_data(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    project = harness.project
    answer = await api.post(
        "/import/openapi",
        json={
            "text": json.dumps(demo_description()),
            "base_url": harness.base_url,
            "project": project,
            "environment": "sut",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["title"] == "Orchestra demo shop"
    assert body["environment"] == "sut"
    assert {file["action"] for file in body["files"]} == {"new"}
    assert [secret["name"] for secret in body["secrets"]] == ["username", "password"]
    environment = (await api.get(f"/projects/{project}/environments/sut")).json()
    assert environment["base_url"] == harness.base_url
    spec = await api.get(f"/projects/{project}/environments/sut/openapi")
    assert spec.status_code == 200, spec.text
    assert spec.json()["title"] == "Orchestra demo shop"

    secrets = {"secrets": {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}}
    assert (await api.patch(f"/projects/{project}/environments/sut", json=secrets)).status_code == 200
    files = [{"name": file["name"], "content": file["yaml"]} for file in body["files"]]
    applied = await api.post(f"/projects/{project}/apply/files", json={"files": files})
    assert applied.status_code == 200, applied.text
    for name in ("getItem: GET /items/{item_id}", "item lifecycle: create, read, update, delete"):
        run = await harness.wait(await harness.start(name), timeout_s=60)
        assert run["status"] == "PASSED", run


async def test_a_reimport_says_what_happens_to_each_existing_file(api: httpx.AsyncClient) -> None:
    document = demo_description()
    first = (await api.post("/import/openapi", json={"document": document})).json()
    copies = {file["name"]: file["yaml"] for file in first["files"]}
    copies["get-item.yaml"] = copies["get-item.yaml"].replace("status: 200", "status: [200, 203]")
    del document["paths"]["/slow"]
    document["paths"]["/items"]["get"]["summary"] = "List the items"
    document["paths"]["/items/{item_id}"]["get"]["summary"] = "Read one item"
    existing = [{"name": name, "content": text} for name, text in copies.items()]
    again = await api.post("/import/openapi", json={"document": document, "existing": existing})
    assert again.status_code == 200, again.text
    actions = {file["name"]: file["action"] for file in again.json()["files"]}
    assert actions["get-item.yaml"] == "kept"
    assert actions["list-items.yaml"] == "updated"
    assert actions["health.yaml"] == "unchanged"
    assert again.json()["removed"] == ["slow.yaml"]


CYCLE = {
    "openapi": "3.1.0",
    "components": {
        "schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}
    },
    "paths": {
        "/a": {
            "get": {
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}},
                    }
                }
            }
        }
    },
}


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"text": '{"openapi": "3.1.0", "paths": {'}, 422, "not valid JSON: line 1"),
        ({"text": "openapi: 3.1.0\npaths: [\n"}, 422, "not valid JSON or YAML"),
        ({"text": "openapi: 3.1.0\npaths: {a: *x}\n"}, 422, "not valid JSON or YAML"),
        (
            {"document": {"swagger": "1.2", "paths": {}}},
            422,
            "Swagger 1.2 description: Swagger 2.0 is converted",
        ),
        (
            {"document": {"swagger": "2.0", "paths": {}, "host": "http://h/"}},
            422,
            "Swagger 2.0: host must be",
        ),
        ({"text": "openapi: '2.5'\npaths: {}\n"}, 422, "OpenAPI 3.x required, this is version '2.5'"),
        ({"text": "[" * 300 + "]" * 300}, 422, "nests deeper than"),
        ({"text": "openapi: 3.1.0\npaths:\n" + "  " + "- " * 200 + "x\n"}, 422, "deeper than 100 levels"),
        ({"document": CYCLE}, 422, "$ref cycle: #/components/schemas/A -> #/components/schemas/B"),
        ({"document": {"openapi": "3.1.0", "paths": {}}}, 422, "no operations"),
        ({"text": "x", "document": {}}, 422, ""),
        (
            {"document": {"openapi": "3.1.0", "paths": {"/a": {"get": {}}}}, "environment": "e"},
            422,
            "give the project of the environment",
        ),
    ],
)
async def test_a_hostile_description_is_refused_with_the_reason(
    api: httpx.AsyncClient, body: dict[str, Any], status: int, needle: str
) -> None:
    assert_problem(await api.post("/import/openapi", json=body), status, needle)


async def test_an_oversized_or_deeply_nested_request_is_refused_before_it_is_read(
    api: httpx.AsyncClient,
) -> None:
    oversized = await api.post("/import/openapi", json={"text": "a" * 6_000_000})
    assert oversized.status_code == 413, oversized.text
    deep = await api.post(
        "/import/openapi",
        content=b'{"document": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1001,
        headers={"Content-Type": "application/json"},
    )
    assert deep.status_code == 400, deep.text


async def test_nothing_is_stored_when_the_description_is_refused(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    body = {"document": CYCLE, "base_url": harness.base_url, "project": harness.project, "environment": "new"}
    answer = await api.post("/import/openapi", json=body)
    assert_problem(answer, 422, "$ref cycle")
    assert (await api.get(f"/projects/{harness.project}/environments/new")).status_code == 404
