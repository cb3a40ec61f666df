"""Mutes through the API against the demo SUT: a muted failure still runs and is recorded, but does not fail
its suite run; its reports show it apart; an expired or deleted mute mutes no new run, and a run keeps the
mute it was created under. Bad input is a clear 4xx."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from orchestra.models import TestMute
from orchestra.runtime import Runtime
from tests.integration.conftest import Harness, assert_problem

GREEN = {
    "name": "green",
    "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}],
}
RED = {"name": "red", "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 418}}]}


def soon(days: float = 7) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.fixture
async def shop(harness: Harness) -> Harness:
    await harness.apply(GREEN, RED, suites=[{"suite": "smoke", "tests": ["green", "red"]}])
    return harness


async def mute(api: httpx.AsyncClient, project: str, **body: Any) -> dict[str, Any]:
    response = await api.post(
        f"/projects/{project}/mutes",
        json={"test_case": "red", "environment": "sut", "reason": "PAY-12", "expires_at": soon(), **body},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def suite_run(api: httpx.AsyncClient, harness: Harness) -> dict[str, Any]:
    body = {"project": harness.project, "environment": "sut", "suite": "smoke"}
    response = await api.post("/suite-runs", json=body)
    assert response.status_code == 201, response.text
    for run_id in response.json()["runs"]:
        await harness.wait(uuid.UUID(run_id))
    found = await api.get(f"/suite-runs/{response.json()['id']}")
    assert found.status_code == 200, found.text
    return dict(found.json())


async def test_a_muted_failure_is_recorded_but_does_not_fail_the_suite_run(
    api: httpx.AsyncClient, shop: Harness
) -> None:
    before = await suite_run(api, shop)
    assert before["status"] == "FAILED"
    made = await mute(api, shop.project)
    assert (made["test_case"], made["environment"], made["active"]) == ("red", "sut", True)
    result = await suite_run(api, shop)
    assert (result["status"], result["counts"], result["muted"]) == ("PASSED", {"PASSED": 1, "FAILED": 1}, 1)
    red = next(run for run in result["runs"] if run["name"] == "red")
    assert (red["status"], red["muted"], red["mute"]) == (
        "FAILED",
        True,
        {"id": made["id"], "reason": "PAY-12"},
    )
    green = next(run for run in result["runs"] if run["name"] == "green")
    assert (green["muted"], green["mute"]) == (False, None)  # another test case: not muted
    steps = (await api.get(f"/runs/{red['id']}")).json()["steps"]
    assert [step["status"] for step in steps] == ["failed"]  # it ran and was recorded
    junit = await api.get(f"/suite-runs/{result['id']}/report", params={"format": "junit"})
    root = ET.fromstring(junit.content)
    assert (root.get("failures"), root.get("skipped")) == ("0", "1")
    report = (await api.get(f"/suite-runs/{result['id']}/report", params={"format": "json"})).json()
    assert report["muted"] == 1
    # the run on its own: the mute is recorded too
    alone = await shop.wait(await shop.start("red"))
    assert (alone["status"], alone["muted"]) == ("FAILED", True)


async def test_an_unmuted_environment_and_an_ended_mute_mute_nothing(
    api: httpx.AsyncClient, shop: Harness, runtime: Runtime
) -> None:
    other = {"name": "other", "base_url": shop.base_url, "allow_private_network": True}
    assert (await api.post(f"/projects/{shop.project}/environments", json=other)).status_code == 201
    made = await mute(api, shop.project, environment="other")
    assert (await suite_run(api, shop))["status"] == "FAILED"  # muted on 'other' only
    async with runtime.db.transaction(runtime.tenant_id) as session:
        await session.execute(
            update(TestMute)
            .where(TestMute.id == uuid.UUID(made["id"]))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    listed = await api.get(f"/projects/{shop.project}/mutes")
    assert listed.json()["total"] == 0  # expired: not in force
    everything = await api.get(f"/projects/{shop.project}/mutes", params={"include_expired": "true"})
    assert [(item["id"], item["active"]) for item in everything.json()["items"]] == [(made["id"], False)]
    again = await mute(api, shop.project, environment="other", reason="again")  # replaces the expired one
    assert again["id"] != made["id"]
    gone = await api.get(f"/projects/{shop.project}/mutes/{made['id']}")
    assert_problem(gone, 404)


async def test_a_deleted_mute_stays_on_the_runs_made_under_it(api: httpx.AsyncClient, shop: Harness) -> None:
    made = await mute(api, shop.project)
    muted = await suite_run(api, shop)
    response = await api.delete(f"/projects/{shop.project}/mutes/{made['id']}")
    assert response.status_code == 204, response.text
    assert_problem(await api.delete(f"/projects/{shop.project}/mutes/{made['id']}"), 404)
    kept = (await api.get(f"/suite-runs/{muted['id']}")).json()
    assert (kept["status"], kept["muted"]) == ("PASSED", 1)
    assert (await suite_run(api, shop))["status"] == "FAILED"


async def test_mutes_list_filters_and_pages(api: httpx.AsyncClient, shop: Harness) -> None:
    first = await mute(api, shop.project, expires_at=soon(1))
    second = await mute(api, shop.project, test_case="green", expires_at=soon(2))
    url = f"/projects/{shop.project}/mutes"
    listed = (await api.get(url)).json()
    assert [item["id"] for item in listed["items"]] == [first["id"], second["id"]]  # soonest to expire first
    page = (await api.get(url, params={"limit": 1, "offset": 1})).json()
    assert (page["total"], [item["id"] for item in page["items"]]) == (2, [second["id"]])
    only = (await api.get(url, params={"test_case": "green"})).json()
    assert [item["id"] for item in only["items"]] == [second["id"]]
    assert (await api.get(url, params={"environment": "sut"})).json()["total"] == 2
    assert_problem(await api.get(url, params={"environment": "nope"}), 404)
    one = await api.get(f"{url}/{first['id']}")
    assert one.status_code == 200, one.text
    assert one.json()["reason"] == "PAY-12"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"expires_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}, 422, "future"),
        ({"expires_at": soon(400)}, 422, "366 days"),
        ({"expires_at": "2030-01-01T00:00:00"}, 422, ""),  # no time zone
        ({"expires_at": "tomorrow"}, 422, ""),
        ({"reason": ""}, 422, ""),
        ({"reason": "x" * 2001}, 422, ""),
        ({"test_case": "nope"}, 404, "nope"),
        ({"environment": "nope"}, 404, "nope"),
        ({"test_case": "\x00"}, 404, ""),
        ({"surprise": 1}, 422, ""),
    ],
)
async def test_bad_mutes_are_refused_clearly(
    api: httpx.AsyncClient, shop: Harness, body: dict[str, Any], status: int, needle: str
) -> None:
    payload = {"test_case": "red", "environment": "sut", "reason": "r", "expires_at": soon(), **body}
    assert_problem(await api.post(f"/projects/{shop.project}/mutes", json=payload), status, needle)


async def test_a_second_mute_in_force_is_a_conflict(api: httpx.AsyncClient, shop: Harness) -> None:
    made = await mute(api, shop.project)
    body = {"test_case": "red", "environment": "sut", "reason": "again", "expires_at": soon()}
    assert_problem(await api.post(f"/projects/{shop.project}/mutes", json=body), 409, made["id"])
    assert_problem(await api.get(f"/projects/{shop.project}/mutes/{uuid.uuid4()}"), 404)
    assert_problem(await api.get(f"/projects/{shop.project}/mutes/not-a-uuid"), 422)
