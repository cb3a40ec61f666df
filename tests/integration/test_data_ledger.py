"""The data ledger: sealed undo calls, the periodic sweep of runs that ended without cleaning, the
environment's sweep on demand (and what it reports when an undo fails), and the ledger API's input checks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.kit.secret_box import SecretDecryptionError
from orchestra.openapi.operations import Catalogue
from orchestra.runtime import Runtime
from orchestra.testdata.undo_calls import unseal_undo
from tests.integration.conftest import Harness, assert_problem
from tests.integration.test_run_data_phase import (  # the same fixed provider and plan
    FixedPlans,
    catalogue,
    item_plan,
    item_status,
)

__all__ = ["catalogue"]


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(owner_database_url)
    yield engine
    await engine.dispose()


def slow_data_case(name: str) -> dict[str, Any]:
    """Creates an item in its data phase, then takes its time in its one test step."""
    return {
        "name": name,
        "data": {"operations": ["createItem"]},
        "steps": [{"name": "wait", "sleep": "2s"}],
    }


async def pending_entry(api: httpx.AsyncClient, run_id: uuid.UUID) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            entries = (await api.get(f"/runs/{run_id}/ledger")).json()
            if entries:
                entry: dict[str, Any] = entries[0]
                return entry
            await asyncio.sleep(0.05)


async def force_error(owner: AsyncEngine, run_id: uuid.UUID) -> None:
    """What the reaper does to a run whose lease expired on its last attempt."""
    async with owner.begin() as conn:
        await conn.execute(
            text(
                "UPDATE test_runs SET status = 'ERROR', status_reason = 'lease expired', finished_at = now(),"
                " lease_owner = NULL, lease_expires_at = NULL WHERE id = :id"
            ),
            {"id": run_id},
        )


async def test_undo_calls_are_stored_sealed_and_open_only_for_their_entry(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, owner: AsyncEngine, owner_database_url: str
) -> None:
    runtime.executor.plans = FixedPlans(catalogue, item_plan())
    await harness.apply(slow_data_case("sealed"))
    run_id = await harness.start("sealed")
    entry = await pending_entry(harness.api, run_id)
    async with owner.connect() as conn:
        row = (
            await conn.execute(text("SELECT * FROM data_ledger WHERE id = :id"), {"id": entry["id"]})
        ).one()
    assert "Bearer" not in row.undo
    assert "items" not in row.undo
    call = unseal_undo(runtime.secrets, row.tenant_id, row.id, row.undo)
    assert call.method == "DELETE"
    assert call.headers["Authorization"].startswith("Bearer ")
    assert call.url == entry["resource"]
    with pytest.raises(SecretDecryptionError):
        unseal_undo(runtime.secrets, row.tenant_id, uuid.uuid4(), row.undo)  # bound to its entry
    run = await harness.wait(run_id)
    assert run["status"] == "PASSED"


async def test_a_run_ended_in_error_without_cleaning_is_swept_by_the_scheduler(
    harness: Harness, runtime: Runtime, catalogue: Catalogue, owner: AsyncEngine, demo_url: str
) -> None:
    runtime.executor.plans = FixedPlans(catalogue, item_plan())
    await harness.apply(slow_data_case("abandoned"))
    run_id = await harness.start("abandoned")
    entry = await pending_entry(harness.api, run_id)
    await force_error(owner, run_id)
    item_id = entry["resource"].rsplit("/", 1)[1]
    assert await item_status(demo_url, item_id) == 200

    sweeper = runtime.scheduler.ledger_sweeper
    assert sweeper is not None
    report = await sweeper.run_once()

    assert (report.cleaned, report.already_gone, report.failed) == (1, 0, [])
    assert await item_status(demo_url, item_id) == 404
    (swept,) = (await harness.api.get(f"/runs/{run_id}/ledger")).json()
    assert (swept["status"], swept["attempts"]) == ("done", 1)
    assert swept["undone_at"] is not None
    again = await sweeper.run_once()
    assert (again.cleaned, again.failed) == (0, [])  # nothing is undone twice


async def test_the_sweep_endpoint_reports_what_it_could_not_undo(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    case = {
        "name": "undo-unreachable",
        "steps": [
            {
                "name": "made something",
                "request": {"url": "{{ env.base_url }}/health"},
                "cleanup": {"method": "DELETE", "url": "/health"},  # 405
            },
            {
                "name": "made another",
                "request": {"url": "{{ env.base_url }}/health"},
                "cleanup": {"url": "/gone/{{ uuid4() }}"},  # 404: already gone
            },
        ],
    }
    run = await harness.run(case)
    assert run["status"] == "PASSED", run
    assert "cleanup left 1 created entity" in run["status_reason"]

    response = await api.post(f"/projects/{harness.project}/environments/sut/sweep")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["cleaned"], report["already_gone"]) == (0, 0)
    (failure,) = report["failed"]
    assert failure["label"] == "made something"
    assert failure["resource"] == f"{harness.base_url}/health"
    assert "405" in failure["error"]
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert [(e["label"], e["status"], e["attempts"]) for e in ledger] == [
        ("made something", "failed", 2),
        ("made another", "gone", 1),
    ]


async def test_the_environment_ledger_is_paged_and_filtered_by_status(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    steps = [
        {"request": {"url": "{{ env.base_url }}/health"}, "cleanup": {"url": f"/gone/{index}"}}
        for index in range(3)
    ]
    run = await harness.run({"name": "three-gone", "steps": steps})
    assert run["status"] == "PASSED", run
    path = f"/projects/{harness.project}/environments/sut/ledger"

    page = (await api.get(path, params={"limit": 2})).json()
    assert (page["total"], len(page["items"]), page["limit"]) == (3, 2, 2)
    assert {item["status"] for item in page["items"]} == {"gone"}
    assert (await api.get(path, params={"status": "pending"})).json()["total"] == 0
    assert (await api.get(path, params={"status": "gone", "offset": 2})).json()["items"][0][
        "source"
    ] == "step"


@pytest.mark.parametrize(
    ("suffix", "params"),
    [
        ("ledger", {"status": "bogus"}),
        ("ledger", {"status": "' OR 1=1 --"}),
        ("ledger", {"limit": "0"}),
        ("ledger", {"limit": "100000"}),
        ("ledger", {"offset": "-1"}),
        ("ledger", {"limit": "x" * 5000}),
    ],
)
async def test_hostile_ledger_queries_get_422(
    harness: Harness, api: httpx.AsyncClient, suffix: str, params: dict[str, str]
) -> None:
    response = await api.get(f"/projects/{harness.project}/environments/sut/{suffix}", params=params)
    assert_problem(response, 422)


@pytest.mark.parametrize(
    "environment",
    [
        "nope",
        "7f9d1c1e-0000-4000-8000-00000000dead",
        "x" * 3000,
        "%00",
        "..%2f..%2fsut",
        "sut'; DROP TABLE data_ledger",
    ],
)
async def test_unknown_or_hostile_environments_are_not_found(
    harness: Harness, api: httpx.AsyncClient, environment: str
) -> None:
    for method, suffix in (("GET", "ledger"), ("POST", "sweep")):
        response = await api.request(
            method, f"/projects/{harness.project}/environments/{environment}/{suffix}"
        )
        assert response.status_code in (404, 422), response.text
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_sweep_body_is_ignored_and_a_viewer_may_not_sweep(
    harness: Harness, api: httpx.AsyncClient
) -> None:
    path = f"/projects/{harness.project}/environments/sut/sweep"
    response = await api.post(path, content=b"\x00" * 10_000, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == {"cleaned": 0, "already_gone": 0, "failed": []}
    created = await api.post("/tokens", json={"name": f"v-{uuid.uuid4().hex[:6]}", "role": "viewer"})
    assert created.status_code == 201, created.text
    viewer = {"Authorization": f"Bearer {created.json()['token']}"}
    assert_problem(await api.post(path, headers=viewer), 403)
    assert (await api.get(path.replace("/sweep", "/ledger"), headers=viewer)).status_code == 200
