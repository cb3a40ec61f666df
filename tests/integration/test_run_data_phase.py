"""A run's data phase and cleanup phase, end to end against the real demo SUT: the plan and each of its calls
are visible steps, ``data.*`` renders in the test steps, and what the run created is undone afterwards,
whatever the verdict. The plan comes from a fixed provider (a pinned plan is a real case of the provider)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue
from orchestra.runtime import Runtime
from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.provider import PlanUnavailable, PreparedPlan
from tests.integration.conftest import Harness

AUTH = {"Authorization": "Bearer {{ data.login.token }}"}


LOG_IN = {  # a test case's setup step: the demo SUT's token, captured as ``token``
    "request": {
        "method": "POST",
        "url": "{{ env.base_url }}/auth/token",
        "json": {"username": "demo", "password": "{{ secrets.api_password }}"},
    },
    "capture": {"token": "$.access_token"},
}


def create_item(prefix: str) -> dict[str, Any]:
    """A step named ``create`` that makes an item (with ``token``) and declares its cleanup by location."""
    return {
        "name": "create",
        "request": {
            "method": "POST",
            "url": "{{ env.base_url }}/items",
            "headers": {"Authorization": "Bearer {{ token }}"},
            "json": {"name": prefix + "-{{ uuid4() }}", "price": 1},
        },
        "cleanup": {
            "url": "{{ response.headers.location }}",
            "headers": {"Authorization": "Bearer {{ token }}"},
        },
    }


def item_plan(body: dict[str, Any] | None = None) -> DataPlan:
    return DataPlan.model_validate(
        {
            "bindings": {
                "login": {
                    "call": {
                        "operation": "issueToken",
                        "body": {"username": "demo", "password": "{{ secrets.api_password }}"},
                        "capture": {"token": "$.access_token"},
                    }
                },
                "item": {
                    "call": {
                        "operation": "createItem",
                        "headers": AUTH,
                        "body": body or {"name": "planned-{{ uuid4() }}", "price": 5},
                        "capture": {"id": "$.id", "name": "$.name"},
                    },
                    "cleanup": {
                        "operation": "deleteItem",
                        "path": {"item_id": "{{ self.id }}"},
                        "headers": AUTH,
                    },
                },
            }
        }
    )


class FixedPlans:
    """A plan provider that gives the first of its plans and repairs with the next one; it remembers what
    it was asked, and the plans it was told to drop."""

    def __init__(self, catalogue: Catalogue, *plans: DataPlan, unavailable: str | None = None) -> None:
        self.catalogue = catalogue
        self.plans = list(plans)
        self.unavailable = unavailable
        self.asked: list[DataRequirements] = []
        self.failures: list[list[dict[str, Any]]] = []
        self.forgotten: list[DataPlan] = []

    def _next(self, planner: str) -> PreparedPlan:
        return PreparedPlan(
            self.plans[0], self.catalogue, planner, ("Ollama unreachable; built-in planner used",), None
        )

    async def plan_for_run(self, *, requirements: DataRequirements, **_ids: Any) -> PreparedPlan:
        self.asked.append(requirements)
        if self.unavailable is not None:
            raise PlanUnavailable(self.unavailable)
        return self._next("builtin")

    async def repair(self, prepared: Any, *, failures: list[dict[str, Any]], **_ids: Any) -> PreparedPlan:
        self.failures.append(failures)
        if len(self.plans) < 2:
            raise PlanUnavailable("the planner could not repair it")
        self.plans.pop(0)
        return PreparedPlan(self.plans[0], self.catalogue, "builtin", (), None)

    async def forget(self, prepared: Any, **_ids: Any) -> None:
        self.forgotten.append(prepared.plan)


@pytest.fixture
async def catalogue(demo_url: str) -> Catalogue:
    async with httpx.AsyncClient() as client:
        return build_catalogue((await client.get(f"{demo_url}/openapi.json")).json())


def data_case(name: str, expect_status: int = 200) -> dict[str, Any]:
    return {
        "name": name,
        "data": {"operations": ["createItem"]},
        "steps": [
            {
                "name": "read the planned item",
                "request": {
                    "url": "{{ env.base_url }}/items/{{ data.item.id }}",
                    "headers": {"Authorization": "Bearer {{ data.login.token }}"},
                },
                "expect": {"status": expect_status, "json": {"$.name": "{{ data.item.name }}"}},
            }
        ],
    }


async def item_status(demo_url: str, item_id: str) -> int:
    async with httpx.AsyncClient(base_url=demo_url) as sut:
        token = (await sut.post("/auth/token", json={"username": "demo", "password": "demo-password"})).json()
        response = await sut.get(
            f"/items/{item_id}", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        return response.status_code


def by_phase(run: dict[str, Any], phase: str) -> list[dict[str, Any]]:
    return [step for step in run["steps"] if step["phase"] == phase]


async def test_data_phase_steps_are_visible_and_cleanup_deletes_after_a_passed_run(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, demo_url: str, api: httpx.AsyncClient
) -> None:
    plans = FixedPlans(catalogue, item_plan())
    runtime.executor.plans = plans
    run = await harness.run(data_case("planned-pass"))

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    assert plans.asked[0].operations == ["createItem"]
    data = by_phase(run, "data")
    assert [step["name"] for step in data] == [
        "plan test data (builtin)",
        "call login (issueToken)",
        "call item (createItem)",
    ]
    assert data[0]["response"]["planner"] == "builtin"
    assert set(run["data_plan"]["bindings"]) == {"login", "item"}
    assert data[0]["assertions"][0]["message"] == "Ollama unreachable; built-in planner used"
    assert "demo-password" not in str(run["steps"])  # the secret password sent by the plan is masked
    assert [step["phase"] for step in run["steps"]] == ["data"] * 3 + ["main", "cleanup"]
    assert run["steps"][3]["status"] == "passed"
    item_id = data[2]["response"]["body"].split('"id":"')[1].split('"')[0]
    cleanup = by_phase(run, "cleanup")[0]
    assert cleanup["status"] == "passed"
    assert cleanup["name"].startswith(f"undo item: DELETE {demo_url}/items/{item_id}")
    assert await item_status(demo_url, item_id) == 404

    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["label"], e["operation"], e["status"], e["attempts"]) for e in ledger] == [
        ("item", "createItem", "done", 1)
    ]
    assert "undo" not in ledger[0]
    assert ledger[0]["resource"] == f"{demo_url}/items/{item_id}"


async def test_cleanup_runs_after_a_failed_run_and_the_verdict_stays_failed(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, demo_url: str, api: httpx.AsyncClient
) -> None:
    runtime.executor.plans = FixedPlans(catalogue, item_plan())
    run = await harness.run(data_case("planned-fail", expect_status=418))

    assert run["status"] == "FAILED", run
    assert "cleanup left" not in run["status_reason"]
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [entry["status"] for entry in ledger] == ["done"]
    item_id = ledger[0]["resource"].rsplit("/", 1)[1]
    assert await item_status(demo_url, item_id) == 404


async def test_a_binding_answered_4xx_is_repaired_and_the_run_goes_on(
    harness: Harness, runtime: Runtime, catalogue: Catalogue
) -> None:
    broken = item_plan(body={"name": "no-price-{{ uuid4() }}"})  # the SUT answers 422
    plans = FixedPlans(catalogue, broken, item_plan())
    runtime.executor.plans = plans
    run = await harness.run(data_case("planned-repair"))

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    assert plans.failures[0][0]["binding"] == "item"
    assert plans.failures[0][0]["status"] == 422
    assert plans.failures[0][0]["operation"] == "createItem"
    assert len(plans.failures[0][0]["response_body"]) <= 2048
    names = [(step["name"], step["status"]) for step in by_phase(run, "data")]
    assert ("call item (createItem)", "failed") in names
    assert ("repair test data plan (builtin)", "passed") in names
    assert names[-1] == ("call item (createItem)", "passed")
    assert sum(1 for name, _ in names if name == "call login (issueToken)") == 1  # resolved once, reused


async def test_a_plan_that_keeps_failing_ends_the_run_in_error_naming_the_binding(
    harness: Harness, runtime: Runtime, catalogue: Catalogue
) -> None:
    runtime.executor.plans = FixedPlans(catalogue, item_plan(body={"name": "x-{{ uuid4() }}"}))
    run = await harness.run(data_case("planned-broken"))

    assert run["status"] == "ERROR", run
    assert "binding 'item'" in run["status_reason"]
    assert "could not repair" in run["status_reason"]
    assert [step["status"] for step in by_phase(run, "main")] == ["skipped"]


async def test_no_plan_available_ends_the_run_in_error_with_the_providers_reason(
    harness: Harness, runtime: Runtime, catalogue: Catalogue
) -> None:
    runtime.executor.plans = FixedPlans(catalogue, item_plan(), unavailable="no API description imported")
    run = await harness.run(data_case("planned-unavailable"))

    assert run["status"] == "ERROR", run
    assert "no API description imported" in run["status_reason"]
    plan_step = by_phase(run, "data")[0]
    assert (plan_step["name"], plan_step["status"]) == ("plan test data", "error")


async def test_a_test_without_data_asks_for_no_plan(
    harness: Harness, runtime: Runtime, catalogue: Catalogue
) -> None:
    plans = FixedPlans(catalogue, item_plan())
    runtime.executor.plans = plans
    case = {
        "name": "plain",
        "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}],
    }
    run = await harness.run(case)

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    assert plans.asked == []
    assert [step["seq"] for step in run["steps"]] == [0]


async def test_a_step_declared_cleanup_from_the_location_header_deletes_what_the_step_created(
    harness: Harness, demo_url: str, api: httpx.AsyncClient
) -> None:
    case = {
        "name": "step-cleanup",
        "setup": [LOG_IN],
        "steps": [
            {**create_item("stepped"), "expect": {"status": 201}, "capture": {"item_id": "$.id"}},
        ],
    }
    run = await harness.run(case)

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["source"], e["label"], e["method"], e["status"]) for e in ledger] == [
        ("step", "create", "DELETE", "done")
    ]
    item_id = ledger[0]["resource"].rsplit("/", 1)[1]
    assert ledger[0]["resource"] == f"{demo_url}/items/{item_id}"
    assert await item_status(demo_url, item_id) == 404
    assert by_phase(run, "cleanup")[0]["seq"] > by_phase(run, "main")[0]["seq"]


async def test_a_step_that_created_something_and_then_failed_a_check_still_has_it_undone(
    harness: Harness, demo_url: str, api: httpx.AsyncClient
) -> None:
    """Answered 201, then a check failed: the item exists all the same, so its cleanup is entered and sent."""
    case = {
        "name": "created-then-failed",
        "setup": [LOG_IN],
        "steps": [
            # the SUT answers price 1: the check fails
            {**create_item("failed"), "expect": {"status": 201, "json": {"$.price": 2}}},
            {
                "name": "refused",
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/items",
                    "json": {"name": "no-token", "price": 1},
                },
                "on_failure": "continue",
                "expect": {"status": 201},  # 401 without the token: nothing was created, nothing to undo
                "cleanup": {"url": "{{ response.headers.location }}"},
            },
        ],
        "on_failure": "continue",
    }
    run = await harness.run(case)

    assert run["status"] == "FAILED", (run["status_reason"], run["steps"])
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["source"], e["label"], e["method"], e["status"]) for e in ledger] == [
        ("step", "create", "DELETE", "done")
    ]
    item_id = ledger[0]["resource"].rsplit("/", 1)[1]
    assert await item_status(demo_url, item_id) == 404


async def test_a_failed_step_whose_cleanup_cannot_render_keeps_its_failure_and_a_manual_entry(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    case = {
        "name": "failed-undo-unrenderable",
        "steps": [
            {
                "request": {"url": "{{ env.base_url }}/health"},
                "expect": {"status": 201},  # 200: fails
                "cleanup": {"url": "/items/{{ response.body.missing }}"},
            }
        ],
    }
    run = await harness.run(case)

    assert run["status"] == "FAILED", run
    step = by_phase(run, "main")[0]
    assert step["error"].startswith("status: expected 201, got 200"), step["error"]
    assert "cleanup cannot be rendered" in step["error"]
    assert "in the data ledger marked manual" in step["error"]
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["operation"], e["status"]) for e in ledger] == [("(step cleanup)", "manual")]


async def test_a_cleanup_that_fails_leaves_a_passed_run_passed_and_says_so(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    case = {
        "name": "undo-fails",
        "steps": [
            {
                "request": {"url": "{{ env.base_url }}/health"},
                "expect": {"status": 200},
                "cleanup": {"method": "DELETE", "url": "/health"},  # 405: cannot be undone
            }
        ],
    }
    run = await harness.run(case)

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    assert "cleanup left 1 created entity in the SUT" in run["status_reason"]
    cleanup = by_phase(run, "cleanup")[0]
    assert cleanup["status"] == "failed"
    assert "405" in cleanup["error"]
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["status"], e["attempts"]) for e in ledger] == [("failed", 1)]
    assert "405" in ledger[0]["last_error"]


async def test_a_cleanup_template_that_cannot_render_makes_the_step_an_error_and_a_manual_entry(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    case = {
        "name": "undo-unrenderable",
        "steps": [
            {
                "request": {"url": "{{ env.base_url }}/health"},
                "cleanup": {"url": "/items/{{ response.body.missing }}"},
            }
        ],
    }
    run = await harness.run(case)

    assert run["status"] == "ERROR", run
    assert "cleanup cannot be rendered" in run["status_reason"]
    assert "in the data ledger marked manual" in run["status_reason"]
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["operation"], e["method"], e["status"]) for e in ledger] == [
        ("(step cleanup)", "GET", "manual")
    ]
    assert ledger[0]["resource"].endswith("/health")
    assert ledger[0]["last_error"].startswith(
        "undo by hand: its cleanup could not be rendered; the response was 200"
    )


async def test_a_created_entity_whose_undo_cannot_render_is_kept_in_the_ledger_as_manual(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, demo_url: str, api: httpx.AsyncClient
) -> None:
    plan = item_plan()
    item = plan.bindings["item"]
    assert item.cleanup is not None
    unrenderable = item.cleanup.model_copy(update={"path": {"item_id": "{{ self.missing }}"}})
    plan.bindings["item"] = item.model_copy(update={"cleanup": unrenderable})
    runtime.executor.plans = FixedPlans(catalogue, plan)
    run = await harness.run(data_case("planned-manual"))

    assert run["status"] == "ERROR", run
    assert "binding 'item'" in run["status_reason"]
    assert "cannot be rendered" in run["status_reason"]
    assert "in the data ledger marked manual" in run["status_reason"]
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["label"], e["operation"], e["method"], e["status"]) for e in ledger] == [
        ("item", "createItem", "POST", "manual")
    ]
    assert ledger[0]["resource"] == f"{demo_url}/items"
    item_id = ledger[0]["last_error"].split('"id":"')[1].split('"')[0]  # the raw response, for a person
    assert ledger[0]["last_error"].startswith("undo by hand: its cleanup could not be rendered")
    assert "undo" not in ledger[0]
    assert by_phase(run, "cleanup") == []  # nothing tries to undo it
    assert await item_status(demo_url, item_id) == 200  # it is still there, and the ledger says so
    async with httpx.AsyncClient(base_url=demo_url) as sut:  # removed by hand, as the entry asks
        token = (await sut.post("/auth/token", json={"username": "demo", "password": "demo-password"})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await sut.delete(f"/items/{item_id}", headers=headers)).status_code == 204


def item_captured(capture: dict[str, str]) -> DataPlan:
    """The item plan, its item captured with ``capture`` (its cleanup still deletes ``self.id``)."""
    plan = item_plan()
    item = plan.bindings["item"]
    assert item.call is not None
    call = item.call.model_copy(update={"capture": capture})
    plan.bindings["item"] = item.model_copy(update={"call": call})
    return plan


async def test_an_item_made_whose_other_capture_is_missing_is_in_the_ledger_and_undone(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, demo_url: str, api: httpx.AsyncClient
) -> None:
    """The SUT made the item (201) but the plan also captures a field it does not answer: the binding
    fails, and the item is entered with the undo its cleanup renders from the id that was captured."""
    runtime.executor.plans = FixedPlans(catalogue, item_captured({"id": "$.id", "sku": "$.sku"}))
    run = await harness.run(data_case("planned-half-captured"))

    assert run["status"] == "ERROR", run
    reason = run["status_reason"]
    assert reason.startswith("test data: binding 'item' failed: createItem: capture sku"), reason
    assert reason.endswith("what it created is in the data ledger, to be undone"), reason
    assert [(s["name"], s["status"]) for s in by_phase(run, "data")][-1] == (
        "call item (createItem)",
        "failed",
    )
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["label"], e["method"], e["status"]) for e in ledger] == [("item", "DELETE", "done")]
    assert [step["status"] for step in by_phase(run, "cleanup")] == ["passed"]
    assert await item_status(demo_url, ledger[0]["resource"].rsplit("/", 1)[1]) == 404


async def test_an_item_made_whose_id_capture_is_missing_is_in_the_ledger_marked_manual(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, demo_url: str, api: httpx.AsyncClient
) -> None:
    """The SUT made the item (201) but the plan reads its id where the SUT does not put it: the cleanup
    cannot be rendered, the item is entered as manual with the SUT's answer, and the run says so."""
    runtime.executor.plans = FixedPlans(catalogue, item_captured({"id": "$.item_id"}))
    run = await harness.run(data_case("planned-uncaptured"))

    assert run["status"] == "ERROR", run
    reason = run["status_reason"]
    assert reason.startswith("test data: binding 'item' failed: createItem: capture id"), reason
    assert "the cleanup of 'item' cannot be rendered" in reason
    assert reason.endswith("what it created is in the data ledger marked manual (remove it by hand)"), reason
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["label"], e["operation"], e["method"], e["status"]) for e in ledger] == [
        ("item", "createItem", "POST", "manual")
    ]
    assert ledger[0]["last_error"].startswith(
        "undo by hand: its cleanup could not be rendered; the response was 201"
    )
    assert by_phase(run, "cleanup") == []  # nothing can undo it
    item_id = ledger[0]["last_error"].split('"id":"')[1].split('"')[0]  # the raw response, for a person
    assert await item_status(demo_url, item_id) == 200  # still there, and the ledger says so
    async with httpx.AsyncClient(base_url=demo_url) as sut:  # removed by hand, as the entry asks
        token = (await sut.post("/auth/token", json={"username": "demo", "password": "demo-password"})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert (await sut.delete(f"/items/{item_id}", headers=headers)).status_code == 204


async def test_an_unknown_run_has_no_ledger(api: httpx.AsyncClient) -> None:
    assert (await api.get(f"/runs/{uuid.uuid4()}/ledger")).status_code == 404
    assert (await api.get("/runs/not-a-uuid/ledger")).status_code == 422


async def test_a_run_taken_over_mid_plan_does_not_create_again_and_still_cleans(
    harness: Harness,
    runtime: Runtime,
    catalogue: Catalogue,
    demo_url: str,
    api: httpx.AsyncClient,
    owner_database_url: str,
) -> None:
    plan = item_plan().model_dump(by_alias=True, exclude_none=True)
    echo = {
        "operation": "echoPost",
        "body": {"pw": "{{ secrets.api_password }}"},
        "capture": {"pw": "$.json.pw"},
    }
    plan["bindings"]["echoed"] = {"call": echo}  # a value holding a secret: kept sealed for the next owner
    plan["bindings"]["pause"] = {
        "depends_on": ["item", "echoed"],
        "call": {"operation": "slow", "query": {"ms": 1500}},
    }
    runtime.executor.plans = FixedPlans(catalogue, DataPlan.model_validate(plan))
    case = data_case("taken-over")
    case["steps"].append(
        {
            "name": "the secret value came through",
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/echo",
                "json": {"pw": "{{ data.echoed.pw }}"},
            },
            "expect": {"json": {"$.json.pw": "{{ secrets.api_password }}"}},
        }
    )
    await harness.apply(case)
    run_id = await harness.start("taken-over")
    committed: set[str] = set()
    async with asyncio.timeout(
        20
    ):  # item and echoed are committed (the item in the ledger); pause is under way
        while not {"call item (createItem)", "call echoed (echoPost)"} <= committed:
            await asyncio.sleep(0.02)
            committed = {step["name"] for step in (await api.get(f"/runs/{run_id}")).json()["steps"] or []}
    assert (await api.get(f"/runs/{run_id}/ledger")).json()[0]["status"] == "pending"
    engine = create_async_engine(owner_database_url)
    try:
        async with engine.begin() as conn:  # what the reaper does with an expired lease: queued again
            await conn.execute(
                text(
                    "UPDATE test_runs SET status = 'QUEUED', attempt = attempt + 1, lease_owner = NULL,"
                    " lease_expires_at = NULL, queued_at = now() WHERE id = :id AND status = 'IN_PROGRESS'"
                ),
                {"id": run_id},
            )
    finally:
        await engine.dispose()
    await runtime.broker.publish([run_id])
    run = await harness.wait(run_id, timeout_s=60)

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    assert run["attempt"] == 2
    names = [step["name"] for step in by_phase(run, "data")]
    assert names.count("call item (createItem)") == 1
    assert names.count("call echoed (echoPost)") == 1
    assert names.count("call login (issueToken)") == 1
    assert names.count("plan test data (builtin)") == 1  # the resumed run kept its plan
    ledger = (await api.get(f"/runs/{run_id}/ledger")).json()
    assert [entry["status"] for entry in ledger] == ["done"]
    assert await item_status(demo_url, ledger[0]["resource"].rsplit("/", 1)[1]) == 404


async def test_the_time_limit_holds_in_the_data_phase_and_what_was_created_is_still_undone(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, demo_url: str, api: httpx.AsyncClient
) -> None:
    plan = item_plan().model_dump(by_alias=True, exclude_none=True)
    plan["bindings"]["pause"] = {"depends_on": ["item"], "call": {"operation": "slow", "query": {"ms": 5000}}}
    runtime.executor.plans = FixedPlans(catalogue, DataPlan.model_validate(plan))
    run = await harness.run({**data_case("too-slow"), "timeout_s": 1.5})

    assert run["status"] == "TIMED_OUT", (run["status_reason"], run["steps"])
    assert run["duration_ms"] < 5000
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [entry["status"] for entry in ledger] == ["done"]
    assert await item_status(demo_url, ledger[0]["resource"].rsplit("/", 1)[1]) == 404
