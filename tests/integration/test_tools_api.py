"""The tool endpoints the ai-service calls back with a delegation token: they read within the token's
tenant and project only, never show a secret value, never write, and refuse bad input with a 4xx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from orchestra.ai_client.delegation import Delegation
from orchestra.app import create_app
from orchestra.config import Settings
from orchestra.kit.secret_box import SecretBox, new_key
from orchestra.models import LedgerEntry
from orchestra.runtime import Runtime
from orchestra.tenants.repository import ensure_tenant
from tests.integration.conftest import Harness, assert_problem

SECRET = "s3cr3t-value-never-shown"


def probe_case(name: str = "probe") -> dict[str, Any]:
    return {
        "name": name,
        "variables": {"path": "health"},
        "steps": [
            {"name": "health", "request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}},
            {
                "name": "target",
                "request": {"url": "{{ env.base_url }}/{{ vars.path }}"},
                "expect": {"status": 200},
            },
        ],
    }


class World:
    def __init__(self, api: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> None:
        self.api = api
        self.runtime = runtime
        self.app = create_app(settings, runtime)

    def client(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://orchestra.test/api/v1",
            headers={"Authorization": f"Bearer {token}"},
        )

    def delegated(
        self, project_id: str, tenant_id: uuid.UUID | None = None, **kwargs: Any
    ) -> httpx.AsyncClient:
        token = Delegation(self.runtime.secrets).mint(
            tenant_id=tenant_id or self.runtime.tenant_id,
            project_id=uuid.UUID(project_id),
            subject="alice",
            **kwargs,
        )
        return self.client(token)

    async def project(self, name: str) -> dict[str, Any]:
        response = await self.api.post("/projects", json={"name": name})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def environment(self, project: str, base_url: str = "http://127.0.0.1:9") -> dict[str, Any]:
        response = await self.api.post(
            f"/projects/{project}/environments",
            json={
                "name": "sut",
                "base_url": base_url,
                "variables": {"region": "eu"},
                "secrets": {"api_password": SECRET},
                "allowed_hosts": ["*.example.com"],
                "allow_private_network": True,
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def world(api: httpx.AsyncClient, runtime: Runtime, settings: Settings) -> World:
    return World(api, runtime, settings)


async def test_environment_view_shows_secret_names_but_never_their_values(world: World) -> None:
    project = await world.project("alpha")
    environment = await world.environment("alpha")
    async with world.delegated(project["id"]) as tool:
        response = await tool.get(f"/tools/environments/{environment['id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "id": environment["id"],
        "name": "sut",
        "base_url": "http://127.0.0.1:9",
        "allowed_hosts": ["*.example.com"],
        "variables": {"region": "eu"},
        "secret_names": ["api_password"],
    }
    assert SECRET not in response.text
    assert "enc:v1:" not in response.text


async def test_a_delegation_token_sees_only_its_own_project(world: World) -> None:
    alpha = await world.project("alpha")
    await world.project("beta")
    beta_environment = await world.environment("beta")
    async with world.delegated(alpha["id"]) as tool:
        response = await tool.get(f"/tools/environments/{beta_environment['id']}")
        assert_problem(response, 404, "does not exist")
        listed = await tool.get("/projects")
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["alpha"]


async def test_a_delegation_token_of_another_tenant_sees_nothing(world: World) -> None:
    project = await world.project("alpha")
    environment = await world.environment("alpha")
    async with world.runtime.db.transaction(None) as session:
        other_tenant = await ensure_tenant(session, "someone-else")
    async with world.delegated(project["id"], tenant_id=other_tenant) as tool:
        response = await tool.get(f"/tools/environments/{environment['id']}")
    assert_problem(response, 404)


async def test_a_delegation_token_cannot_write_anything(world: World) -> None:
    project = await world.project("alpha")
    environment = await world.environment("alpha")
    async with world.delegated(project["id"]) as tool:
        attempts = [
            await tool.post("/projects", json={"name": "gamma"}),
            await tool.patch(
                f"/projects/alpha/environments/{environment['id']}", json={"base_url": "http://x"}
            ),
            await tool.delete(f"/projects/alpha/environments/{environment['id']}"),
            await tool.post("/projects/alpha/apply", json={"test_cases": [probe_case()], "suites": []}),
        ]
    for response in attempts:
        assert_problem(response, 403, "editor")
    unchanged = await world.api.get(f"/projects/alpha/environments/{environment['id']}")
    assert unchanged.json()["base_url"] == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("token", "needle"),
    [
        ("expired", "expired"),
        ("foreign", "invalid delegation token"),
        ("tampered", "invalid delegation token"),
    ],
)
async def test_bad_delegation_tokens_are_refused(world: World, token: str, needle: str) -> None:
    project = await world.project("alpha")
    environment = await world.environment("alpha")
    project_id = uuid.UUID(project["id"])
    tenant = world.runtime.tenant_id
    if token == "expired":
        value = Delegation(world.runtime.secrets).mint(
            tenant_id=tenant, project_id=project_id, subject="x", now=datetime.now(UTC) - timedelta(hours=1)
        )
    elif token == "foreign":
        value = Delegation(SecretBox(new_key())).mint(tenant_id=tenant, project_id=project_id, subject="x")
    else:
        good = Delegation(world.runtime.secrets).mint(tenant_id=tenant, project_id=project_id, subject="x")
        header, payload, signature = good.split(".")
        value = f"{header}.{payload}.{signature[:-4]}AAAA"
    async with world.client(value) as tool:
        response = await tool.get(f"/tools/environments/{environment['id']}")
    assert_problem(response, 401, needle)
    assert "invalid_token" in response.headers["www-authenticate"]


async def test_test_case_view_is_the_current_version(world: World) -> None:
    project = await world.project("alpha")
    await world.environment("alpha")
    for path in ("health", "items"):
        case = probe_case()
        case["variables"] = {"path": path}
        response = await world.api.post("/projects/alpha/apply", json={"test_cases": [case], "suites": []})
        assert response.status_code == 200, response.text
    case_id = (await world.api.get("/projects/alpha/test-cases/probe")).json()["id"]
    async with world.delegated(project["id"]) as tool:
        response = await tool.get(f"/tools/testcases/{case_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["name"], body["version"]) == (case_id, "probe", 2)
    assert body["definition"]["variables"] == {"path": "items"}


@pytest.mark.parametrize(
    "path",
    [
        "/tools/environments/not-a-uuid",
        "/tools/testcases/%00",
        "/tools/runs/12345/evidence",
        f"/tools/runs/{'9' * 5000}/evidence",
    ],
)
async def test_malformed_ids_are_a_422_problem(world: World, path: str) -> None:
    response = await world.api.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "path", ["/tools/environments/{id}", "/tools/testcases/{id}", "/tools/runs/{id}/evidence"]
)
async def test_unknown_ids_are_a_404_problem(world: World, path: str) -> None:
    response = await world.api.get(path.format(id=uuid.uuid4()))
    assert_problem(response, 404, "does not exist")


async def test_anonymous_callers_are_refused(world: World) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.app), base_url="http://orchestra.test/api/v1"
    ) as anonymous:
        response = await anonymous.get(f"/tools/environments/{uuid.uuid4()}")
    assert_problem(response, 401)


async def test_evidence_of_a_failed_run_cites_the_failing_expectation_and_the_diff(
    harness: Harness, world: World
) -> None:
    passed = await harness.run(probe_case())
    assert passed["status"] == "PASSED", passed
    failed = await harness.wait(await harness.start("probe", variables={"path": "no-such-page"}))
    assert failed["status"] == "FAILED", failed
    project_id = (await world.api.get(f"/projects/{harness.project}")).json()["id"]
    async with world.delegated(project_id) as tool:
        response = await tool.get(f"/tools/runs/{failed['id']}/evidence")
    assert response.status_code == 200, response.text
    evidence = response.json()
    assert evidence["run"]["id"] == failed["id"]
    assert evidence["run"]["status"] == "FAILED"
    assert (evidence["run"]["test_case"], evidence["run"]["environment"]) == ("probe", "sut")
    assert evidence["last_passing_run_id"] == passed["id"]
    items = evidence["items"]
    assert [item["id"] for item in items] == [f"E{n}" for n in range(1, len(items) + 1)]
    by_kind = {item["kind"]: item for item in reversed(items)}
    assert by_kind["step"]["title"] == "failing step 'target' (failed)"
    assert "404" in by_kind["expectation"]["excerpt"]
    assert "200" in by_kind["expectation"]["excerpt"]
    requests = [item["title"] for item in items if item["kind"] == "request"]
    assert requests == ["request of step 'health'", "request of step 'target'"]
    assert "/no-such-page" in items[[i["title"] for i in items].index("request of step 'target'")]["excerpt"]
    assert "step 'target': step passed → failed, HTTP 200 → 404" in by_kind["diff"]["excerpt"]
    assert by_kind["diff"]["ref"]["last_passing_run_id"] == passed["id"]


async def test_evidence_of_a_run_of_another_project_is_hidden(harness: Harness, world: World) -> None:
    run = await harness.run(probe_case())
    other = await world.project("other")
    async with world.delegated(other["id"]) as tool:
        response = await tool.get(f"/tools/runs/{run['id']}/evidence")
    assert_problem(response, 404, "does not exist")


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "pets", "version": "1"},
    "paths": {
        "/pets": {
            "post": {
                "operationId": "createPet",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string", "minLength": 1}},
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "created"}},
            }
        }
    },
}


async def with_spec(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    project = await world.project("alpha")
    environment = await world.environment("alpha")
    response = await world.api.put("/projects/alpha/environments/sut/openapi", json={"document": SPEC})
    assert response.status_code == 200, response.text
    return project, environment


async def test_catalogue_is_404_until_a_description_is_imported(world: World) -> None:
    project = await world.project("alpha")
    environment = await world.environment("alpha")
    async with world.delegated(project["id"]) as tool:
        assert_problem(
            await tool.get(f"/tools/environments/{environment['id']}/catalogue"), 404, "no OpenAPI"
        )
    await world.api.put("/projects/alpha/environments/sut/openapi", json={"document": SPEC})
    async with world.delegated(project["id"]) as tool:
        response = await tool.get(f"/tools/environments/{environment['id']}/catalogue")
    assert response.status_code == 200, response.text
    catalogue = response.json()
    assert catalogue["title"] == "pets"
    assert [operation["operation_id"] for operation in catalogue["operations"]] == ["createPet"]


async def test_validate_reports_every_problem_of_a_plan_with_path_and_code(world: World) -> None:
    project, environment = await with_spec(world)
    good = {"version": 1, "bindings": {"pet": {"call": {"operation": "createPet", "body": {"name": "Rex"}}}}}
    bad = {
        "version": 1,
        "bindings": {
            "pet": {"call": {"operation": "createPet", "body": {"name": 7}}},
            "ghost": {"call": {"operation": "deletePet"}},
        },
    }
    async with world.delegated(project["id"]) as tool:
        ok = await tool.post(
            "/tools/dataplans/validate", json={"environment_id": environment["id"], "plan": good}
        )
        wrong = await tool.post(
            "/tools/dataplans/validate", json={"environment_id": environment["id"], "plan": bad}
        )
        shapeless = await tool.post(
            "/tools/dataplans/validate", json={"environment_id": environment["id"], "plan": ["x"]}
        )
        unknown = await tool.post(
            "/tools/dataplans/validate", json={"environment_id": str(uuid.uuid4()), "plan": {}}
        )
        extra = await tool.post(
            "/tools/dataplans/validate", json={"environment_id": environment["id"], "plan": {}, "x": 1}
        )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"problems": []}
    problems = wrong.json()["problems"]
    assert {problem["path"].split(".")[1] for problem in problems} == {"pet", "ghost"}
    assert all(problem["code"] and problem["message"] for problem in problems)
    assert shapeless.json()["problems"][0]["code"] == "schema"
    assert_problem(unknown, 404)
    assert extra.status_code == 422


async def test_search_finds_the_projects_documents_only(world: World) -> None:
    project = await world.project("alpha")
    other = await world.project("beta")
    for name in ("alpha", "beta"):
        response = await world.api.post(
            f"/projects/{name}/documents",
            json={"title": f"{name} guide", "text": f"# Refunds\n\nRefunds of {name} orders take five days."},
        )
        assert response.status_code == 201, response.text
    async with world.delegated(project["id"]) as tool:
        found = await tool.get("/tools/search", params={"project_id": project["id"], "q": "refund orders"})
        hidden = await tool.get("/tools/search", params={"project_id": other["id"], "q": "refund orders"})
        bounded = await tool.get(
            "/tools/search", params={"project_id": project["id"], "q": "x", "limit": 500}
        )
        bad_kind = await tool.get(
            "/tools/search", params={"project_id": project["id"], "q": "x", "kind": "secret"}
        )
    assert found.status_code == 200, found.text
    hits = found.json()["hits"]
    assert hits
    assert {hit["title"] for hit in hits} == {"alpha guide"}
    assert_problem(hidden, 404)
    assert bounded.status_code == 422
    assert bad_kind.status_code == 422


async def test_entities_are_the_environments_recent_ledger_entries_without_undo_calls(world: World) -> None:
    project = await world.project("alpha")
    environment = await world.environment("alpha")
    async with world.runtime.db.transaction(world.runtime.tenant_id) as session:
        for n, operation in enumerate(("createPet", "createPet", "createOwner")):
            session.add(
                LedgerEntry(
                    tenant_id=world.runtime.tenant_id,
                    project_id=uuid.UUID(project["id"]),
                    environment_id=uuid.UUID(environment["id"]),
                    step_seq=n,
                    source="data",
                    label=f"entity{n}",
                    operation=operation,
                    method="DELETE",
                    resource=f"http://127.0.0.1:9/things/{n}",
                    undo="sealed-undo-call",
                )
            )
    async with world.delegated(project["id"]) as tool:
        everything = await tool.get(f"/tools/environments/{environment['id']}/entities")
        pets = await tool.get(
            f"/tools/environments/{environment['id']}/entities", params={"operation": "createPet"}
        )
        one = await tool.get(f"/tools/environments/{environment['id']}/entities", params={"limit": 1})
    assert everything.status_code == 200, everything.text
    assert len(everything.json()["entities"]) == 3
    assert "sealed-undo-call" not in everything.text
    assert {entity["operation"] for entity in pets.json()["entities"]} == {"createPet"}
    assert len(pets.json()["entities"]) == 2
    assert len(one.json()["entities"]) == 1
    assert set(one.json()["entities"][0]) == {
        "operation",
        "label",
        "resource",
        "status",
        "created_at",
        "run_id",
    }
