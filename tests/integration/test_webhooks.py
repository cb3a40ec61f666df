"""Webhooks against a real PostgreSQL and a real local HTTP receiver: the API, events written by the
state changes that cause them, signed deliveries, retries with backoff, the delivery log, the presets,
the egress policy, and several deliverers claiming the same outbox."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from orchestra.config import Settings
from orchestra.runtime import Runtime
from orchestra.webhooks.delivery import Deliverer
from tests.integration.conftest import Harness, assert_problem
from tests.webhook_receiver import Receiver, receiving

FAILING = {
    "name": "broken",
    "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 418}}],
}
PASSING = {
    "name": "fine",
    "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 200}}],
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private_network": True,  # the receiver listens on 127.0.0.1
            "webhook_poll_interval_s": 0.05,
            "webhook_backoff_base_s": 0.1,
            "webhook_backoff_max_s": 0.5,
            "webhook_max_attempts": 3,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as made:
        yield made


async def create(api: httpx.AsyncClient, project: str, **body: Any) -> dict[str, Any]:
    response = await api.post(f"/projects/{project}/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def arrived(receiver: Receiver, count: int, event_type: str | None = None) -> list[Any]:
    return await asyncio.to_thread(receiver.wait_for, count, event_type, 60)


async def delivery_log(api: httpx.AsyncClient, project: str, hook: str) -> list[dict[str, Any]]:
    response = await api.get(f"/projects/{project}/webhooks/{hook}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def settled(api: httpx.AsyncClient, project: str, hook: str, count: int) -> list[dict[str, Any]]:
    """The webhook's deliveries once ``count`` of them are no longer pending."""
    async with asyncio.timeout(60):
        while True:
            items = await delivery_log(api, project, hook)
            if sum(item["state"] != "pending" for item in items) >= count:
                return items
            await asyncio.sleep(0.05)


# -- the API ---------------------------------------------------------------------------------------------


async def test_a_webhook_shows_its_secret_once_and_never_its_full_url(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    project = harness.project
    url = "https://hooks.example.com/services/T0/B0/very-secret-token"
    created = await create(api, project, name="chat", url=url, kind="slack")
    assert created["secret"].startswith("whsec_")
    assert created["target"] == "https://hooks.example.com"
    assert created["events"] == ["suite_run.failed", "run.failed", "schedule.misfired"]
    shown = (await api.get(f"/projects/{project}/webhooks/chat")).json()
    listed = (await api.get(f"/projects/{project}/webhooks")).json()
    for answer in (shown, listed):
        assert "secret" not in json.dumps(answer).replace('"secret":', "")  # no secret value anywhere
        assert "very-secret-token" not in json.dumps(answer)
    assert listed["total"] == 1
    changed = await api.patch(
        f"/projects/{project}/webhooks/chat", json={"events": ["run.failed", "run.failed"], "enabled": False}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["run.failed"]
    assert changed.json()["enabled"] is False
    rotated = await api.post(f"/projects/{project}/webhooks/chat/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (created["secret"], None)
    assert_problem(await api.post(f"/projects/{project}/webhooks", json={"name": "chat", "url": url}), 409)
    assert (await api.delete(f"/projects/{project}/webhooks/chat")).status_code == 204
    assert_problem(await api.get(f"/projects/{project}/webhooks/chat"), 404)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "x", "url": "http://169.254.169.254/latest"}, "never a webhook target"),
        ({"name": "x", "url": "file:///etc/passwd"}, "http:// or https://"),
        ({"name": "x", "url": "https://a:b@example.com/"}, "user name or password"),
        ({"name": "x", "url": "https://example.com/" + "a" * 2001}, ""),
        ({"name": "n" * 101, "url": "https://example.com/"}, ""),
        ({"name": "../x", "url": "https://example.com/"}, ""),
        ({"name": "x", "url": "https://example.com/", "events": []}, ""),
        ({"name": "x", "url": "https://example.com/", "events": ["run.passed"]}, ""),
        ({"name": "x", "url": "https://example.com/", "kind": "discord"}, ""),
        ({"name": "x", "url": "https://example.com/", "secret": "hunter2"}, "whsec_"),
        ({"name": "x", "url": "https://example.com/", "surprise": 1}, ""),
        ({"name": "x", "url": 7}, ""),
    ],
)
async def test_hostile_webhooks_are_refused_with_422(
    api: httpx.AsyncClient, harness: Harness, body: dict[str, Any], needle: str
) -> None:
    assert_problem(await api.post(f"/projects/{harness.project}/webhooks", json=body), 422, needle)
    assert (await api.get(f"/projects/{harness.project}/webhooks")).json()["total"] == 0


async def test_private_targets_are_refused_unless_the_installation_allows_them(
    api: httpx.AsyncClient, harness: Harness, runtime: Runtime
) -> None:
    runtime.settings.webhook_allow_private_network = False  # what every route reads (app.state.settings)
    try:
        body = {"name": "inside", "url": "http://127.0.0.1:9/hook"}
        assert_problem(await api.post(f"/projects/{harness.project}/webhooks", json=body), 422, "private")
    finally:
        runtime.settings.webhook_allow_private_network = True


async def test_viewers_read_webhooks_and_only_editors_change_them(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    await create(api, harness.project, name="w", url="https://example.com/h")
    response = await api.post("/tokens", json={"name": "viewer", "role": "viewer"})
    assert response.status_code == 201, response.text
    viewer = {"Authorization": f"Bearer {response.json()['token']}"}
    base = f"/projects/{harness.project}/webhooks"
    assert (await api.get(base, headers=viewer)).status_code == 200
    assert (await api.get(f"{base}/w/deliveries", headers=viewer)).status_code == 200
    assert_problem(await api.post(base, json={"name": "v", "url": "https://e.com/"}, headers=viewer), 403)
    assert_problem(await api.post(f"{base}/w/ping", headers=viewer), 403)
    assert_problem(await api.post(f"{base}/w/rotate-secret", headers=viewer), 403)
    assert_problem(await api.delete(f"{base}/w", headers=viewer), 403)


# -- events and deliveries -------------------------------------------------------------------------------


async def test_a_failed_run_is_delivered_signed_once_and_logged(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    hook = await create(api, harness.project, name="ci", url=f"{receiver.url}/ci", events=["run.failed"])
    run = await harness.run(FAILING)
    passed = await harness.run(PASSING)
    assert (run["status"], passed["status"]) == ("FAILED", "PASSED")
    [item] = await arrived(receiver, 1, "run.failed")
    assert receiver.signed_by(hook["secret"], item)
    assert not receiver.signed_by("whsec_" + "A" * 44, item)
    body = item.json
    assert body["type"] == "run.failed"
    assert body["project"]["name"] == harness.project
    assert body["data"]["run"]["id"] == run["id"]
    assert body["data"]["run"]["status"] == "FAILED"
    assert body["data"]["run"]["environment"] == "sut"
    assert item.headers["x-orchestra-event-id"] == body["id"]
    [delivery] = await settled(api, harness.project, "ci", 1)
    assert delivery["id"] == item.delivery_id
    assert (delivery["state"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 1, 200)
    detail = (await api.get(f"/projects/{harness.project}/webhooks/ci/deliveries/{delivery['id']}")).json()
    assert [a["status_code"] for a in detail["attempts_log"]] == [200]
    assert detail["attempts_log"][0]["response_excerpt"] == '{"ok": true}'
    assert detail["event"]["run"]["id"] == run["id"]
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 1  # the passing run sent nothing


async def test_a_suite_run_sends_its_events_once_whichever_run_ends_last(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    events = ["suite_run.finished", "suite_run.failed", "run.failed"]
    await create(api, harness.project, name="all", url=f"{receiver.url}/all", events=events)
    cases = [{**PASSING, "name": f"fine-{n}"} for n in range(5)] + [FAILING]
    await harness.apply(*cases, suites=[{"suite": "nightly", "tests": [case["name"] for case in cases]}])
    response = await api.post(
        "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "nightly"}
    )
    assert response.status_code == 201, response.text
    suite_run_id = response.json()["id"]
    for run_id in response.json()["runs"]:
        await harness.wait(uuid.UUID(run_id))
    await arrived(receiver, 3)
    await asyncio.sleep(0.5)  # nothing more comes
    kinds = sorted(item.headers["x-orchestra-event"] for item in receiver.received)
    assert kinds == ["run.failed", "suite_run.failed", "suite_run.finished"]
    finished = receiver.of_type("suite_run.finished")[0].json["data"]["suite_run"]
    assert finished["id"] == suite_run_id
    assert finished["status"] == "FAILED"
    assert finished["name"] == "nightly"
    assert (finished["total"], finished["counts"]) == (6, {"PASSED": 5, "FAILED": 1})
    ids = {item.json["id"] for item in receiver.received}
    assert len(ids) == 3


async def test_a_suite_run_whose_failure_passed_on_retry_reports_a_pass(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    events = ["suite_run.finished", "suite_run.failed", "run.failed"]
    await create(api, harness.project, name="all", url=f"{receiver.url}/all", events=events)
    key = f"wobbly-{uuid.uuid4().hex}"
    wobbly = {
        "name": "wobbly",
        "retry_failed": 1,
        "steps": [
            {
                "request": {"url": "{{ env.base_url }}/flaky", "query": {"key": key, "fail_times": 1}},
                "expect": {"status": 200},
            }
        ],
    }
    await harness.apply(PASSING, wobbly, suites=[{"suite": "nightly", "tests": ["fine", "wobbly"]}])
    response = await api.post(
        "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "nightly"}
    )
    assert response.status_code == 201, response.text
    for run_id in response.json()["runs"]:
        first = await harness.wait(uuid.UUID(run_id))
        if first["retried_by"]:
            assert (await harness.wait(uuid.UUID(first["retried_by"])))["status"] == "PASSED"
    await arrived(receiver, 1)
    await asyncio.sleep(0.5)  # nothing more comes: the failure that passed on retry is no failure
    assert [item.headers["x-orchestra-event"] for item in receiver.received] == ["suite_run.finished"]
    finished = receiver.of_type("suite_run.finished")[0].json["data"]["suite_run"]
    assert (finished["status"], finished["total"], finished["counts"]) == ("PASSED", 2, {"PASSED": 2})


async def test_failed_attempts_are_retried_with_backoff_until_delivered(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    await create(api, harness.project, name="flaky", url=f"{receiver.url}/flaky")
    assert (await api.post(f"/projects/{harness.project}/webhooks/flaky/ping")).status_code == 202
    items = await arrived(receiver, 3, "ping")
    assert len({item.delivery_id for item in items}) == 1  # one delivery, three attempts
    assert len({item.json["id"] for item in items}) == 1
    assert [item.headers["x-orchestra-attempt"] for item in items] == ["1", "2", "3"]
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(items)]
    assert gaps[0] >= 0.07  # base 0.1 s, -25 % jitter at most
    [delivery] = await settled(api, harness.project, "flaky", 1)
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 3)
    detail = (await api.get(f"/projects/{harness.project}/webhooks/flaky/deliveries/{delivery['id']}")).json()
    assert [a["status_code"] for a in detail["attempts_log"]] == [500, 503, 200]
    assert detail["attempts_log"][0]["error"] == "the receiver answered 500"


async def test_a_delivery_fails_after_the_last_attempt(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    receiver.statuses = [500] * 10
    await create(api, harness.project, name="down", url=f"{receiver.url}/down")
    await api.post(f"/projects/{harness.project}/webhooks/down/ping")
    [delivery] = await settled(api, harness.project, "down", 1)
    assert (delivery["state"], delivery["attempts"], delivery["last_status_code"]) == ("failed", 3, 500)
    await asyncio.sleep(1.0)
    assert len(receiver.received) == 3  # the bound holds


async def test_an_unreachable_receiver_is_logged_and_retried(
    api: httpx.AsyncClient, harness: Harness
) -> None:
    from tests.ports import refused_url

    await create(api, harness.project, name="gone", url=f"{refused_url()}/x")
    await api.post(f"/projects/{harness.project}/webhooks/gone/ping")
    [delivery] = await settled(api, harness.project, "gone", 1)
    assert delivery["state"] == "failed"
    assert "ConnectError" in delivery["last_error"]


async def test_the_presets_send_slack_and_teams_bodies(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    await create(api, harness.project, name="slack", url=f"{receiver.url}/slack", kind="slack")
    await create(api, harness.project, name="teams", url=f"{receiver.url}/teams", kind="teams")
    await harness.run(FAILING)
    items = await arrived(receiver, 2, "run.failed")
    by_path = {item.path: item.json for item in items}
    assert by_path["/slack"]["text"].startswith("Run 'broken' FAILED")
    assert by_path["/slack"]["blocks"][0]["text"]["type"] == "mrkdwn"
    card = by_path["/teams"]["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "Run 'broken' FAILED"
    # one event, two webhooks: the same event id, a delivery id each
    assert len({item.headers["x-orchestra-event-id"] for item in items}) == 1
    assert len({item.delivery_id for item in items}) == 2


async def test_a_disabled_webhook_gets_no_events(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    await create(api, harness.project, name="off", url=f"{receiver.url}/off", enabled=False)
    await harness.run(FAILING)
    await asyncio.sleep(0.5)
    assert receiver.received == []
    assert await delivery_log(api, harness.project, "off") == []


async def test_a_misfired_schedule_is_delivered(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver, owner_database_url: str
) -> None:
    await create(api, harness.project, name="ops", url=f"{receiver.url}/ops", events=["schedule.misfired"])
    await harness.apply(PASSING, suites=[{"suite": "smoke", "tests": ["fine"]}])
    schedule = {
        "name": "hourly",
        "suite": "smoke",
        "environment": "sut",
        "cron": "0 * * * *",
        "misfire_policy": "skip",
    }
    response = await api.post(f"/projects/{harness.project}/schedules", json=schedule)
    assert response.status_code == 201, response.text
    missed = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    engine = create_async_engine(owner_database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:  # as if no scheduler had run for three hours
            await conn.execute(
                text("UPDATE schedules SET next_fire_at = :at WHERE id = :id"),
                {"at": missed, "id": response.json()["id"]},
            )
    finally:
        await engine.dispose()
    [item] = await arrived(receiver, 1, "schedule.misfired")
    data = item.json["data"]
    assert data["schedule"]["name"] == "hourly"
    assert data["due_at"] == missed.isoformat()
    assert "skipped by the misfire policy 'skip'" in data["detail"]
    await asyncio.sleep(0.5)
    assert len(receiver.received) == 1


# -- the deliverers --------------------------------------------------------------------------------------


async def stop_own_deliverer(runtime: Runtime) -> None:
    assert runtime.deliverer is not None
    runtime.deliverer.stop()
    await asyncio.sleep(0.2)


async def test_the_egress_policy_is_applied_when_delivering(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver, runtime: Runtime
) -> None:
    await stop_own_deliverer(runtime)
    await create(api, harness.project, name="local", url=f"{receiver.url}/x")
    await api.post(f"/projects/{harness.project}/webhooks/local/ping")
    strict = runtime.settings.model_copy(update={"webhook_allow_private_network": False})
    assert await Deliverer(runtime.db, strict, runtime.secrets).run_once() == 1
    [delivery] = await delivery_log(api, harness.project, "local")
    assert delivery["state"] == "pending"
    assert "refused by the egress policy" in delivery["last_error"]
    assert "127.0.0.1" in delivery["last_error"]
    assert receiver.received == []


async def test_deliverers_in_parallel_send_each_delivery_once(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver, runtime: Runtime
) -> None:
    """As several API replicas do: each claims with FOR UPDATE SKIP LOCKED."""
    await stop_own_deliverer(runtime)
    await create(api, harness.project, name="busy", url=f"{receiver.url}/busy")
    for _ in range(60):
        assert (await api.post(f"/projects/{harness.project}/webhooks/busy/ping")).status_code == 202
    deliverers = [Deliverer(runtime.db, runtime.settings, runtime.secrets) for _ in range(4)]
    try:
        made = 0
        async with asyncio.timeout(60):
            while made < 60:
                made += sum(await asyncio.gather(*(deliverer.run_once() for deliverer in deliverers)))
    finally:
        for deliverer in deliverers:
            await deliverer.close()
    assert made == 60
    ids = [item.delivery_id for item in receiver.received]
    assert len(ids) == 60
    assert len(set(ids)) == 60
    items = await delivery_log(api, harness.project, "busy")
    assert {item["state"] for item in items} == {"delivered"}


async def test_a_run_the_reaper_ends_after_its_last_attempt_is_a_failed_run_event(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver, owner_database_url: str
) -> None:
    """The reaper ends runs across tenants (as orchestra_system): the trigger writes its event too."""
    await create(api, harness.project, name="reaped", url=f"{receiver.url}/r", events=["run.failed"])
    run = await harness.run(PASSING)
    engine = create_async_engine(owner_database_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:  # as if its executor had stopped responding on the last attempt
            await conn.execute(
                text(
                    "UPDATE test_runs SET status = 'IN_PROGRESS', finished_at = NULL, attempt = 99,"
                    " lease_owner = 'gone', lease_expires_at = now() - interval '1 minute' WHERE id = :id"
                ),
                {"id": run["id"]},
            )
    finally:
        await engine.dispose()
    [item] = await arrived(receiver, 1, "run.failed")
    data = item.json["data"]["run"]
    assert (data["id"], data["status"], data["attempt"]) == (run["id"], "ERROR", 99)
    assert "lease expired on attempt 99" in data["reason"]


async def test_muted_failures_send_no_failure_events(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver
) -> None:
    events = ["suite_run.finished", "suite_run.failed", "run.failed"]
    await create(api, harness.project, name="quiet", url=f"{receiver.url}/q", events=events)
    await harness.apply(PASSING, FAILING, suites=[{"suite": "muted", "tests": ["fine", "broken"]}])
    expires = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    mute = {"test_case": "broken", "environment": "sut", "reason": "known", "expires_at": expires}
    assert (await api.post(f"/projects/{harness.project}/mutes", json=mute)).status_code == 201
    response = await api.post(
        "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "muted"}
    )
    assert response.status_code == 201, response.text
    for run_id in response.json()["runs"]:
        await harness.wait(uuid.UUID(run_id))
    [item] = await arrived(receiver, 1, "suite_run.finished")
    suite = item.json["data"]["suite_run"]
    assert (suite["status"], suite["muted"], suite["counts"]) == ("PASSED", 1, {"PASSED": 1, "FAILED": 1})
    shown = (await api.get(f"/suite-runs/{response.json()['id']}")).json()
    assert shown["status"] == suite["status"]  # the API's verdict and the event's agree
    await asyncio.sleep(0.5)
    assert [item.headers["x-orchestra-event"] for item in receiver.received] == ["suite_run.finished"]


async def test_a_webhook_deleted_while_its_delivery_is_in_flight_ends_cleanly(
    api: httpx.AsyncClient, harness: Harness, receiver: Receiver, runtime: Runtime
) -> None:
    await stop_own_deliverer(runtime)
    await create(api, harness.project, name="brief", url=f"{receiver.url}/b")
    await api.post(f"/projects/{harness.project}/webhooks/brief/ping")
    receiver.holding.set()
    deliverer = Deliverer(runtime.db, runtime.settings, runtime.secrets)
    try:
        passing = asyncio.create_task(deliverer.run_once())
        await asyncio.to_thread(receiver.wait_for, 1)
        assert (await api.delete(f"/projects/{harness.project}/webhooks/brief")).status_code == 204
        receiver.release()
        assert await passing == 1  # the outcome has nowhere to go, and that is no error
    finally:
        await deliverer.close()
    assert_problem(await api.get(f"/projects/{harness.project}/webhooks/brief/deliveries"), 404)
