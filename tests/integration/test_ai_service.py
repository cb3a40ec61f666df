"""The ai-service served by uvicorn against the real API (served by uvicorn too, over the real PostgreSQL),
the real demo SUT and its imported OpenAPI description: it reads only through the tool endpoints with the
delegation token it was given."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestra.ai.app import create_ai_app
from orchestra.ai_client.delegation import Delegation
from orchestra.cli.ai_service import describe_ai, reserve_embedded_ai
from orchestra.cli.serving import served_here
from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.demo import DEMO_PASSWORD, DEMO_USERNAME
from orchestra.runtime import Runtime
from tests.fakes.ollama_server import FakeOllama, json_reply, text, tool_call
from tests.integration.conftest import Harness, assert_problem
from tests.ports import free_port, refused_url

DEMO_SECRET = "demo-password"


class AiWorld:
    """A project with the demo SUT's environment and OpenAPI imported, a delegation token for it, and the
    ai-service (configured by ``serve``) reaching the API over HTTP."""

    def __init__(self, harness: Harness, runtime: Runtime, settings: Settings, api_port: int) -> None:
        self.harness = harness
        self.runtime = runtime
        self.settings = settings
        self.api_url = f"http://127.0.0.1:{api_port}"
        self.project_id = ""
        self.environment_id = ""
        self.token = ""

    async def prepare(self) -> None:
        api, project = self.harness.api, self.harness.project
        imported = await api.put(
            f"/projects/{project}/environments/sut/openapi",
            json={"url": f"{self.harness.base_url}/openapi.json"},
        )
        assert imported.status_code == 200, imported.text
        self.project_id = (await api.get(f"/projects/{project}")).json()["id"]
        self.environment_id = (await api.get(f"/projects/{project}/environments/sut")).json()["id"]
        self.token = self.mint(self.project_id)

    def mint(self, project_id: str) -> str:
        return Delegation(self.runtime.secrets).mint(
            tenant_id=self.runtime.tenant_id, project_id=uuid.UUID(project_id), subject="test"
        )

    def ai_settings(self, **extra: Any) -> Settings:
        return self.settings.model_copy(update={"api_url": self.api_url, **extra})

    def plan_request(self, operations: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "environment_id": self.environment_id,
            "test_case": {"name": "t", "requirements": {"operations": operations}},
            **extra,
        }

    async def validate(self, plan: dict[str, Any]) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(
            base_url=self.api_url, headers={"Authorization": f"Bearer {self.token}"}
        ) as tools:
            response = await tools.post(
                "/api/v1/tools/dataplans/validate", json={"environment_id": self.environment_id, "plan": plan}
            )
        assert response.status_code == 200, response.text
        problems: list[dict[str, Any]] = response.json()["problems"]
        return problems


async def serve_ai(settings: Settings) -> AsyncIterator[str]:
    async with served_here(create_ai_app(settings)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
async def world(harness: Harness, runtime: Runtime, settings: Settings, server_port: int) -> AiWorld:
    prepared = AiWorld(harness, runtime, settings, server_port)
    await prepared.prepare()
    return prepared


@pytest.fixture
async def ai(world: AiWorld) -> AsyncIterator[httpx.AsyncClient]:
    """The ai-service without a model."""
    async for url in serve_ai(world.ai_settings()):
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {world.token}"}, timeout=30
        ) as client:
            yield client


@pytest.fixture
async def ai_with_model(world: AiWorld) -> AsyncIterator[tuple[httpx.AsyncClient, FakeOllama]]:
    with FakeOllama() as fake:
        async for url in serve_ai(world.ai_settings(ollama_url=fake.url, ollama_timeout_s=5)):
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {world.token}"}, timeout=30
            ) as client:
                yield client, fake


async def test_without_a_model_the_builtin_plan_passes_the_apis_validation(
    world: AiWorld, ai: httpx.AsyncClient
) -> None:
    response = await ai.post("/v1/plan", json=world.plan_request(["createOrder"], seed=3))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["planner"] == "builtin"
    assert await world.validate(body["plan"]) == []
    operations = {b["call"]["operation"] for b in body["plan"]["bindings"].values() if "call" in b}
    assert {"createCustomer", "createItem"} <= operations
    assert DEMO_SECRET not in response.text


async def test_planning_without_an_imported_description_is_a_422(
    world: AiWorld, ai: httpx.AsyncClient, harness: Harness
) -> None:
    created = await harness.api.post(
        f"/projects/{harness.project}/environments",
        json={"name": "bare", "base_url": harness.base_url, "allow_private_network": True},
    )
    request = world.plan_request(["createOrder"])
    request["environment_id"] = created.json()["id"]
    assert_problem(await ai.post("/v1/plan", json=request), 422, "no OpenAPI description")


async def test_a_token_of_another_project_cannot_reach_this_projects_environment(
    world: AiWorld, ai: httpx.AsyncClient, harness: Harness
) -> None:
    other = await harness.api.post("/projects", json={"name": f"other-{uuid.uuid4().hex[:6]}"})
    foreign = world.mint(other.json()["id"])
    response = await ai.post(
        "/v1/plan", json=world.plan_request(["createOrder"]), headers={"Authorization": f"Bearer {foreign}"}
    )
    assert_problem(response, 404)
    forged = await ai.post(
        "/v1/plan", json=world.plan_request(["createOrder"]), headers={"Authorization": "Bearer forged"}
    )
    assert_problem(forged, 401, "delegation token")


async def test_suggestions_for_a_real_operation_are_accepted_by_the_api(
    world: AiWorld, ai: httpx.AsyncClient, harness: Harness
) -> None:
    response = await ai.post(
        "/v1/suggest",
        json={
            "project_id": world.project_id,
            "environment_id": world.environment_id,
            "operation_id": "createOrder",
        },
    )
    assert response.status_code == 200, response.text
    cases = response.json()["test_cases"]
    assert len(cases) == 4
    for case in cases:
        validate_test_case_data(case)
    await harness.apply(*cases)


async def failed_run(harness: Harness) -> str:
    run = await harness.run(
        {
            "name": "health-is-created",
            "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 201}}],
        }
    )
    assert run["status"] == "FAILED", run
    return str(run["id"])


async def test_explaining_a_real_failed_run_without_a_model_cites_its_evidence_deterministically(
    world: AiWorld, ai: httpx.AsyncClient, harness: Harness
) -> None:
    run_id = await failed_run(harness)
    first = await ai.post("/v1/explain", json={"run_id": run_id})
    second = await ai.post("/v1/explain", json={"run_id": run_id})
    assert first.status_code == 200, first.text
    assert first.json() == second.json()
    body = first.json()
    known = {item["id"] for item in body["evidence"]}
    assert body["findings"]
    assert all(set(f["citations"]) <= known for f in body["findings"])
    assert any("201" in f["text"] for f in body["findings"])
    assert body["model"] is None


async def test_explaining_with_a_model_keeps_only_cited_findings(
    world: AiWorld, ai_with_model: tuple[httpx.AsyncClient, FakeOllama], harness: Harness
) -> None:
    client, fake = ai_with_model
    run_id = await failed_run(harness)
    fake.script(
        json_reply(
            {
                "summary": "The health endpoint answers 200, the test expected 201.",
                "findings": [
                    {"text": "Status 200 instead of 201", "citations": ["E1"]},
                    {"text": "Invented cause", "citations": ["E99"]},
                ],
            }
        )
    )
    response = await client.post("/v1/explain", json={"run_id": run_id})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "qwen2.5:3b"
    assert body["findings"] == [{"text": "Status 200 instead of 201", "citations": ["E1"]}]
    prompt = fake.chat_requests[0]["messages"][-1]["content"]
    assert body["evidence"][0]["title"] in prompt


async def test_explaining_a_run_that_does_not_exist_is_a_404(world: AiWorld, ai: httpx.AsyncClient) -> None:
    assert_problem(await ai.post("/v1/explain", json={"run_id": str(uuid.uuid4())}), 404)


async def test_orchestra_up_serves_the_ai_service_beside_the_api(world: AiWorld) -> None:
    port = free_port()
    settings, embedded = reserve_embedded_ai(world.ai_settings(ai_port=port, ai_url=None), port)
    assert embedded is not None
    assert settings.ai_url == f"http://127.0.0.1:{port}"  # what the API and the executor call
    await embedded.start(create_ai_app(settings))
    try:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{embedded.url}/health")).json() == {"status": "ok", "model": None}
        said = describe_ai(settings, embedded)
        assert (
            said
            == f"ai-service on http://127.0.0.1:{port} (no model: built-in planner and evidence summaries)"
        )
        # another Orchestra's ai-service holds the port: this one serves on a free port of its own
        other, beside = reserve_embedded_ai(world.ai_settings(ai_port=port, ai_url=None), port)
        assert beside is not None
        assert other.ai_url == beside.url != embedded.url
        await beside.start(create_ai_app(other))
        try:
            async with httpx.AsyncClient() as client:
                assert (await client.get(f"{beside.url}/health")).status_code == 200
            assert f"port {port} is taken" in describe_ai(other, beside)
        finally:
            await beside.stop()
    finally:
        await embedded.stop()
    external = world.ai_settings(ai_url="http://ai.internal:8002")
    assert reserve_embedded_ai(external, 8002) == (external, None)
    assert describe_ai(external, None) == "ai-service: http://ai.internal:8002 (external)"


async def add_guide(harness: Harness) -> None:
    response = await harness.api.post(
        f"/projects/{harness.project}/documents",
        json={
            "title": "Ordering guide",
            "text": "# Orders\n\nAn order needs an existing customer and an item; quantity is at least 1.\n\n"
            "# Refunds\n\nRefunds are handled by the support team.",
        },
    )
    assert response.status_code == 201, response.text


async def test_chat_without_a_model_quotes_the_projects_documents(
    world: AiWorld, ai: httpx.AsyncClient, harness: Harness
) -> None:
    await add_guide(harness)
    response = await ai.post(
        "/v1/chat",
        json={
            "project_id": world.project_id,
            "environment_id": world.environment_id,
            "messages": [{"role": "user", "content": "What does an order need?"}],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "No language model is configured" in body["reply"]
    assert body["citations"]
    assert body["citations"][0]["id"] == "D1"
    assert "existing customer" in body["citations"][0]["excerpt"]
    assert "createOrder" in body["reply"]


async def test_chat_with_a_model_answers_from_the_real_search_and_explains_runs(
    world: AiWorld, ai_with_model: tuple[httpx.AsyncClient, FakeOllama], harness: Harness
) -> None:
    client, fake = ai_with_model
    await add_guide(harness)
    run_id = await failed_run(harness)
    fake.script(
        tool_call("search_docs", query="order customer"),
        tool_call("explain_run", run_id=run_id),
        text("Orders need a customer [D1]; the run expected 201 from /health."),
    )
    response = await client.post(
        "/v1/chat",
        json={
            "project_id": world.project_id,
            "messages": [{"role": "user", "content": "Why did my run fail?"}],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [c["id"] for c in body["citations"]] == ["D1"]
    assert [c["name"] for c in body["tool_calls"]] == ["search_docs", "explain_run"]
    explained = json.loads(fake.chat_requests[2]["messages"][-1]["content"])
    assert explained["findings"]
    assert all(f["citations"] for f in explained["findings"])


async def test_suggested_cases_run_green_against_the_demo_sut_through_the_whole_pipeline(
    world: AiWorld, harness: Harness, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Suggestions asked through the public API (API → ai-service → tool endpoints), applied, and run:
    the plan of each run comes from the ai-service too (the built-in planner, no model)."""
    project = harness.project
    created = await harness.api.post(
        f"/projects/{project}/environments",
        json={
            "name": "login",
            "base_url": harness.base_url,
            "variables": {"username": DEMO_USERNAME},
            "secrets": {"password": DEMO_PASSWORD},
            "allow_private_network": True,
        },
    )
    assert created.status_code == 201, created.text
    imported = await harness.api.put(
        f"/projects/{project}/environments/login/openapi", json={"url": f"{harness.base_url}/openapi.json"}
    )
    assert imported.status_code == 200, imported.text
    async for url in serve_ai(world.ai_settings()):
        # The API app holds its runtime's settings object: point it at the ai-service just started.
        monkeypatch.setattr(runtime.settings, "ai_url", url)
        response = await harness.api.post(
            f"/projects/{project}/assistant/suggest",
            json={"environment": "login", "operation_id": "createOrder"},
        )
        assert response.status_code == 200, response.text
        cases = response.json()["test_cases"]
        await harness.apply(*cases)
        verdicts = {}
        for case in cases:
            run_id = await harness.start(case["name"], environment="login")
            run = await harness.wait(run_id, timeout_s=60)
            verdicts[case["name"]] = run["status"]
            assert "left" not in run["status_reason"], run["status_reason"]  # what they created was undone
    assert verdicts == dict.fromkeys(verdicts, "PASSED"), verdicts
    assert DEMO_PASSWORD not in response.text


def start_orchestra_ai(tmp_path: Path) -> tuple[subprocess.Popen[str], int, str]:
    """`orchestra ai` on a port that was free a moment ago (another one if it was taken meanwhile), once it
    said that it serves there; with what it said."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
    env.update(ORCHESTRA_DATA_DIR=str(tmp_path), COLUMNS="200")
    for _ in range(3):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestra.cli", "ai", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        said = process.stdout.readline()
        if f"ai-service serving on http://127.0.0.1:{port}" in said:
            return process, port, said
        said += process.communicate(timeout=15)[0]
        assert "cannot listen on" in said, said  # taken meanwhile: try another port
    raise AssertionError("no free port for `orchestra ai`")


async def test_orchestra_ai_serves_until_it_is_told_to_stop(tmp_path: Path) -> None:
    process, port, said = await asyncio.to_thread(start_orchestra_ai, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/health")
            assert health.json() == {"status": "ok", "model": None}
            refused = await client.post("/v1/plan", json={})
            assert refused.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output = said + process.communicate(timeout=15)[0]
    assert process.returncode == 0, output
    assert "ai-service stopped" in output


def _sample(exposition: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_plans_are_timed_and_fallbacks_counted_on_the_ai_services_metrics(world: AiWorld) -> None:
    """A model that cannot be reached: the built-in planner makes the plan, and /metrics says so."""
    async for url in serve_ai(world.ai_settings(ollama_url=refused_url(), ollama_timeout_s=5)):
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {world.token}"}, timeout=30
        ) as client:
            before = (await client.get("/metrics")).text
            response = await client.post("/v1/plan", json=world.plan_request(["createOrder"], seed=3))
            assert response.status_code == 200, response.text
            assert response.json()["planner"] == "builtin"
            scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    after = scraped.text
    fallbacks = "orchestra_ai_plan_fallbacks_total"
    assert (
        _sample(after, fallbacks, reason="unavailable") - _sample(before, fallbacks, reason="unavailable")
        == 1
    )
    timed = "orchestra_ai_plan_duration_seconds_count"
    assert _sample(after, timed, planner="builtin") - _sample(before, timed, planner="builtin") == 1
