"""Schedules API: CRUD, enable/disable, next fire times, fire history, and hostile input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem

PROJECT = "shop"
RARE = "0 3 1 1 *"  # once a year: the test runtime's own scheduler never fires it during a test


def url(ref: str = "", project: str = PROJECT) -> str:
    return f"/projects/{project}/schedules" + (f"/{ref}" if ref else "")


def schedule(name: str = "nightly", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "suite": "smoke", "environment": "staging", "cron": RARE}
    body.update(changes)
    return body


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def make_project(api: httpx.AsyncClient, project: str) -> None:
    step = {"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}
    documents = {
        "test_cases": [{"name": "health", "steps": [step]}, {"name": "login", "steps": [step]}],
        "suites": [{"suite": "smoke", "tests": ["health", "login"]}, {"suite": "all", "tests": ["*"]}],
    }
    response = await api.post(f"/projects/{project}/apply", json=documents)
    assert response.status_code == 200, response.text
    response = await api.put(
        f"/projects/{project}/environments/staging", json={"base_url": "http://127.0.0.1:9"}
    )
    assert response.status_code in (200, 201), response.text


@pytest.fixture
async def project(api: httpx.AsyncClient) -> None:
    await make_project(api, PROJECT)


@pytest.mark.usefixtures("project")
async def test_create_get_list_with_defaults(api: httpx.AsyncClient) -> None:
    response = await api.post(url(), json=schedule())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "nightly"
    assert (created["suite"], created["environment"]) == ("smoke", "staging")
    assert (created["cron"], created["timezone"], created["enabled"]) == (RARE, "UTC", True)
    assert (created["priority"], created["variables"], created["misfire_policy"]) == (None, {}, "latest")
    assert created["last_fire_at"] is None
    times = [parse(value) for value in created["next_fire_times"]]
    assert len(times) == 5
    assert times == sorted(times)
    assert all(moment.tzinfo is not None for moment in times)
    assert times[0] > datetime.now(UTC)
    assert (times[0].month, times[0].day, times[0].hour) == (1, 1, 3)
    assert parse(created["next_fire_at"]) == times[0]
    for ref in ("nightly", created["id"]):
        got = await api.get(url(ref))
        assert got.status_code == 200, got.text
        assert got.json() == created
    assert (await api.post(url(), json=schedule("another", suite="all"))).status_code == 201
    page = (await api.get(url())).json()
    assert page["total"] == 2
    assert [item["name"] for item in page["items"]] == ["another", "nightly"]
    assert page["items"][0]["suite"] == "all"
    assert "next_fire_times" not in page["items"][0]


@pytest.mark.usefixtures("project")
async def test_create_with_every_field_and_refs_by_id(api: httpx.AsyncClient) -> None:
    suite_id = (await api.get(f"/projects/{PROJECT}/suites/smoke")).json()["id"]
    environment_id = (await api.get(f"/projects/{PROJECT}/environments/staging")).json()["id"]
    body = schedule(
        suite=suite_id,
        environment=environment_id,
        cron="30  2 * * 1-5",
        timezone="Europe/Berlin",
        enabled=False,
        priority=50,
        variables={"user": "night"},
        misfire_policy="all",
    )
    response = await api.post(url(), json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["suite_id"], created["environment_id"]) == (suite_id, environment_id)
    assert (created["suite"], created["environment"]) == ("smoke", "staging")
    assert created["cron"] == "30 2 * * 1-5"  # whitespace collapsed
    assert (created["timezone"], created["priority"], created["misfire_policy"]) == (
        "Europe/Berlin",
        50,
        "all",
    )
    assert created["variables"] == {"user": "night"}
    assert created["enabled"] is False
    assert created["next_fire_at"] is None  # disabled
    assert len(created["next_fire_times"]) == 5  # what it would do


@pytest.mark.usefixtures("project")
async def test_times_follow_the_scheduler_clock_and_dst(api: httpx.AsyncClient, runtime: Runtime) -> None:
    runtime.scheduler.clock = lambda: datetime(2026, 3, 27, 12, tzinfo=UTC)
    body = schedule(cron="30 2 * * *", timezone="Europe/Berlin")
    created = (await api.post(url(), json=body)).json()
    assert created["next_fire_at"] == "2026-03-28T01:30:00Z"
    assert created["next_fire_times"][:3] == [
        "2026-03-28T01:30:00Z",  # 02:30 CET
        "2026-03-29T01:00:00Z",  # 02:30 does not exist: 03:00 CEST
        "2026-03-30T00:30:00Z",  # 02:30 CEST
    ]
    response = await api.get(url("nightly/next"), params={"count": 3})
    assert response.status_code == 200, response.text
    upcoming = response.json()
    assert upcoming["times"] == created["next_fire_times"][:3]
    assert upcoming["local_times"] == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


@pytest.mark.usefixtures("project")
async def test_next_counts(api: httpx.AsyncClient) -> None:
    assert (await api.post(url(), json=schedule(cron="*/5 * * * *"))).status_code == 201
    for count in (1, 100):
        body = (await api.get(url("nightly/next"), params={"count": count})).json()
        assert len(body["times"]) == count
    assert len((await api.get(url("nightly/next"))).json()["times"]) == 5
    for count in ("0", "101", "-1", "x"):
        assert_problem(await api.get(url("nightly/next"), params={"count": count}), 422, "count")
    await api.post(url("nightly/disable"))


@pytest.mark.usefixtures("project")
async def test_patch_recomputes_the_next_fire_time_only_when_timing_changes(api: httpx.AsyncClient) -> None:
    created = (await api.post(url(), json=schedule(priority=5))).json()
    response = await api.patch(url("nightly"), json={"variables": {"a": 1}, "misfire_policy": "skip"})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["next_fire_at"] == created["next_fire_at"]
    assert (patched["variables"], patched["misfire_policy"], patched["priority"]) == ({"a": 1}, "skip", 5)
    patched = (await api.patch(url("nightly"), json={"priority": None})).json()
    assert patched["priority"] is None
    patched = (await api.patch(url("nightly"), json={"cron": "0 4 2 2 *", "timezone": "Asia/Tokyo"})).json()
    assert (patched["cron"], patched["timezone"]) == ("0 4 2 2 *", "Asia/Tokyo")
    fire = parse(patched["next_fire_at"])
    assert (fire.month, fire.day, fire.hour) == (2, 1, 19)  # 04:00 JST on 2 February
    patched = (await api.patch(url("nightly"), json={"name": "renamed", "suite": "all"})).json()
    assert (patched["name"], patched["suite"]) == ("renamed", "all")
    assert (await api.get(url("nightly"))).status_code == 404
    assert patched["updated_at"] >= created["updated_at"]


@pytest.mark.usefixtures("project")
async def test_patch_refuses_bad_values_and_changes_nothing(api: httpx.AsyncClient) -> None:
    created = (await api.post(url(), json=schedule())).json()
    assert (await api.post(url(), json=schedule("other"))).status_code == 201
    assert_problem(await api.patch(url("nightly"), json={"cron": "* * * * * *"}), 422, "seconds")
    assert_problem(
        await api.patch(url("nightly"), json={"timezone": "Mars/Olympus"}), 422, "unknown time zone"
    )
    assert_problem(await api.patch(url("nightly"), json={"name": "other"}), 409, "already exists")
    assert_problem(await api.patch(url("nightly"), json={"suite": "ghost"}), 404, "suite 'ghost'")
    assert_problem(await api.patch(url("nightly"), json={"environment": "ghost"}), 404, "environment 'ghost'")
    assert_problem(await api.patch(url("nightly"), json={"colour": "red"}), 422, "colour")
    assert_problem(await api.patch(url("ghost"), json={"enabled": False}), 404, "schedule 'ghost'")
    assert (await api.get(url("nightly"))).json() == created


@pytest.mark.usefixtures("project")
async def test_enable_and_disable(api: httpx.AsyncClient) -> None:
    created = (await api.post(url(), json=schedule())).json()
    for _ in range(2):  # twice: the same result
        response = await api.post(url("nightly/disable"))
        assert response.status_code == 200, response.text
        assert (response.json()["enabled"], response.json()["next_fire_at"]) == (False, None)
    for _ in range(2):
        response = await api.post(url(f"{created['id']}/enable"))
        assert response.status_code == 200, response.text
        assert (response.json()["enabled"], response.json()["next_fire_at"]) == (
            True,
            created["next_fire_at"],
        )
    assert_problem(await api.post(url("ghost/enable")), 404, "schedule 'ghost'")


@pytest.mark.usefixtures("project")
async def test_fires_history_starts_empty_and_pages(api: httpx.AsyncClient) -> None:
    await api.post(url(), json=schedule())
    response = await api.get(url("nightly/fires"), params={"limit": 10})
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 0, "limit": 10, "offset": 0}
    assert_problem(await api.get(url("nightly/fires"), params={"limit": 0}), 422, "limit")
    assert_problem(await api.get(url("ghost/fires")), 404, "schedule 'ghost'")


@pytest.mark.usefixtures("project")
async def test_delete(api: httpx.AsyncClient) -> None:
    await api.post(url(), json=schedule())
    assert (await api.delete(url("nightly"))).status_code == 204
    assert_problem(await api.get(url("nightly")), 404, "schedule 'nightly' does not exist in project 'shop'")
    assert_problem(await api.delete(url("nightly")), 404)
    assert (await api.post(url(), json=schedule())).status_code == 201  # the name is free again


@pytest.mark.usefixtures("project")
async def test_deleting_the_suite_or_environment_deletes_its_schedules(api: httpx.AsyncClient) -> None:
    await api.post(url(), json=schedule("by-suite", suite="all"))
    await api.post(url(), json=schedule("by-env"))
    assert (await api.delete(f"/projects/{PROJECT}/suites/all")).status_code == 204
    assert_problem(await api.get(url("by-suite")), 404)
    assert (await api.get(url("by-env"))).status_code == 200
    assert (await api.delete(f"/projects/{PROJECT}/environments/staging")).status_code == 204
    assert (await api.get(url())).json()["total"] == 0


@pytest.mark.usefixtures("project")
async def test_duplicate_name_conflicts(api: httpx.AsyncClient) -> None:
    assert (await api.post(url(), json=schedule())).status_code == 201
    assert_problem(
        await api.post(url(), json=schedule(suite="all")), 409, "schedule 'nightly' already exists"
    )


@pytest.mark.usefixtures("project")
@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"cron": "not a cron"}, "invalid cron expression 'not a cron'"),
        ({"cron": "0 0 12 * * ? 2026"}, "seconds and years are not supported"),
        ({"cron": "*/30 * * * * *"}, "got 6"),
        ({"cron": "61 * * * *"}, "out of range"),
        ({"cron": "0 0 30 2 *"}, "no date matches it"),
        ({"cron": "H * * * *"}, "hashed (H)"),
        ({"cron": "0 0 * * \u0000"}, "unexpected characters in '\\x00'"),
        ({"cron": ""}, "cron"),
        ({"cron": "1 " * 150}, "cron"),
        ({"timezone": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"timezone": "../../../etc/passwd"}, "unknown time zone"),
        ({"timezone": "Europe/Berlin\u0000"}, "unknown time zone"),
        ({"timezone": "x" * 65}, "timezone"),
        ({"name": "x" * 201}, "name"),
        ({"name": "bad\u0000name"}, "name"),
        ({"name": "/slash"}, "name"),
        ({"name": ""}, "name"),
        ({"misfire_policy": "sometimes"}, "misfire_policy"),
        ({"priority": 1001}, "priority"),
        ({"priority": "high"}, "priority"),
        ({"enabled": "perhaps"}, "enabled"),
        ({"variables": {"not an identifier": 1}}, "not an identifier"),
        ({"variables": {"x": "a\u0000b"}}, "NUL"),
        ({"variables": {f"v{i}": i for i in range(201)}}, "at most 200 variables"),
        ({"variables": ["a"]}, "variables"),
        ({"unexpected": 1}, "unexpected"),
        ({"suite": "x" * 201}, "suite"),
    ],
)
async def test_hostile_input_is_a_clear_422(
    api: httpx.AsyncClient, changes: dict[str, Any], needle: str
) -> None:
    assert_problem(await api.post(url(), json=schedule(**changes)), 422, needle)
    assert (await api.get(url())).json()["total"] == 0


@pytest.mark.usefixtures("project")
@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"suite": "ghost"}, "suite 'ghost' does not exist in project 'shop'"),
        ({"environment": "ghost"}, "environment 'ghost' does not exist in project 'shop'"),
        ({"suite": "smo\u0000ke"}, "does not exist"),
        ({"environment": "stag\u0000ing"}, "does not exist"),
        ({"suite": "00000000-0000-0000-0000-000000000000"}, "does not exist"),
    ],
)
async def test_unknown_suite_or_environment_is_404(
    api: httpx.AsyncClient, changes: dict[str, Any], needle: str
) -> None:
    assert_problem(await api.post(url(), json=schedule(**changes)), 404, needle)


@pytest.mark.usefixtures("project")
async def test_another_projects_suite_or_environment_is_not_found(api: httpx.AsyncClient) -> None:
    await make_project(api, "other")
    suite_id = (await api.get("/projects/other/suites/smoke")).json()["id"]
    environment_id = (await api.get("/projects/other/environments/staging")).json()["id"]
    assert_problem(
        await api.post(url(), json=schedule(suite=suite_id)), 404, "does not exist in project 'shop'"
    )
    body = schedule(environment=environment_id)
    assert_problem(await api.post(url(), json=body), 404, "does not exist in project 'shop'")
    created = (await api.post(url(), json=schedule())).json()
    assert_problem(await api.get(url(created["id"], project="other")), 404)  # nor is a schedule shared


async def test_unknown_project_and_hostile_refs(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get(url(project="ghost")), 404, "project 'ghost'")
    assert_problem(await api.post(url(project="ghost"), json=schedule()), 404, "project 'ghost'")
    await make_project(api, PROJECT)
    for ref in ("nul%00byte", "x" * 5000, "%E2%80%AE", "00000000-0000-0000-0000-000000000000"):
        assert_problem(await api.get(url(ref)), 404)
        assert_problem(await api.post(url(f"{ref}/disable")), 404)
    response = await api.post(
        url(), content=b"\xff\xfe not json", headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 422)
