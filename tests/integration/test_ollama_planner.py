"""The Ollama planner end to end: the ai-service (uvicorn) asks the fake Ollama server (real HTTP, the real
``ollama`` client), answers the model's tool calls from the real API's tool endpoints and has every plan
validated by the real API against the demo SUT's imported description.

Set ORCHESTRA_TEST_OLLAMA_URL (and optionally ORCHESTRA_TEST_OLLAMA_MODEL, default qwen2.5:3b) to also run
one scenario against a real Ollama server."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from orchestra.testdata.plans.dataplan_model import dataplan_json_schema
from tests.fakes.ollama_server import FakeOllama, Fault, json_reply, text, tool_call
from tests.integration.test_ai_service import DEMO_SECRET, AiWorld, serve_ai, world  # noqa: F401

REAL_OLLAMA_URL = os.environ.get("ORCHESTRA_TEST_OLLAMA_URL")
REAL_OLLAMA_MODEL = os.environ.get("ORCHESTRA_TEST_OLLAMA_MODEL", "qwen2.5:3b")

ORDER_PLAN: dict[str, Any] = {
    "version": 1,
    "defaults": {"headers": {"Authorization": "Bearer {{ secrets.api_password }}"}},
    "bindings": {
        "customer": {
            "call": {
                "operation": "createCustomer",
                "body": {"name": "Ada Lovelace", "email": "ada@example.com"},
                "capture": {"id": "$.id"},
            },
            "cleanup": {"operation": "deleteCustomer", "path": {"customerId": "{{ self.id }}"}},
        },
        "item": {
            "call": {
                "operation": "createItem",
                "body": {"name": "lamp", "price": 12.5},
                "capture": {"id": "$.id"},
            },
            "cleanup": {"operation": "deleteItem", "path": {"item_id": "{{ self.id }}"}},
        },
        "order_input": {
            "value": {"customerId": "{{ data.customer.id }}", "itemId": "{{ data.item.id }}", "quantity": 1}
        },
    },
}


@pytest.fixture
async def planner(world: AiWorld) -> AsyncIterator[tuple[httpx.AsyncClient, FakeOllama]]:  # noqa: F811
    with FakeOllama() as fake:
        settings = world.ai_settings(ollama_url=fake.url, ollama_timeout_s=5, planner_repair_attempts=1)
        async for url in serve_ai(settings):
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {world.token}"}, timeout=30
            ) as client:
                yield client, fake


async def test_the_model_looks_at_the_real_catalogue_and_its_plan_passes_the_real_validation(
    world: AiWorld,  # noqa: F811
    planner: tuple[httpx.AsyncClient, FakeOllama],
) -> None:
    client, fake = planner
    fake.script(
        tool_call("list_operations"),
        tool_call("get_operation", operation_id="createOrder"),
        text("I know enough."),
        json_reply(ORDER_PLAN),
    )
    response = await client.post("/v1/plan", json=world.plan_request(["createOrder"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"plan": ORDER_PLAN, "planner": "ollama:qwen2.5:3b", "notices": []}
    listed = json.loads(fake.chat_requests[1]["messages"][-1]["content"])
    assert {"operation_id": "createOrder", "method": "POST", "path": "/orders"} in [
        {k: op[k] for k in ("operation_id", "method", "path")} for op in listed
    ]
    detail = json.loads(fake.chat_requests[2]["messages"][-1]["content"])
    assert detail["request_schema"]["required"] == ["customerId", "itemId", "quantity"]
    assert fake.chat_requests[3]["format"] == dataplan_json_schema()


@pytest.mark.parametrize(
    ("binding", "problem"),
    [
        ({"call": {"operation": "exportAllCustomers"}}, "not in the API description"),
        (
            {"call": {"operation": "echoGet", "query": {"next": "https://attacker.example/collect"}}},
            "attacker.example",
        ),
    ],
    ids=["operation-not-in-the-spec", "url-to-another-host"],
)
async def test_the_real_validation_rejects_what_the_model_should_not_do(
    world: AiWorld,  # noqa: F811
    planner: tuple[httpx.AsyncClient, FakeOllama],
    binding: dict[str, Any],
    problem: str,
) -> None:
    client, fake = planner
    unsafe = {"version": 1, "bindings": {"x": binding}}
    fake.script(text("ready"), json_reply(unsafe), json_reply(unsafe))
    response = await client.post("/v1/plan", json=world.plan_request(["createOrder"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["planner"] == "builtin"
    assert any(problem in notice for notice in body["notices"]), body["notices"]
    assert problem in fake.chat_requests[2]["messages"][-1]["content"]  # the repair round saw it
    assert await world.validate(body["plan"]) == []


async def test_a_failing_ollama_leaves_the_run_with_the_builtin_plan(
    world: AiWorld,  # noqa: F811
    planner: tuple[httpx.AsyncClient, FakeOllama],
) -> None:
    client, fake = planner
    fake.script(Fault.model_not_found("qwen2.5:3b"))
    response = await client.post("/v1/plan", json=world.plan_request(["createOrder"]))
    body = response.json()
    assert body["planner"] == "builtin"
    assert any("not found" in notice for notice in body["notices"])
    assert await world.validate(body["plan"]) == []


async def test_no_secret_value_and_no_token_ever_reach_the_model(
    world: AiWorld,  # noqa: F811
    planner: tuple[httpx.AsyncClient, FakeOllama],
) -> None:
    client, fake = planner
    fake.script(
        tool_call("get_operation", operation_id="issueToken"),
        tool_call("find_entities", operation="createCustomer"),
        tool_call("search_docs", query="password"),
        text("ready"),
        json_reply(ORDER_PLAN),
    )
    response = await client.post("/v1/plan", json=world.plan_request(["createOrder"]))
    assert response.status_code == 200, response.text
    sent = fake.all_request_text()
    assert "api_password" in sent  # the secret's name is what the model may use
    assert DEMO_SECRET not in sent
    assert world.token not in sent


@pytest.mark.skipif(not REAL_OLLAMA_URL, reason="set ORCHESTRA_TEST_OLLAMA_URL to run against a real Ollama")
async def test_a_real_ollama_plans_or_the_builtin_planner_steps_in_with_a_reason(
    world: AiWorld,  # noqa: F811
) -> None:
    settings = world.ai_settings(
        ollama_url=REAL_OLLAMA_URL, ollama_model=REAL_OLLAMA_MODEL, ollama_timeout_s=300
    )
    async for url in serve_ai(settings):
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {world.token}"}, timeout=900
        ) as client:
            response = await client.post("/v1/plan", json=world.plan_request(["createOrder"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert await world.validate(body["plan"]) == []
    if body["planner"] == "builtin":
        assert body["notices"], "a fallback always says why"
    else:
        assert body["planner"] == f"ollama:{REAL_OLLAMA_MODEL}"
    assert DEMO_SECRET not in json.dumps(body)
