"""The Data Resolver against the real demo SUT: concurrency, failure reporting, resuming, egress refusal,
rendered undo calls and seeded reproducibility."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from orchestra.demo.sut_store import DEMO_PASSWORD, DEMO_USERNAME
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.egress_http import guarded_client
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue
from orchestra.steps.http_call import HttpCall
from orchestra.testdata.calls import perform_undo
from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.records import BindingResult
from orchestra.testdata.resolver import BindingFailed, DataResolver

AUTH = {
    "call": {
        "operation": "issueToken",
        "body": {"username": "{{ env.username }}", "password": "{{ secrets.password }}"},
    }
}
HEADERS = {"Authorization": "Bearer {{ data.auth.access_token }}"}
CUSTOMER_SCHEMA = {
    "type": "object",
    "required": ["name", "email"],
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "email": {"type": "string", "format": "email"},
    },
}


@pytest.fixture(scope="module")
async def catalogue(demo_url: str) -> Catalogue:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{demo_url}/openapi.json")
    return build_catalogue(response.json())


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with guarded_client() as guarded:
        yield guarded


def private(demo_url: str) -> EgressPolicy:
    return EgressPolicy.for_environment(demo_url, [], allow_private=True, environment="demo")


def resolver(
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    demo_url: str,
    *,
    policy: EgressPolicy | None = None,
    seed: int | None = 1,
    concurrency: int = 4,
) -> DataResolver:
    return DataResolver(
        client,
        catalogue,
        base_url=demo_url,
        policy=policy or private(demo_url),
        environment={"username": DEMO_USERNAME},
        secrets={"password": DEMO_PASSWORD},
        seed=seed,
        concurrency=concurrency,
        timeout_s=10,
    )


class Collected:
    def __init__(self) -> None:
        self.results: list[BindingResult] = []

    async def __call__(self, result: BindingResult) -> None:
        self.results.append(result)

    def by_name(self) -> dict[str, BindingResult]:
        return {result.binding: result for result in self.results}


def slow_plan(count: int, ms: int) -> DataPlan:
    bindings = {
        f"s{i}": {"lookup": {"operation": "slow", "query": {"ms": ms}, "select": "$.slept_ms"}}
        for i in range(count)
    }
    return DataPlan.model_validate({"bindings": bindings})


async def test_independent_bindings_run_concurrently_up_to_the_limit(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    plan = slow_plan(4, 500)
    started = time.perf_counter()
    data = await resolver(client, catalogue, demo_url, concurrency=4).resolve(
        plan, done={}, on_result=Collected()
    )
    parallel = time.perf_counter() - started
    assert data == {f"s{i}": 500 for i in range(4)}
    assert parallel < 1.5  # four 500 ms calls at once, not 2 s one after another
    started = time.perf_counter()
    await resolver(client, catalogue, demo_url, concurrency=2).resolve(plan, done={}, on_result=Collected())
    assert time.perf_counter() - started >= 1.0  # at most two at a time: two rounds of 500 ms


async def test_a_created_entity_is_reported_with_its_rendered_undo_call(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    plan = DataPlan.model_validate(
        {
            "defaults": {"headers": HEADERS},
            "bindings": {
                "auth": AUTH,
                "fields": {"generate": {"schema": CUSTOMER_SCHEMA}},
                "customer": {
                    "call": {
                        "operation": "createCustomer",
                        "body": "{{ data.fields }}",
                        "capture": {"id": "$.id", "where": "header:Location", "code": "status"},
                    },
                    "cleanup": {"operation": "deleteCustomer", "path": {"customerId": "{{ self.id }}"}},
                },
            },
        }
    )
    collected = Collected()
    data = await resolver(client, catalogue, demo_url).resolve(plan, done={}, on_result=collected)
    results = collected.by_name()
    assert [r.binding for r in collected.results] == ["auth", "customer"]
    customer = results["customer"]
    assert customer.status == "passed"
    assert data["customer"]["code"] == 201
    assert data["customer"]["where"].endswith(data["customer"]["id"])
    assert customer.request is not None
    assert customer.request["method"] == "POST"
    assert customer.response is not None
    assert customer.response["status"] == 201
    assert "authorization" not in {k.lower() for k in (results["auth"].request or {}).get("headers", {})}
    undo = customer.undo
    assert undo is not None
    token = data["auth"]["access_token"]
    assert undo == HttpCall(
        "DELETE", f"{demo_url}/customers/{data['customer']['id']}", {"Authorization": f"Bearer {token}"}
    )
    assert (await perform_undo(client, undo, private(demo_url), timeout_s=5)).status == "done"
    again = await perform_undo(client, undo, private(demo_url), timeout_s=5)
    assert again.status == "gone"


async def test_a_failed_binding_is_raised_after_the_waves_other_calls_are_reported(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    plan = DataPlan.model_validate(
        {
            "defaults": {"headers": HEADERS},
            "bindings": {
                "auth": AUTH,
                "bad": {"call": {"operation": "createCustomer", "body": {"name": "x"}}},
                "slow": {"lookup": {"operation": "slow", "query": {"ms": 300}, "select": "$"}},
                "later": {"value": "{{ data.bad }}"},
            },
        }
    )
    collected = Collected()
    with pytest.raises(BindingFailed) as failure:
        await resolver(client, catalogue, demo_url).resolve(plan, done={}, on_result=collected)
    assert failure.value.binding == "bad"
    assert failure.value.reason.startswith("createCustomer returned 422 (expected 2xx): ")
    assert failure.value.result is not None
    assert failure.value.result.status == "failed"
    assert {r.binding: r.status for r in collected.results} == {
        "auth": "passed",
        "bad": "failed",
        "slow": "passed",
    }


async def test_done_bindings_are_reused_not_executed_again(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    plan = DataPlan.model_validate(
        {
            "bindings": {
                "first": {"lookup": {"operation": "slow", "query": {"ms": 1}, "select": "$.slept_ms"}},
                "second": {
                    "lookup": {
                        "operation": "slow",
                        "query": {"ms": "{{ data.first + 1 }}"},
                        "select": "$.slept_ms",
                    }
                },
            }
        }
    )
    collected = Collected()
    data = await resolver(client, catalogue, demo_url).resolve(plan, done={"first": 41}, on_result=collected)
    assert data == {"first": 41, "second": 42}
    assert [r.binding for r in collected.results] == ["second"]


async def test_the_egress_policy_refuses_before_anything_is_sent(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    strict = EgressPolicy.for_environment(demo_url, [], allow_private=False, environment="demo")
    collected = Collected()
    with pytest.raises(BindingFailed) as failure:
        await resolver(client, catalogue, demo_url, policy=strict).resolve(
            slow_plan(1, 1), done={}, on_result=collected
        )
    assert "does not allow private networks" in failure.value.reason
    assert collected.results[0].status == "error"
    assert collected.results[0].response is None
    other_host = EgressPolicy.for_environment("http://sut.example.com", [], allow_private=True)
    with pytest.raises(BindingFailed) as failure:
        await resolver(client, catalogue, demo_url, policy=other_host).resolve(
            slow_plan(1, 1), done={}, on_result=Collected()
        )
    assert "host '127.0.0.1' is not allowed for the environment" in failure.value.reason


async def test_a_failing_on_result_stops_the_resolver(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    plan = DataPlan.model_validate(
        {
            "bindings": {
                "a": {"lookup": {"operation": "slow", "query": {"ms": 1}, "select": "$"}},
                "b": {
                    "lookup": {"operation": "slow", "query": {"ms": "{{ data.a.slept_ms }}"}, "select": "$"}
                },
            }
        }
    )
    seen: list[str] = []

    async def refuse(result: BindingResult) -> None:
        seen.append(result.binding)
        raise RuntimeError("the ledger is unavailable")

    with pytest.raises(RuntimeError, match="the ledger is unavailable"):
        await resolver(client, catalogue, demo_url).resolve(plan, done={}, on_result=refuse)
    assert seen == ["a"]


async def test_same_plan_and_seed_give_the_same_generated_values(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    plan = DataPlan.model_validate(
        {
            "bindings": {
                "customer": {"generate": {"schema": CUSTOMER_SCHEMA}},
                "company": {"generate": {"faker": "company"}},
                "pair": {"value": ["{{ data.company }}", "{{ data.customer.email }}"]},
            }
        }
    )

    async def run(seed: int | None) -> dict[str, Any]:
        return await resolver(client, catalogue, demo_url, seed=seed).resolve(
            plan, done={}, on_result=Collected()
        )

    first = await run(5)
    assert await run(5) == first
    assert await run(6) != first
    assert first["pair"] == [first["company"], first["customer"]["email"]]
    seeded_plan = plan.model_copy(update={"seed": 5})
    unseeded = resolver(client, catalogue, demo_url, seed=None)
    assert await unseeded.resolve(seeded_plan, done={}, on_result=Collected()) == first


async def test_a_template_error_is_reported_as_an_error_result(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    plan = DataPlan.model_validate(
        {"bindings": {"x": {"lookup": {"operation": "slow", "query": {"ms": "{{ env.nope }}"}}}}}
    )
    collected = Collected()
    with pytest.raises(BindingFailed) as failure:
        await resolver(client, catalogue, demo_url).resolve(plan, done={}, on_result=collected)
    assert "'nope' is undefined" in failure.value.reason
    assert collected.results[0].status == "error"
    assert collected.results[0].request is None


async def test_a_costly_template_in_a_plan_stops_at_its_budget(
    catalogue: Catalogue, client: httpx.AsyncClient, demo_url: str
) -> None:
    loops = "{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}"
    for binding in (
        {"value": loops},
        {"lookup": {"operation": "slow", "query": {"ms": loops}, "select": "$"}},
    ):
        plan = DataPlan.model_validate({"bindings": {"costly": binding}})
        started = time.perf_counter()
        with pytest.raises(BindingFailed) as failure:
            await resolver(client, catalogue, demo_url).resolve(plan, done={}, on_result=Collected())
        assert "template stopped: the template used more than 1000000 operations" in failure.value.reason
        assert time.perf_counter() - started < 10
