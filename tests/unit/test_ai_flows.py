"""The ai-service's flows against the fake Ollama server (real HTTP, the real ``ollama`` client) and an
in-test app speaking the API's tool contract (the real API is exercised in tests/integration).

The tool app builds the demo SUT's catalogue with the real importer and validates plans with the real
validator, so what is accepted or refused here is what the API accepts or refuses."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orchestra.ai.app import create_ai_app
from orchestra.ai.chat import NO_MODEL
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.demo.sut import create_app as create_demo_app
from orchestra.kit.egress import EgressPolicy
from orchestra.openapi.catalogue import build_catalogue
from orchestra.testdata.plans.dataplan_model import dataplan_json_schema
from orchestra.testdata.plans.validate import parse_plan, validate_plan
from tests.fakes.ollama_server import FakeOllama, Fault, Slow, json_reply, text, tool_call, unused_url

TOKEN = "delegation-token-for-tests"
ENV_ID = "7d5c3c2e-0000-4000-8000-000000000001"
PROJECT_ID = "7d5c3c2e-0000-4000-8000-000000000002"
RUN_ID = "7d5c3c2e-0000-4000-8000-000000000003"
CATALOGUE = build_catalogue(create_demo_app().openapi())
POLICY = EgressPolicy.for_environment("http://127.0.0.1:9", [], True)
GOOD_PLAN: dict[str, Any] = {
    "version": 1,
    "bindings": {
        "customer": {
            "call": {
                "operation": "createCustomer",
                "headers": {"Authorization": "Bearer {{ secrets.api_token }}"},
                "body": {"name": "Ada", "email": "ada@example.com"},
                "capture": {"id": "$.id"},
            }
        }
    },
}
EVIDENCE: dict[str, Any] = {
    "run": {"id": RUN_ID, "name": "orders", "status": "failed", "status_reason": "1 step failed"},
    "items": [
        {
            "id": "E1",
            "kind": "failure",
            "title": "step 'create order' failed",
            "excerpt": "HTTP 422",
            "ref": {},
        },
        {
            "id": "E2",
            "kind": "expectation",
            "title": "status",
            "excerpt": "expected 201, got 422",
            "ref": {},
        },
        {"id": "E3", "kind": "response", "title": "response", "excerpt": '{"detail": "bad"}', "ref": {}},
    ],
    "last_passing_run_id": None,
    "similar_runs": [],
}
DOCS = [
    {"id": "c1", "title": "Orders guide", "excerpt": "An order needs a customer and an item."},
    {"id": "c2", "title": "Items guide", "excerpt": "Items have a name and a price."},
]


class ToolApi:
    """The API's tool endpoints as the ai-service sees them; records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []  # method, path, authorization
        self.app = FastAPI()
        self.secret_value = "hunter2-never-to-a-model"
        tools = "/api/v1/tools"

        @self.app.middleware("http")
        async def record(request: Request, call_next: Any) -> Any:
            self.requests.append((request.method, request.url.path, request.headers.get("authorization", "")))
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"detail": "invalid delegation token"}, status_code=401)
            return await call_next(request)

        @self.app.get(tools + "/environments/{environment_id}")
        async def environment(environment_id: str) -> dict[str, Any]:
            return {
                "id": environment_id,
                "name": "demo",
                "base_url": "http://127.0.0.1:9",
                "allowed_hosts": [],
                "variables": {"username": "demo"},
                "secret_names": ["api_token"],
            }

        @self.app.get(tools + "/environments/{environment_id}/catalogue")
        async def catalogue(environment_id: str) -> dict[str, Any]:
            return CATALOGUE.to_json()

        @self.app.post(tools + "/dataplans/validate")
        async def validate(body: dict[str, Any]) -> dict[str, Any]:
            plan, problems = parse_plan(body["plan"])
            if plan is not None:
                problems = validate_plan(plan, CATALOGUE, POLICY)
            return {"problems": [p.to_json() for p in problems]}

        @self.app.get(tools + "/search")
        async def search(q: str, project_id: str, limit: int = 5) -> dict[str, Any]:
            words = set(q.lower().split())
            return {
                "hits": [d for d in DOCS if words & set(d["excerpt"].lower().rstrip(".").split())][:limit]
            }

        @self.app.get(tools + "/environments/{environment_id}/entities")
        async def entities(environment_id: str) -> dict[str, Any]:
            return {"entities": []}

        @self.app.get(tools + "/runs/{run_id}/evidence")
        async def evidence(run_id: str) -> dict[str, Any]:
            return {**EVIDENCE, "run": {**EVIDENCE["run"], "id": run_id}}


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture
def tool_api() -> ToolApi:
    return ToolApi()


def ai_client(tool_api: ToolApi, **settings: Any) -> httpx.AsyncClient:
    app = create_ai_app(
        Settings(api_url="http://api.test", **settings), api_transport=httpx.ASGITransport(app=tool_api.app)
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://ai.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


@pytest.fixture
async def with_model(fake: FakeOllama, tool_api: ToolApi) -> AsyncIterator[httpx.AsyncClient]:
    async with ai_client(tool_api, ollama_url=fake.url, ollama_timeout_s=2, planner_repair_attempts=2) as c:
        yield c


@pytest.fixture
async def without_model(tool_api: ToolApi) -> AsyncIterator[httpx.AsyncClient]:
    async with ai_client(tool_api) as c:
        yield c


def plan_request(**extra: Any) -> dict[str, Any]:
    return {
        "project_id": PROJECT_ID,
        "environment_id": ENV_ID,
        "test_case": {"name": "new customer", "requirements": {"operations": ["createCustomer"]}},
        **extra,
    }


# -- the Ollama planner ------------------------------------------------------------------------------------


async def test_tool_calls_are_answered_then_the_plan_is_asked_with_the_dataplan_schema(
    with_model: httpx.AsyncClient, fake: FakeOllama, tool_api: ToolApi
) -> None:
    fake.script(
        tool_call("list_operations"),
        tool_call("get_operation", operation_id="createCustomer"),
        text("ready"),
        json_reply(GOOD_PLAN),
    )
    response = await with_model.post("/v1/plan", json=plan_request())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["planner"] == "ollama:qwen2.5:3b"
    assert body["plan"] == GOOD_PLAN
    assert body["notices"] == []
    first, second, third, final = fake.chat_requests
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "list_operations",
        "get_operation",
        "search_docs",
    }
    assert "format" not in first
    fed_back = second["messages"][-1]
    assert fed_back["role"] == "tool"
    assert "createCustomer" in fed_back["content"]
    assert '"operation_id": "createCustomer"' in third["messages"][-1]["content"]  # the operation's details
    assert final["format"] == dataplan_json_schema()
    assert not final.get("tools")  # Ollama ignores tool calls when a format is given
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in tool_api.requests)
    assert ("POST", "/api/v1/tools/dataplans/validate", f"Bearer {TOKEN}") in tool_api.requests


async def test_an_invalid_plan_goes_back_with_its_problems_and_the_repair_is_used(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    wrong = copy.deepcopy(GOOD_PLAN)
    wrong["bindings"]["customer"]["call"]["operation"] = "createClient"
    fake.script(text("ready"), json_reply(wrong), json_reply(GOOD_PLAN))
    response = await with_model.post("/v1/plan", json=plan_request())
    assert response.status_code == 200, response.text
    assert response.json()["planner"] == "ollama:qwen2.5:3b"
    assert response.json()["plan"] == GOOD_PLAN
    repair = fake.chat_requests[2]
    assert repair["format"] == dataplan_json_schema()
    assert "unknown_operation" in repair["messages"][-1]["content"]
    assert "createClient" in repair["messages"][-1]["content"]


async def test_malformed_model_json_is_sent_back_for_repair(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    fake.script(text("ready"), text('{"version": 1, "bindings": {'), json_reply(GOOD_PLAN))
    response = await with_model.post("/v1/plan", json=plan_request())
    assert response.status_code == 200, response.text
    assert response.json()["planner"] == "ollama:qwen2.5:3b"
    assert "not one JSON object" in fake.chat_requests[2]["messages"][-1]["content"]


async def test_a_repair_request_shows_the_model_the_suts_refusal(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    fake.script(text("ready"), json_reply(GOOD_PLAN))
    failure = {
        "binding": "customer",
        "operation": "createCustomer",
        "status": 422,
        "response_body": {"detail": "email already taken"},
        "reason": "expected 2xx",
    }
    response = await with_model.post(
        "/v1/plan", json=plan_request(repair={"plan": GOOD_PLAN, "failures": [failure]})
    )
    assert response.status_code == 200, response.text
    opening = json.dumps(fake.chat_requests[0]["messages"])
    assert "email already taken" in opening


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ({"version": 1, "bindings": {"x": {"call": {"operation": "dropDatabase"}}}}, "unknown_operation"),
        (
            {
                "version": 1,
                "bindings": {"x": {"call": {"operation": "health", "query": {"u": "http://evil.example/"}}}},
            },
            "host_not_allowed",
        ),
    ],
    ids=["operation-not-in-the-spec", "absolute-url-to-another-host"],
)
async def test_a_model_insisting_on_an_unsafe_plan_never_gets_it_through(
    with_model: httpx.AsyncClient, fake: FakeOllama, plan: dict[str, Any], problem: str
) -> None:
    fake.script(text("ready"), json_reply(plan), json_reply(plan), json_reply(plan))
    response = await with_model.post("/v1/plan", json=plan_request())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["planner"] == "builtin"
    assert body["plan"] != plan
    assert any(problem in notice for notice in body["notices"]), body["notices"]
    assert len(fake.chat_requests) == 4  # the tool loop, then 1 + 2 repair attempts, no more


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (Fault.server_error("llama runner crashed"), "llama runner crashed"),
        (
            Fault(404, json.dumps({"error": 'model "qwen2.5:3b" not found, try pulling it first'})),
            "not found",
        ),
        (Slow(5, text("too late")), "did not answer within 2s"),
        (Fault.malformed(), "could not be read"),
    ],
    ids=["http-500", "model-not-found", "timeout", "malformed-body"],
)
async def test_an_ollama_failure_falls_back_to_the_builtin_planner_with_a_notice(
    with_model: httpx.AsyncClient, fake: FakeOllama, script: Any, reason: str
) -> None:
    fake.script(script)
    response = await with_model.post("/v1/plan", json=plan_request())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["planner"] == "builtin"
    assert any(reason in notice and "built-in planner" in notice for notice in body["notices"]), body[
        "notices"
    ]
    assert "createCustomer" in json.dumps(body["plan"])


async def test_an_unreachable_ollama_falls_back_to_the_builtin_planner(tool_api: ToolApi) -> None:
    async with ai_client(tool_api, ollama_url=unused_url()) as client:
        response = await client.post("/v1/plan", json=plan_request())
    assert response.status_code == 200, response.text
    assert response.json()["planner"] == "builtin"
    assert any("unreachable" in notice for notice in response.json()["notices"])


async def test_without_a_model_the_builtin_planner_plans(without_model: httpx.AsyncClient) -> None:
    response = await without_model.post("/v1/plan", json=plan_request(seed=7))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["planner"] == "builtin"
    assert body["notices"] == []
    again = await without_model.post("/v1/plan", json=plan_request(seed=7))
    assert again.json()["plan"] == body["plan"]


async def test_the_builtin_planner_repairs_a_plan_with_what_the_suts_refusal_names(
    without_model: httpx.AsyncClient,
) -> None:
    first = (await without_model.post("/v1/plan", json=plan_request(seed=7))).json()
    assert "birthDate" not in json.dumps(first["plan"])  # optional and null by default: left to the server
    refusal = {"detail": [{"loc": ["body", "birthDate"], "msg": "Field required", "type": "missing"}]}
    failure = {
        "binding": "create_customer",
        "operation": "createCustomer",
        "status": 422,
        "response_body": json.dumps(refusal),
        "reason": "expected 2xx",
    }
    repair = {"plan": first["plan"], "failures": [failure]}
    response = await without_model.post("/v1/plan", json=plan_request(seed=7, repair=repair))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["notices"] == [
        "The built-in planner learnt from the SUT's refusals: createCustomer: birthDate missing."
    ]
    assert "birthDate" in body["plan"]["bindings"]["create_customer"]["value"]["body"]
    # A later repair of the repaired plan keeps the lesson its notes carry, though its refusal names nothing.
    failure["response_body"] = json.dumps({"detail": "email already taken"})
    again = {"plan": body["plan"], "failures": [failure]}
    later = (await without_model.post("/v1/plan", json=plan_request(seed=7, repair=again))).json()
    assert later["notices"] == [
        "The SUT's refusals name no field of the bodies they refused; this is a fresh plan."
    ]
    assert "birthDate" in later["plan"]["bindings"]["create_customer"]["value"]["body"]


async def test_a_secret_value_never_reaches_the_model(
    with_model: httpx.AsyncClient, fake: FakeOllama, tool_api: ToolApi
) -> None:
    fake.script(tool_call("list_operations"), text("ready"), json_reply(GOOD_PLAN))
    assert (await with_model.post("/v1/plan", json=plan_request())).status_code == 200
    sent = fake.all_request_text()
    assert "api_token" in sent  # the name is given, so the model can refer to it
    assert tool_api.secret_value not in sent
    assert TOKEN not in sent  # nor the delegation token


# -- explain -----------------------------------------------------------------------------------------------


async def test_without_a_model_the_explanation_is_a_deterministic_summary_of_the_evidence(
    without_model: httpx.AsyncClient,
) -> None:
    first = await without_model.post("/v1/explain", json={"run_id": RUN_ID})
    second = await without_model.post("/v1/explain", json={"run_id": RUN_ID})
    assert first.status_code == 200, first.text
    assert first.json() == second.json()
    body = first.json()
    assert body["model"] is None
    assert [f["citations"] for f in body["findings"]] == [["E1"], ["E2"]]
    assert "expected 201, got 422" in body["findings"][1]["text"]
    assert [e["id"] for e in body["evidence"]] == ["E1", "E2", "E3"]


async def test_model_findings_citing_evidence_that_does_not_exist_are_dropped(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    fake.script(
        json_reply(
            {
                "summary": "The order was refused with 422.",
                "findings": [
                    {"text": "The SUT refused the order", "citations": ["E1", "E2"]},
                    {"text": "The database is down", "citations": ["E9"]},
                    {"text": "Uncited guess", "citations": []},
                ],
            }
        )
    )
    response = await with_model.post("/v1/explain", json={"run_id": RUN_ID})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "qwen2.5:3b"
    assert body["findings"] == [{"text": "The SUT refused the order", "citations": ["E1", "E2"]}]
    assert fake.chat_requests[0]["format"]["required"] == ["summary", "findings"]


async def test_a_failing_model_gives_the_deterministic_explanation(
    with_model: httpx.AsyncClient, without_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    fake.script(Fault.server_error())
    response = await with_model.post("/v1/explain", json={"run_id": RUN_ID})
    expected = await without_model.post("/v1/explain", json={"run_id": RUN_ID})
    assert response.json() == expected.json()


# -- suggest -----------------------------------------------------------------------------------------------


async def test_suggestions_are_valid_definitions_covering_the_unhappy_paths(
    without_model: httpx.AsyncClient,
) -> None:
    response = await without_model.post(
        "/v1/suggest", json={"project_id": PROJECT_ID, "environment_id": ENV_ID, "operation_id": "createItem"}
    )
    assert response.status_code == 200, response.text
    cases = response.json()["test_cases"]
    for case in cases:
        validate_test_case_data(case)
    assert all(case["data"]["operations"] == ["createItem"] for case in cases)
    statuses = [case["steps"][0]["expect"]["status"] for case in cases]
    assert statuses == [201, "4xx", "4xx", 401]
    assert "Authorization" not in cases[3]["steps"][0]["request"].get("headers", {})
    assert "name" not in cases[1]["steps"][0]["request"]["json"]
    assert cases[0]["steps"][0]["request"]["headers"] == {"Authorization": "Bearer {{ secrets.api_token }}"}


async def test_model_suggestions_are_kept_only_when_valid(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    valid = {
        "name": "createItem with a negative price",
        "steps": [
            {
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/items",
                    "json": {"name": "x", "price": -1},
                },
                "expect": {"status": 422},
            }
        ],
    }
    fake.script(json_reply({"test_cases": [valid, {"name": "no steps at all"}]}))
    response = await with_model.post(
        "/v1/suggest", json={"project_id": PROJECT_ID, "environment_id": ENV_ID, "operation_id": "createItem"}
    )
    body = response.json()
    assert body["model"] == "qwen2.5:3b"
    assert valid in body["test_cases"]
    assert all(case["name"] != "no steps at all" for case in body["test_cases"])
    assert any("no steps at all" in note for note in body["notes"])


async def test_suggesting_for_an_unknown_operation_is_a_404(without_model: httpx.AsyncClient) -> None:
    response = await without_model.post(
        "/v1/suggest", json={"project_id": PROJECT_ID, "environment_id": ENV_ID, "operation_id": "nope"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


# -- chat --------------------------------------------------------------------------------------------------


async def test_without_a_model_chat_quotes_the_documents_and_says_so(
    without_model: httpx.AsyncClient,
) -> None:
    response = await without_model.post(
        "/v1/chat",
        json={
            "project_id": PROJECT_ID,
            "environment_id": ENV_ID,
            "messages": [{"role": "user", "content": "what does an order need"}],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reply"].startswith(NO_MODEL)
    assert body["citations"] == [{"id": "D1", "title": "Orders guide", "excerpt": DOCS[0]["excerpt"]}]
    assert "[D1] Orders guide" in body["reply"]
    assert "createOrder" in body["reply"]


async def test_chat_with_a_model_runs_tools_and_cites_what_they_returned(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    fake.script(tool_call("search_docs", query="order customer"), text("An order needs a customer [D1]."))
    response = await with_model.post(
        "/v1/chat",
        json={
            "project_id": PROJECT_ID,
            "messages": [{"role": "user", "content": "What does an order need?"}],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reply"] == "An order needs a customer [D1]."
    assert [c["id"] for c in body["citations"]] == ["D1"]
    assert body["tool_calls"] == [{"name": "search_docs", "arguments": {"query": "order customer"}}]
    assert body["model"] == "qwen2.5:3b"
    assert "explain_run" in {t["function"]["name"] for t in fake.chat_requests[0]["tools"]}


# -- the HTTP edge -----------------------------------------------------------------------------------------


async def test_health_names_the_model(
    with_model: httpx.AsyncClient, without_model: httpx.AsyncClient
) -> None:
    assert (await with_model.get("/health")).json() == {"status": "ok", "model": "qwen2.5:3b"}
    assert (await without_model.get("/health")).json() == {"status": "ok", "model": None}


async def test_a_request_without_a_delegation_token_is_refused(tool_api: ToolApi) -> None:
    async with ai_client(tool_api) as client:
        response = await client.post("/v1/explain", json={"run_id": RUN_ID}, headers={"Authorization": ""})
    assert response.status_code == 401
    assert tool_api.requests == []


async def test_a_token_the_api_refuses_is_a_401(tool_api: ToolApi) -> None:
    async with ai_client(tool_api) as client:
        response = await client.post(
            "/v1/explain", json={"run_id": RUN_ID}, headers={"Authorization": "Bearer forged"}
        )
    assert response.status_code == 401
    assert "delegation token" in response.json()["detail"]


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"[" * 5000 + b"]" * 5000, 400),
        (b'{"run_id": "a", "run_id": "b"}', 422),
        (b'{"run_id": ', 422),
        (b'{"run_id": "' + b"x" * 2_000_000 + b'"}', 413),
        (b'{"run_id": "x", "api_url": "http://evil.example"}', 422),
    ],
    ids=["deep", "duplicate-key", "malformed", "oversized", "unknown-field"],
)
async def test_hostile_input_gets_a_clear_4xx(
    without_model: httpx.AsyncClient, content: bytes, status: int
) -> None:
    response = await without_model.post(
        "/v1/explain", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_chat_refuses_too_many_or_too_long_messages(without_model: httpx.AsyncClient) -> None:
    many = [{"role": "user", "content": "hi"}] * 51
    long = [{"role": "user", "content": "x" * 20_001}]
    for messages in (many, long, []):
        response = await without_model.post("/v1/chat", json={"project_id": PROJECT_ID, "messages": messages})
        assert response.status_code == 422, response.text


async def test_a_model_that_is_slow_in_total_is_cut_off_before_the_api_gives_up(
    fake: FakeOllama, tool_api: ToolApi
) -> None:
    fake.on_chat = lambda _: Slow(0.4, tool_call("list_operations"))  # each answer is in time, all are not
    async with ai_client(tool_api, ollama_url=fake.url, ollama_timeout_s=5, ai_timeout_s=2) as client:
        response = await client.post("/v1/plan", json=plan_request())
    assert response.status_code == 200, response.text
    assert response.json()["planner"] == "builtin"
    assert any("longer than 1.5s" in notice for notice in response.json()["notices"])


async def test_the_tool_loop_is_bounded_and_then_asked_for_an_answer(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    fake.script(
        *[tool_call("search_docs", query=f"q{i}") for i in range(8)], text("Here is what I found [D1].")
    )
    response = await with_model.post(
        "/v1/chat", json={"project_id": PROJECT_ID, "messages": [{"role": "user", "content": "order"}]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["reply"] == "Here is what I found [D1]."
    assert len(response.json()["tool_calls"]) == 8
    assert len(fake.chat_requests) == 9
    assert not fake.chat_requests[-1].get("tools")


async def test_chat_falls_back_to_quoting_when_the_model_fails(
    with_model: httpx.AsyncClient, fake: FakeOllama
) -> None:
    fake.script(Fault.model_not_found("qwen2.5:3b"))
    response = await with_model.post(
        "/v1/chat",
        json={"project_id": PROJECT_ID, "messages": [{"role": "user", "content": "what is an order"}]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reply"].startswith("The model could not answer (Ollama answered with an error (404)")
    assert NO_MODEL in body["reply"]
    assert body["model"] is None


async def test_an_oversized_plan_is_sent_back_without_bothering_the_api(
    with_model: httpx.AsyncClient, fake: FakeOllama, tool_api: ToolApi
) -> None:
    fake.script(text("ready"), json_reply({"version": 1, "notes": ["x" * 210_000]}), json_reply(GOOD_PLAN))
    response = await with_model.post("/v1/plan", json=plan_request(seed=5))
    assert response.status_code == 200, response.text
    assert response.json()["plan"] == {**GOOD_PLAN, "seed": 5}
    assert "longer than 200000 characters" in fake.chat_requests[2]["messages"][-1]["content"]
    validations = [path for _, path, _ in tool_api.requests if path.endswith("/validate")]
    assert len(validations) == 1
