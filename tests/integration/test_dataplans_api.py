"""The DataPlan a run uses: pinned → cached → planner, with the built-in planner standing in when the
ai-service cannot be reached (here: it is configured on a closed port), and the review/edit/pin API."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from orchestra.ai_client.delegation import Delegation
from orchestra.app import create_app
from orchestra.config import Settings
from orchestra.definitions.testcase_model import DataRequirements
from orchestra.models import TestCase, TestCaseVersion
from orchestra.runtime import Runtime
from orchestra.testdata.provider import PlanProvider, PlanUnavailable, plan_json
from tests.integration.conftest import assert_problem

PROJECT = "shop"
NEEDS = {"requires": "an order of a customer", "operations": ["createOrder"]}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The ai-service configured where every connection is refused (``tests.ports.refused_url``)."""
    return settings.model_copy(update={"executor_concurrency": 2, "ai_timeout_s": 5})


def order_case(name: str = "order", data: dict[str, Any] | None = None) -> dict[str, Any]:
    case: dict[str, Any] = {
        "name": name,
        "steps": [
            {"name": "health", "request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}
        ],
    }
    if data is not None:
        case["data"] = data
    return case


class Shop:
    def __init__(self, api: httpx.AsyncClient, runtime: Runtime, settings: Settings, demo_url: str) -> None:
        self.api = api
        self.runtime = runtime
        self.settings = settings
        self.demo_url = demo_url
        self.project_id = ""
        self.environment_id = ""

    async def setup(self, *, with_spec: bool = True) -> None:
        response = await self.api.post("/projects", json={"name": PROJECT})
        assert response.status_code == 201, response.text
        self.project_id = response.json()["id"]
        response = await self.api.post(
            f"/projects/{PROJECT}/environments",
            json={
                "name": "sut",
                "base_url": self.demo_url,
                "secrets": {"api_password": "demo-password"},
                "allow_private_network": True,
            },
        )
        assert response.status_code == 201, response.text
        self.environment_id = response.json()["id"]
        await self.apply(order_case(data=NEEDS), order_case("bare"))
        if with_spec:
            response = await self.api.put(
                f"/projects/{PROJECT}/environments/sut/openapi", json={"url": f"{self.demo_url}/openapi.json"}
            )
            assert response.status_code in (200, 201), response.text

    async def apply(self, *cases: dict[str, Any]) -> None:
        response = await self.api.post(
            f"/projects/{PROJECT}/apply", json={"test_cases": list(cases), "suites": []}
        )
        assert response.status_code == 200, response.text

    def url(self, case: str = "order", suffix: str = "") -> str:
        return f"/projects/{PROJECT}/test-cases/{case}/dataplan{suffix}"

    async def ids(self, case: str = "order") -> tuple[uuid.UUID, uuid.UUID]:
        """The test case's id and its current version's id."""
        test_case_id = uuid.UUID((await self.api.get(f"/projects/{PROJECT}/test-cases/{case}")).json()["id"])
        query = (
            select(TestCaseVersion.id)
            .join(TestCase, TestCase.id == TestCaseVersion.test_case_id)
            .where(TestCase.id == test_case_id, TestCaseVersion.version == TestCase.current_version)
        )
        async with self.runtime.db.transaction(self.runtime.tenant_id) as session:
            return test_case_id, (await session.execute(query)).scalar_one()

    def provider(self) -> PlanProvider:
        return PlanProvider(self.runtime.db, self.settings, self.runtime.secrets)

    async def plan_for_run(self, case: str = "order") -> Any:
        test_case_id, version_id = await self.ids(case)
        return await self.provider().plan_for_run(
            tenant_id=self.runtime.tenant_id,
            project_id=uuid.UUID(self.project_id),
            test_case_id=test_case_id,
            test_case_version_id=version_id,
            environment_id=uuid.UUID(self.environment_id),
            requirements=DataRequirements.model_validate(NEEDS),
        )

    def client(self, token: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(self.settings, self.runtime)),
            base_url="http://orchestra.test/api/v1",
            headers={"Authorization": f"Bearer {token}"},
        )


@pytest.fixture
async def shop(api: httpx.AsyncClient, runtime: Runtime, settings: Settings, demo_url: str) -> Shop:
    world = Shop(api, runtime, settings, demo_url)
    await world.setup()
    return world


async def test_without_an_imported_description_no_plan_can_be_made(
    api: httpx.AsyncClient, runtime: Runtime, settings: Settings, demo_url: str
) -> None:
    world = Shop(api, runtime, settings, demo_url)
    await world.setup(with_spec=False)
    response = await api.post(world.url(suffix="/generate"), params={"environment": "sut"})
    assert_problem(
        response,
        409,
        f"environment 'sut' has no OpenAPI description; import one: PUT /api/v1/projects/{PROJECT}",
    )
    with pytest.raises(PlanUnavailable, match="/environments/sut/openapi"):
        await world.plan_for_run()


async def test_generate_falls_back_to_the_builtin_planner_when_the_ai_service_is_unreachable(
    shop: Shop,
) -> None:
    assert_problem(await shop.api.get(shop.url(), params={"environment": "sut"}), 404, "no DataPlan")
    response = await shop.api.post(shop.url(suffix="/generate"), params={"environment": "sut"})
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["planner"] == "builtin"
    assert not made["pinned"]
    assert any(
        "built-in planner was used" in notice and "ConnectError" in notice for notice in made["notices"]
    )
    operations = {b["call"]["operation"] for b in made["plan"]["bindings"].values() if b.get("call")}
    assert {"createCustomer", "createOrder"} <= operations
    current = await shop.api.get(shop.url(), params={"environment": shop.environment_id})
    assert current.status_code == 200, current.text
    assert current.json()["id"] == made["id"]
    assert len(made["spec_hash"]) == 64


async def test_without_the_ai_service_the_builtin_planner_repairs_with_what_the_refusals_name(
    shop: Shop,
) -> None:
    first = await shop.plan_for_run()
    assert "birthDate" not in json.dumps(plan_json(first.plan))
    test_case_id, version_id = await shop.ids()
    ids = {
        "tenant_id": shop.runtime.tenant_id,
        "project_id": uuid.UUID(shop.project_id),
        "test_case_id": test_case_id,
        "test_case_version_id": version_id,
        "environment_id": uuid.UUID(shop.environment_id),
        "requirements": DataRequirements.model_validate(NEEDS),
    }
    refusal = {"detail": [{"loc": ["body", "birthDate"], "msg": "Field required", "type": "missing"}]}
    failure = {
        "binding": "customer",
        "operation": "createCustomer",
        "status": 422,
        "response_body": json.dumps(refusal),
        "reason": "expected 2xx",
    }
    repaired = await shop.provider().repair(first, failures=[failure], **ids)
    assert repaired.planner == "builtin"
    assert any("repaired the plan with what the SUT's refusals name" in notice for notice in repaired.notices)
    customer = plan_json(repaired.plan)["bindings"]["customer"]["call"]["body"]
    assert "birthDate" in customer
    # A refusal that names no field of the body leaves nothing to learn: no repair, and the reason why.
    failure["response_body"] = json.dumps({"detail": "email already taken"})
    with pytest.raises(PlanUnavailable, match="name no field the built-in planner could send"):
        await shop.provider().repair(repaired, failures=[failure], **ids)


async def test_generate_needs_declared_data(shop: Shop) -> None:
    response = await shop.api.post(shop.url("bare", "/generate"), params={"environment": "sut"})
    assert_problem(response, 409, "declares no data needs")


async def test_provider_caches_per_version_and_spec_and_the_pin_wins(shop: Shop) -> None:
    first = await shop.plan_for_run()
    assert first.planner == "builtin"
    assert first.plan_id is not None
    assert any("built-in planner" in notice for notice in first.notices)
    assert "createOrder" in first.catalogue.operations
    second = await shop.plan_for_run()
    assert second.planner == "cached:builtin"
    assert second.plan_id == first.plan_id
    assert second.plan == first.plan

    edited = plan_json(first.plan)
    edited["notes"] = ["edited by a person"]
    response = await shop.api.put(shop.url(), params={"environment": "sut"}, json=edited)
    assert response.status_code == 200, response.text
    assert (response.json()["pinned"], response.json()["planner"]) == (True, "user")
    pinned = await shop.plan_for_run()
    assert pinned.planner == "pinned"
    assert pinned.plan.notes == ["edited by a person"]

    shown = (await shop.api.get(shop.url(), params={"environment": "sut"})).json()
    assert shown["pinned"] is True
    assert shown["plan"]["notes"] == ["edited by a person"]

    assert (await shop.api.delete(shop.url(suffix="/pin"), params={"environment": "sut"})).status_code == 204
    assert (await shop.plan_for_run()).planner == "cached:builtin"
    again = await shop.api.delete(shop.url(suffix="/pin"), params={"environment": "sut"})
    assert_problem(again, 404, "no pinned DataPlan")


async def test_a_failed_plan_is_dropped_from_the_cache_and_a_pinned_one_is_not(shop: Shop) -> None:
    provider, owner = (
        shop.provider(),
        {"tenant_id": shop.runtime.tenant_id, "project_id": uuid.UUID(shop.project_id)},
    )
    failed = await shop.plan_for_run()
    assert (await shop.plan_for_run()).planner == "cached:builtin"
    await provider.forget(failed, **owner)
    made_again = await shop.plan_for_run()
    assert made_again.planner == "builtin"  # a new plan: the failed one is not given again
    assert made_again.plan_id != failed.plan_id
    assert (await shop.plan_for_run()).plan_id == made_again.plan_id  # which is cached in turn

    response = await shop.api.put(shop.url(), params={"environment": "sut"}, json=plan_json(made_again.plan))
    assert response.status_code == 200, response.text
    pinned = await shop.plan_for_run()
    assert pinned.planner == "pinned"
    await provider.forget(pinned, **owner)
    await provider.forget(
        dataclasses.replace(pinned, planner="cached:builtin"), **owner
    )  # resumed, relabelled
    again = await shop.plan_for_run()
    assert (again.planner, again.plan_id) == ("pinned", pinned.plan_id)


async def test_a_new_version_of_the_test_case_gets_a_new_plan(shop: Shop) -> None:
    first = await shop.plan_for_run()
    changed = order_case(data=NEEDS)
    changed["description"] = "now documented"
    await shop.apply(changed)
    second = await shop.plan_for_run()
    assert second.planner == "builtin"
    assert second.plan_id != first.plan_id


async def test_pinning_again_replaces_the_pin(shop: Shop) -> None:
    plan = plan_json((await shop.plan_for_run()).plan)
    for note in ("one", "two"):
        plan["notes"] = [note]
        response = await shop.api.put(shop.url(), params={"environment": "sut"}, json=plan)
        assert response.status_code == 200, response.text
    shown = (await shop.api.get(shop.url(), params={"environment": "sut"})).json()
    assert shown["plan"]["notes"] == ["two"]


async def test_an_invalid_plan_is_refused_with_every_problem(shop: Shop) -> None:
    plan = {
        "version": 1,
        "bindings": {
            "order": {"call": {"operation": "noSuchOperation"}},
            "customer": {"call": {"operation": "createCustomer", "body": {"name": "{{ data.ghost.id }}"}}},
        },
    }
    response = await shop.api.put(shop.url(), params={"environment": "sut"}, json=plan)
    body = assert_problem(response, 422, "the DataPlan is invalid")
    problems = body["problems"]
    assert {p["path"].split(".")[1] for p in problems} >= {"order", "customer"}
    assert all(set(p) == {"path", "code", "message"} for p in problems)
    assert any(p["path"].startswith("bindings.order") and "noSuchOperation" in p["message"] for p in problems)
    assert (await shop.api.get(shop.url(), params={"environment": "sut"})).status_code == 404


@pytest.mark.parametrize(
    ("plan", "path"),
    [
        ([1, 2, 3], ""),
        ({"version": 2}, "version"),
        ({"bindings": {"bad name!": {"value": 1}}}, "bindings.bad name!.[key]"),
        ({"bindings": {"x": {"value": 1, "generate": {"faker": "name"}}}}, "bindings.x"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_malformed_plans_are_a_422_with_the_place(shop: Shop, plan: Any, path: str) -> None:
    response = await shop.api.put(shop.url(), params={"environment": "sut"}, json=plan)
    body = assert_problem(response, 422)
    assert any(p["code"] == "schema" and p["path"].startswith(path) for p in body["problems"]), body


async def test_hostile_requests_get_a_clear_4xx(shop: Shop) -> None:
    huge = {"version": 1, "notes": ["x" * 1000] * 20_000}
    assert (await shop.api.put(shop.url(), params={"environment": "sut"}, json=huge)).status_code == 413
    assert_problem(await shop.api.get(shop.url()), 422)
    assert_problem(await shop.api.get(shop.url(), params={"environment": "nope"}), 404, "'nope'")
    assert_problem(await shop.api.get(shop.url("ghost"), params={"environment": "sut"}), 404, "'ghost'")
    assert_problem(await shop.api.get(shop.url(), params={"environment": "x" * 300}), 422)
    not_json = await shop.api.put(
        shop.url(), params={"environment": "sut"}, content=b"{", headers={"content-type": "application/json"}
    )
    assert 400 <= not_json.status_code < 500


async def test_viewers_and_delegation_tokens_can_read_but_not_change_plans(shop: Shop) -> None:
    await shop.api.post(shop.url(suffix="/generate"), params={"environment": "sut"})
    created = await shop.api.post("/tokens", json={"name": "viewer", "role": "viewer", "project": PROJECT})
    assert created.status_code == 201, created.text
    delegated = Delegation(shop.runtime.secrets).mint(
        tenant_id=shop.runtime.tenant_id, project_id=uuid.UUID(shop.project_id), subject="ai"
    )
    plan = (await shop.api.get(shop.url(), params={"environment": "sut"})).json()["plan"]
    for token in (created.json()["token"], delegated):
        async with shop.client(token) as reader:
            assert (await reader.get(shop.url(), params={"environment": "sut"})).status_code == 200
            assert_problem(
                await reader.put(shop.url(), params={"environment": "sut"}, json=plan), 403, "editor"
            )
            denied = await reader.post(shop.url(suffix="/generate"), params={"environment": "sut"})
            assert_problem(denied, 403, "editor")
            assert_problem(await reader.delete(shop.url(suffix="/pin"), params={"environment": "sut"}), 403)
    shown = (await shop.api.get(shop.url(), params={"environment": "sut"})).json()
    assert shown["pinned"] is False


async def test_a_delegation_token_of_another_project_sees_no_plan(shop: Shop) -> None:
    await shop.api.post(shop.url(suffix="/generate"), params={"environment": "sut"})
    other = await shop.api.post("/projects", json={"name": "other"})
    token = Delegation(shop.runtime.secrets).mint(
        tenant_id=shop.runtime.tenant_id, project_id=uuid.UUID(other.json()["id"]), subject="ai"
    )
    async with shop.client(token) as reader:
        assert_problem(await reader.get(shop.url(), params={"environment": "sut"}), 404, PROJECT)
