"""``POST /import/curl`` and ``POST /import/har`` through the API: test cases back as YAML that applies as it
is, the secrets found stored (encrypted) in the environment asked for and never answered, hostile input
refused with 422 and nothing stored."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import Harness, assert_problem

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


async def test_imported_curl_applies_as_it_is_and_runs_with_its_secret(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    login = await api.post("/projects", json={"name": f"imp-{uuid.uuid4().hex[:6]}"})
    project = login.json()["name"]
    token = httpx.post(
        f"{harness.base_url}/auth/token", json={"username": "demo", "password": "demo-password"}
    ).json()["access_token"]
    text = f"curl -H 'Authorization: Bearer {token}' {harness.base_url}/items"
    answer = await api.post(
        "/import/curl",
        json={"text": text, "keep_credentials": True, "project": project, "environment": "sut"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["secrets"] == [{"name": "authorization", "source": "header Authorization"}]
    assert token not in answer.text
    assert body["environment"] == "sut"
    assert body["base_url"] == harness.base_url
    environment = (await api.get(f"/projects/{project}/environments/sut")).json()
    assert environment["secret_names"] == ["authorization"]
    assert environment["base_url"] == harness.base_url

    await api.patch(f"/projects/{project}/environments/sut", json={"allow_private_network": True})
    files = [{"name": file["name"], "content": file["yaml"]} for file in body["files"]]
    applied = await api.post(f"/projects/{project}/apply/files", json={"files": files})
    assert applied.status_code == 200, applied.text
    started = await api.post(
        "/runs", json={"project": project, "environment": "sut", "test_case": "GET /items"}
    )
    assert started.status_code == 201, started.text
    run = await Harness(api, harness.base_url, project).wait(uuid.UUID(started.json()["id"]))
    assert run["status"] == "PASSED", run


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/import/curl", {"text": "wget http://h/"}, "not a curl command"),
        ("/import/curl", {"text": "curl -F f=@x http://h/"}, "the API reads no files"),
        ("/import/har", {"har": {"log": {"version": "3"}}}, "HAR version '3' is not supported"),
        ("/import/har", {"har": {"log": {"version": "1.2", "entries": {}}}}, "log.entries is not a list"),
        (
            "/import/curl",
            {"text": "curl http://h/", "environment": "e"},
            "give the project of the environment",
        ),
        ("/import/postman", {"collection": {"info": {"schema": "v1"}}}, "schema 'v1' is not supported"),
        ("/import/postman", {"collection": {"values": []}}, "not a Postman collection"),
        (
            "/import/postman",
            {
                "collection": {
                    "info": {"schema": V21},
                    "item": [{"name": "r", "request": {"url": "http://h/{{$nope}}"}}],
                }
            },
            "dynamic variable {{$nope}} is not supported",
        ),
    ],
)
async def test_input_that_cannot_be_imported_is_refused_with_the_reason(
    api: httpx.AsyncClient, path: str, body: dict[str, object], needle: str
) -> None:
    assert_problem(await api.post(path, json=body), 422, needle)


async def test_nothing_is_stored_when_the_import_is_refused(api: httpx.AsyncClient, harness: Harness) -> None:
    text = "curl -H 'X-Api-Key: k1' http://h.example/a\ncurl --upload-file x http://h.example/b"
    answer = await api.post(
        "/import/curl", json={"text": text, "project": harness.project, "environment": "new"}
    )
    assert_problem(answer, 422, "file upload")
    assert (await api.get(f"/projects/{harness.project}/environments/new")).status_code == 404


async def test_schema_violations_and_oversized_text_are_422(api: httpx.AsyncClient) -> None:
    assert (await api.post("/import/curl", json={"text": ""})).status_code == 422
    assert (await api.post("/import/curl", json={"text": "curl http://h/", "surprise": 1})).status_code == 422
    assert (await api.post("/import/har", json={"har": []})).status_code == 422
    too_long = {"text": "curl http://h/" + "a" * 1_048_576}
    assert (await api.post("/import/curl", json=too_long)).status_code in (413, 422)


async def test_an_imported_postman_collection_applies_and_runs_with_its_secret_environment_value(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    project = (await api.post("/projects", json={"name": f"pm-{uuid.uuid4().hex[:6]}"})).json()["name"]
    collection = {
        "info": {"name": "log in", "schema": V21},
        "item": [
            {
                "name": "token",
                "event": [
                    {
                        "listen": "test",
                        "script": {
                            "exec": [  # not declarative (an if): kept, and run as a script
                                "if (pm.response.code === 200) {",
                                "  const token = pm.response.json().access_token;",
                                "  pm.test('a token', () => pm.expect(token).to.be.a('string'));",
                                "}",
                            ]
                        },
                    }
                ],
                "request": {
                    "method": "POST",
                    "url": "{{base}}/auth/token",
                    "body": {
                        "mode": "raw",
                        "raw": '{"username": "demo", "password": "{{pw}}"}',
                        "options": {"raw": {"language": "json"}},
                    },
                },
            }
        ],
    }
    environment = {
        "values": [
            {"key": "base", "value": harness.base_url, "enabled": True},
            {"key": "pw", "value": "demo-password", "type": "secret", "enabled": True},
        ]
    }
    answer = await api.post(
        "/import/postman",
        json={
            "collection": collection,
            "environment_file": environment,
            "project": project,
            "environment": "sut",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["secrets"] == [{"name": "pw", "source": "environment value pw"}]
    assert "demo-password" not in answer.text
    assert body["base_url"] == harness.base_url
    await api.patch(f"/projects/{project}/environments/sut", json={"allow_private_network": True})
    files = [{"name": file["name"], "content": file["yaml"]} for file in body["files"]]
    assert (await api.post(f"/projects/{project}/apply/files", json={"files": files})).status_code == 200
    started = await api.post("/runs", json={"project": project, "environment": "sut", "test_case": "log in"})
    assert started.status_code == 201, started.text
    run = await Harness(api, harness.base_url, project).wait(uuid.UUID(started.json()["id"]))
    assert run["status"] == "PASSED", run
    assert "test_script" in body["files"][0]["yaml"]
