"""GET /projects/{project}/export and POST /import: secret values never leave, imports are idempotent and
all or nothing, only admins import, and bad documents get a clear 4xx."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.conftest import assert_problem

SECRET = "transfer-secret-value-1618"
CASE = {
    "name": "ping",
    "steps": [{"request": {"url": "{{ env.base_url }}/ping"}, "expect": {"status": 200}}],
}


async def make_project(api: httpx.AsyncClient, name: str) -> None:
    assert (await api.post("/projects", json={"name": name})).status_code == 201
    env = {
        "name": "qa",
        "base_url": "http://127.0.0.1:9",
        "allow_private_network": True,
        "variables": {"v": 1},
        "secrets": {"token": SECRET},
    }
    assert (await api.post(f"/projects/{name}/environments", json=env)).status_code == 201
    body = {"test_cases": [CASE], "suites": [{"suite": "all", "tests": ["ping"]}]}
    assert (await api.post(f"/projects/{name}/apply", json=body)).status_code == 200
    schedule = {"name": "hourly", "suite": "all", "environment": "qa", "cron": "@hourly"}
    assert (await api.post(f"/projects/{name}/schedules", json=schedule)).status_code == 201


async def test_export_then_import_as_another_project_is_idempotent(api: httpx.AsyncClient) -> None:
    await make_project(api, "origin")
    response = await api.get("/projects/origin/export")
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    document: dict[str, Any] = response.json()
    assert document["environments"][0]["secret_names"] == ["token"]

    first = await api.post("/import", params={"project": "copy"}, json=document)
    assert first.status_code == 200, first.text
    result = first.json()
    assert result["created"] is True
    assert [item["result"] for item in result["test_cases"] + result["schedules"]] == ["created", "created"]
    assert result["secrets_to_set"] == [{"environment": "qa", "name": "token"}]

    second = (await api.post("/import", params={"project": "copy"}, json=document)).json()
    assert second["created"] is False
    assert second["test_cases"][0]["result"] == "unchanged"
    assert second["suites"][0]["result"] == "unchanged"
    versions = (await api.get("/projects/copy/test-cases/ping/versions")).json()
    assert versions["total"] == 1

    # the secret set in the copy is kept by a later import, and no longer listed as missing
    patched = await api.patch("/projects/copy/environments/qa", json={"secrets": {"token": "x"}})
    assert patched.status_code == 200, patched.text
    third = (await api.post("/import", params={"project": "copy"}, json=document)).json()
    assert third["secrets_to_set"] == []


async def test_only_admins_import_and_bad_documents_are_refused(api: httpx.AsyncClient) -> None:
    await make_project(api, "guarded")
    document = (await api.get("/projects/guarded/export")).json()
    response = await api.post("/tokens", json={"name": "ed", "role": "editor", "project": "guarded"})
    editor = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (await api.get("/projects/guarded/export", headers=editor)).status_code == 200
    assert_problem(await api.post("/import", json=document, headers=editor), 403)

    for bad in (
        {**document, "format": "something"},
        {**document, "version": 2},
        {**document, "extra": 1},
        {**document, "environments": [{**document["environments"][0], "secrets": {"token": "v"}}]},
        {**document, "schedules": [{**document["schedules"][0], "cron": "not a cron"}]},
        {**document, "test_cases": ["not a mapping"]},
    ):
        response = await api.post("/import", params={"project": "broken"}, json=bad)
        assert response.status_code == 422, response.text
    assert_problem(await api.post("/import", params={"project": "a/b"}, json=document), 422)
    assert_problem(await api.post("/import", content=b"x" * 3_000_000), 413)
    assert_problem(await api.get("/projects/broken/export"), 404)  # nothing was stored
    assert_problem(await api.get("/projects/nope/export"), 404)
