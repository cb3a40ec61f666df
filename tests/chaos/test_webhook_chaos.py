"""Webhooks when the API process is killed (SIGKILL), with real `orchestra api` and `orchestra executor`
processes, a real PostgreSQL and RabbitMQ, and a real HTTP receiver.

What is proved: an event committed before the kill is delivered after a restart, exactly once at the
receiver, when the kill came before its delivery was attempted; and when the kill came while the request
was in flight, the delivery is sent again after its lease with the same ``webhook-id`` (at least once: the
receiver drops the copy by that id)."""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.chaos.conftest import Cluster, Service, setup_project, start_run, wait_for
from tests.chaos.test_chaos import wait_until
from tests.webhook_receiver import Receiver, receiving

pytestmark = pytest.mark.chaos

FAILING = {
    "name": "broken",
    "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 418}}],
}
EVENTS = ["run.failed", "suite_run.finished", "suite_run.failed"]
RECEIVER_ALLOWED = {"ORCHESTRA_WEBHOOK_ALLOW_PRIVATE_NETWORK": "true"}  # it listens on 127.0.0.1


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as made:
        yield made


def start_api(cluster: Cluster, name: str, **settings: str) -> Service:
    cluster.extra = {**RECEIVER_ALLOWED, **settings}
    api = cluster.start_api(name)
    cluster.wait_ready(api, "/api/v1/health/live")
    return api


def kill(service: Service) -> None:
    service.signal(signal.SIGKILL)
    service.process.wait(timeout=30)


def deliveries(cluster: Cluster) -> list[dict[str, Any]]:
    with cluster.client() as client:
        response = client.get("/projects/chaos/webhooks/hook/deliveries")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def prepare(cluster: Cluster, demo_sut: str, receiver: Receiver) -> str:
    with cluster.client() as client:
        setup_project(client, demo_sut, FAILING)
        hook = {"name": "hook", "url": f"{receiver.url}/hook", "events": EVENTS}
        response = client.post("/projects/chaos/webhooks", json=hook)
        assert response.status_code == 201, response.text
        secret: str = response.json()["secret"]
        return secret


def test_an_event_committed_before_the_api_is_killed_is_delivered_once_after_restart(
    cluster: Cluster, demo_sut: str, receiver: Receiver
) -> None:
    # The first API's deliverer makes its first pass when it starts, then waits an hour: the events the run
    # commits afterwards are in the outbox, not yet attempted, when the process is killed.
    first = start_api(cluster, "api0", ORCHESTRA_WEBHOOK_POLL_INTERVAL_S="3600")
    cluster.wait_ready(cluster.start_executor("executor0"), "/health/ready")
    secret = prepare(cluster, demo_sut, receiver)
    with cluster.client() as client:
        response = client.post(
            "/suite-runs", json={"project": "chaos", "environment": "sut", "tests": ["broken"]}
        )
        assert response.status_code == 201, response.text
        run_ids = [*map(str, response.json()["runs"])]
    (run,) = wait_for(cluster, [uuid.UUID(run_ids[0])], timeout_s=60)
    assert run["status"] == "FAILED"
    wait_until(lambda: len(deliveries(cluster)) == 3, 10, "the three events in the outbox")
    assert {(d["state"], d["attempts"]) for d in deliveries(cluster)} == {("pending", 0)}
    kill(first)
    assert receiver.received == []

    start_api(cluster, "api1", ORCHESTRA_WEBHOOK_POLL_INTERVAL_S="0.2")
    receiver.wait_for(3, timeout_s=60)
    time.sleep(3)  # long enough for a duplicate to show up, were one sent
    assert sorted(item.headers["x-orchestra-event"] for item in receiver.received) == sorted(EVENTS)
    assert Counter(item.delivery_id for item in receiver.received).most_common(1)[0][1] == 1
    assert all(receiver.signed_by(secret, item) for item in receiver.received)
    assert receiver.of_type("run.failed")[0].json["data"]["run"]["id"] == run_ids[0]
    wait_until(
        lambda: {(d["state"], d["attempts"]) for d in deliveries(cluster)} == {("delivered", 1)},
        10,
        "every delivery recorded as delivered at its first attempt",
    )


def test_a_delivery_in_flight_when_the_api_is_killed_is_sent_again_with_the_same_id(
    cluster: Cluster, demo_sut: str, receiver: Receiver
) -> None:
    fast = {"ORCHESTRA_WEBHOOK_POLL_INTERVAL_S": "0.2", "ORCHESTRA_WEBHOOK_TIMEOUT_S": "1"}  # lease 7 s
    first = start_api(cluster, "api0", **fast)
    cluster.wait_ready(cluster.start_executor("executor0"), "/health/ready")
    prepare(cluster, demo_sut, receiver)
    with cluster.client() as client:
        response = client.patch("/projects/chaos/webhooks/hook", json={"events": ["run.failed"]})
        assert response.status_code == 200, response.text
    receiver.holding.set()  # the receiver takes the request and does not answer
    with cluster.client() as client:
        run_id = start_run(client, "broken")
    (sent,) = receiver.wait_for(1, timeout_s=60)
    kill(first)  # while its request waits for the answer
    receiver.release()
    killed_at = time.monotonic()

    start_api(cluster, "api1", **fast)
    items = receiver.wait_for(2, timeout_s=60)
    assert time.monotonic() - killed_at >= 3  # not before the first claim's lease passed (7 s from the claim)
    again = items[1]
    assert again.delivery_id == sent.delivery_id  # what a receiver drops the copy by
    assert again.json["id"] == sent.json["id"] == again.headers["x-orchestra-event-id"]
    assert again.json["data"]["run"]["id"] == str(run_id)
    assert (sent.headers["x-orchestra-attempt"], again.headers["x-orchestra-attempt"]) == ("1", "2")
    processed = {item.delivery_id for item in receiver.received}
    assert len(processed) == 1
    wait_until(
        lambda: [(d["state"], d["attempts"]) for d in deliveries(cluster)] == [("delivered", 2)],
        10,
        "the delivery recorded as delivered at its second attempt",
    )
    with cluster.client() as client:
        delivery = deliveries(cluster)[0]["id"]
        log = client.get(f"/projects/chaos/webhooks/hook/deliveries/{delivery}").json()["attempts_log"]
    assert [(a["attempt"], a["status_code"]) for a in log] == [(2, 200)]  # the killed attempt left no outcome
