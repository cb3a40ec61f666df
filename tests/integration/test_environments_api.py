"""Environments API: CRUD, upsert, PATCH merge of secrets, secrets never returned, hostile input."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from orchestra.kit.environment_secrets import reveal
from orchestra.kit.secret_box import SecretBox
from orchestra.models import Environment, Project, TestCase, TestCaseVersion, TestRun
from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem

PROJECT = "shop"
SECRET = "s3cr3t-VALUE-do-not-leak"


def plaintexts(runtime: Runtime, environment: Environment) -> dict[str, str]:
    """The stored secrets (all encrypted), decrypted as the executor does."""
    assert all(SecretBox.is_encrypted(value) for value in environment.secrets.values())
    return reveal(
        runtime.secrets, environment.tenant_id, environment.id, environment.name, environment.secrets
    )


def assert_no_secret(response: httpx.Response) -> None:
    assert SECRET not in response.text
    assert "secrets" not in json.dumps(response.json())


@pytest.fixture
async def project(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.post("/projects", json={"name": PROJECT})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def env_url(name: str = "", project: str = PROJECT) -> str:
    return f"/projects/{project}/environments" + (f"/{name}" if name else "")


async def create_env(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "staging", "base_url": "http://sut.local:8080/", **fields}
    response = await api.post(env_url(), json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_create_get_list(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    created = await create_env(api, variables={"user": "demo", "n": 3, "nested": {"a": [1, None]}})
    assert created["name"] == "staging"
    assert created["base_url"] == "http://sut.local:8080"  # trailing slash removed
    assert created["variables"] == {"user": "demo", "n": 3, "nested": {"a": [1, None]}}
    assert created["secret_names"] == []
    assert created["project_id"] == project["id"]

    by_name = await api.get(env_url("staging"))
    by_id = await api.get(env_url(created["id"]))
    by_project_id = await api.get(env_url("staging", project["id"]))
    assert by_name.status_code == by_id.status_code == by_project_id.status_code == 200
    assert by_name.json() == by_id.json() == by_project_id.json() == created

    await create_env(api, name="prod", base_url="https://prod.example.com/api")
    listed = await api.get(env_url(), params={"limit": 1})
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 2
    assert page["limit"] == 1
    assert page["offset"] == 0
    assert [item["name"] for item in page["items"]] == ["prod"]
    second = (await api.get(env_url(), params={"limit": 1, "offset": 1})).json()
    assert [item["name"] for item in second["items"]] == ["staging"]


async def test_secrets_are_never_returned(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    response = await api.post(
        env_url(),
        json={"name": "staging", "base_url": "http://x.test", "secrets": {"token": SECRET, "a": SECRET}},
    )
    assert response.status_code == 201
    assert_no_secret(response)
    assert response.json()["secret_names"] == ["a", "token"]
    for response in (
        await api.get(env_url("staging")),
        await api.get(env_url()),
        await api.put(env_url("staging"), json={"base_url": "http://y.test", "secrets": {"b": SECRET}}),
        await api.put(env_url("other"), json={"base_url": "http://y.test", "secrets": {"c": SECRET}}),
        await api.patch(env_url("staging"), json={"secrets": {"d": SECRET}}),
    ):
        assert response.status_code in (200, 201), response.text
        assert_no_secret(response)


async def test_secrets_are_stored_for_the_executor(
    api: httpx.AsyncClient, project: dict[str, Any], runtime: Runtime
) -> None:
    created = await create_env(api, secrets={"token": SECRET})
    async with runtime.db.transaction(runtime.tenant_id) as session:
        from orchestra.models import Environment

        environment = await session.get(Environment, uuid.UUID(created["id"]))
        assert environment is not None
        assert plaintexts(runtime, environment) == {"token": SECRET}


async def test_patch_merges_secrets_and_changes_fields(
    api: httpx.AsyncClient, project: dict[str, Any], runtime: Runtime
) -> None:
    created = await create_env(api, variables={"a": 1}, secrets={"keep": "k-value", "drop": "d-value"})
    response = await api.patch(
        env_url("staging"),
        json={"secrets": {"drop": None, "new": "n-value", "unknown": None}, "base_url": "https://new.test//"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["secret_names"] == ["keep", "new"]
    assert body["base_url"] == "https://new.test"
    assert body["variables"] == {"a": 1}  # untouched
    assert body["updated_at"] >= created["updated_at"]

    renamed = await api.patch(env_url("staging"), json={"name": "qa", "variables": {"b": True}})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "qa"
    assert renamed.json()["variables"] == {"b": True}
    assert renamed.json()["secret_names"] == ["keep", "new"]
    assert_problem(await api.get(env_url("staging")), 404)

    async with runtime.db.transaction(runtime.tenant_id) as session:
        from orchestra.models import Environment

        environment = await session.get(Environment, uuid.UUID(created["id"]))
        assert environment is not None
        assert plaintexts(runtime, environment) == {"keep": "k-value", "new": "n-value"}


async def test_patch_rename_to_existing_name_conflicts(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    await create_env(api)
    await create_env(api, name="prod")
    body = assert_problem(await api.patch(env_url("prod"), json={"name": "staging"}), 409)
    assert "staging" in body["detail"]


async def test_put_creates_then_replaces(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    first = await api.put(
        env_url("dev"),
        json={"base_url": "http://dev.test", "variables": {"a": 1}, "secrets": {"t": "secret-1"}},
    )
    assert first.status_code == 201, first.text
    assert first.json()["name"] == "dev"
    again = await api.put(env_url("dev"), json={"base_url": "http://dev2.test", "variables": {"b": 2}})
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["base_url"] == "http://dev2.test"
    assert again.json()["variables"] == {"b": 2}
    assert again.json()["secret_names"] == ["t"]  # omitted secrets are kept (they are write-only)
    cleared = await api.put(
        env_url("dev"), json={"name": "dev", "base_url": "http://dev2.test", "secrets": {}}
    )
    assert cleared.status_code == 200
    assert cleared.json()["secret_names"] == []
    assert cleared.json()["variables"] == {"b": 2}


async def test_put_with_other_name_in_body_is_a_conflict(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    body = assert_problem(
        await api.put(env_url("dev"), json={"name": "prod", "base_url": "http://x.test"}), 409
    )
    assert "prod" in body["detail"]
    assert "dev" in body["detail"]


async def test_put_with_invalid_name_in_url(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert_problem(await api.put(env_url("-bad"), json={"base_url": "http://x.test"}), 422)
    assert_problem(await api.put(env_url("x" * 201), json={"base_url": "http://x.test"}), 422)


async def test_duplicate_create_conflicts(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    await create_env(api)
    body = assert_problem(
        await api.post(env_url(), json={"name": "staging", "base_url": "http://a.test"}), 409
    )
    assert "staging" in body["detail"]


async def test_delete(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    await create_env(api)
    response = await api.delete(env_url("staging"))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await api.get(env_url("staging")), 404)
    assert_problem(await api.delete(env_url("staging")), 404)


async def test_delete_with_runs_conflicts(
    api: httpx.AsyncClient, project: dict[str, Any], runtime: Runtime
) -> None:
    environment = await create_env(api)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        project_row = await session.get(Project, uuid.UUID(project["id"]))
        assert project_row is not None
        case = TestCase(id=uuid.uuid4(), tenant_id=runtime.tenant_id, project_id=project_row.id, name="t")
        session.add(case)
        await session.flush()
        version = TestCaseVersion(
            id=uuid.uuid4(),
            tenant_id=runtime.tenant_id,
            test_case_id=case.id,
            version=1,
            definition={"name": "t", "steps": [{"sleep": 1}]},
            content_hash="0" * 64,
        )
        session.add(version)
        await session.flush()
        session.add(
            TestRun(
                tenant_id=runtime.tenant_id,
                project_id=project_row.id,
                test_case_id=case.id,
                test_case_version_id=version.id,
                environment_id=uuid.UUID(environment["id"]),
                name="t",
            )
        )
    body = assert_problem(await api.delete(env_url("staging")), 409)
    assert "staging" in body["detail"]
    assert "run" in body["detail"]
    assert (await api.get(env_url("staging"))).status_code == 200


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://x",
        "not a url",
        "javascript:alert(1)",
        "http://",
        "http:///path",
        "//host.test",
        "/relative/path",
        "",
        "http://user:pw@host.test",
        "http://host.test/?q=1",
        "http://host.test/#frag",
        "http://host.test:99999",
        "http://host.test/\x00",
        "http://host.test\n.evil",
        "https://" + "a" * 2000 + ".test",
    ],
)
async def test_invalid_base_url(api: httpx.AsyncClient, project: dict[str, Any], base_url: str) -> None:
    body = assert_problem(await api.post(env_url(), json={"name": "e", "base_url": base_url}), 422)
    assert any(error["location"] == "base_url" for error in body["errors"]), body
    assert_problem(await api.put(env_url("e"), json={"base_url": base_url}), 422)
    assert (await api.get(env_url())).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"name": "e"},  # no base_url
        {"base_url": "http://a.test"},  # no name
        {"name": "e", "base_url": "http://a.test", "colour": "red"},  # unknown key
        {"name": 5, "base_url": "http://a.test"},
        {"name": "e", "base_url": ["http://a.test"]},
        {"name": "e", "base_url": "http://a.test", "variables": []},
        {"name": "e", "base_url": "http://a.test", "secrets": {"a": 1}},
        {"name": "e", "base_url": "http://a.test", "secrets": ["a"]},
        {"name": "x" * 201, "base_url": "http://a.test"},
        {"name": "", "base_url": "http://a.test"},
        {"name": "../etc", "base_url": "http://a.test"},
        {"name": "a/b", "base_url": "http://a.test"},
        {"name": "e", "base_url": "http://a.test", "variables": {f"k{i}": i for i in range(201)}},
        {"name": "e", "base_url": "http://a.test", "secrets": {f"k{i}": "v" for i in range(201)}},
        {"name": "e", "base_url": "http://a.test", "variables": {"base_url": "http://other"}},
        {"name": "e", "base_url": "http://a.test", "variables": {"": 1}},
        {"name": "e", "base_url": "http://a.test", "variables": {"a": "nul\x00byte"}},
        {"name": "e", "base_url": "http://a.test", "secrets": {"a": "nul\x00byte"}},
        {"name": "e", "base_url": "http://a.test", "secrets": {"a": "x" * 10_001}},
    ],
)
async def test_invalid_bodies(api: httpx.AsyncClient, project: dict[str, Any], body: dict[str, Any]) -> None:
    problem = assert_problem(await api.post(env_url(), json=body), 422)
    assert problem["errors"]
    assert all("location" in e and "message" in e for e in problem["errors"])


async def test_non_finite_numbers_are_refused(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    content = '{"name": "e", "base_url": "http://a.test", "variables": {"x": NaN, "y": Infinity}}'
    response = await api.post(env_url(), content=content, headers={"content-type": "application/json"})
    assert_problem(response, 422)


async def test_malformed_json(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    for content in ('{"name": "e", "base_url": ', "[1, 2]", "null", "42", "\xff\xfe"):
        response = await api.post(env_url(), content=content, headers={"content-type": "application/json"})
        assert_problem(response, 422)
    response = await api.patch(env_url("e"), content="{", headers={"content-type": "application/json"})
    assert response.status_code == 422


async def test_patch_invalid_input(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    await create_env(api)
    assert_problem(await api.patch(env_url("staging"), json={"base_url": "ftp://x"}), 422)
    assert_problem(await api.patch(env_url("staging"), json={"secrets": {"a": 5}}), 422)
    assert_problem(await api.patch(env_url("staging"), json={"bogus": 1}), 422)
    assert_problem(await api.patch(env_url("staging"), json={"name": "x" * 201}), 422)
    assert_problem(await api.patch(env_url("nope"), json={"base_url": "http://a.test"}), 404)


async def test_unknown_project_and_environment(api: httpx.AsyncClient, project: dict[str, Any]) -> None:
    assert_problem(await api.get(env_url(project="nope")), 404)
    assert_problem(
        await api.post(env_url(project="nope"), json={"name": "e", "base_url": "http://a.test"}), 404
    )
    assert_problem(await api.put(env_url("e", project="nope"), json={"base_url": "http://a.test"}), 404)
    assert_problem(await api.get(env_url("missing")), 404)
    assert_problem(await api.get(env_url(str(uuid.uuid4()))), 404)
    assert_problem(await api.delete(env_url("missing")), 404)
    assert_problem(await api.get(env_url("nul%00byte")), 404)
    assert_problem(await api.get(env_url("e", project="nul%00byte")), 404)


async def test_other_projects_environment_is_not_found(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    created = await create_env(api)
    assert (await api.post("/projects", json={"name": "other"})).status_code == 201
    assert_problem(await api.get(env_url(created["id"], project="other")), 404)
    assert_problem(await api.delete(env_url(created["id"], project="other")), 404)


async def test_other_tenants_environment_is_not_found(
    api: httpx.AsyncClient, project: dict[str, Any], runtime: Runtime
) -> None:
    from orchestra.actor import Actor
    from orchestra.environments import service
    from orchestra.errors import NotFound
    from orchestra.tenants.repository import ensure_tenant

    created = await create_env(api)
    async with runtime.db.transaction(None) as session:
        intruder = Actor(tenant_id=await ensure_tenant(session, "intruder"))
    async with runtime.db.transaction(intruder.tenant_id) as session:
        with pytest.raises(NotFound):
            await service.get(session, intruder, project["id"], created["id"])


async def test_ensure(api: httpx.AsyncClient, project: dict[str, Any], runtime: Runtime) -> None:
    from orchestra.actor import Actor
    from orchestra.environments import service
    from orchestra.errors import InvalidInput

    actor = Actor(tenant_id=runtime.tenant_id)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        created = await service.ensure(session, actor, PROJECT, "local", "http://127.0.0.1:8081/")
        assert created.base_url == "http://127.0.0.1:8081"
    await api.patch(env_url("local"), json={"secrets": {"t": "secret-value"}, "variables": {"v": 1}})
    async with runtime.db.transaction(runtime.tenant_id) as session:
        updated = await service.ensure(session, actor, PROJECT, "local", "http://127.0.0.1:9000")
        assert updated.id == created.id
        assert updated.base_url == "http://127.0.0.1:9000"
        assert plaintexts(runtime, updated) == {"t": "secret-value"}
        assert updated.variables == {"v": 1}
        with pytest.raises(InvalidInput):
            await service.ensure(session, actor, PROJECT, "local", "ftp://nope")


async def test_concurrent_puts_of_a_new_environment_all_succeed(
    api: httpx.AsyncClient, project: dict[str, Any]
) -> None:
    async def put(index: int) -> httpx.Response:
        return await api.put(env_url("racy"), json={"base_url": f"http://host{index}.test"})

    responses = await asyncio.gather(*(put(index) for index in range(8)))
    assert sorted(response.status_code for response in responses) == [200] * 7 + [201]
    assert (await api.get(env_url())).json()["total"] == 1
