"""Chaos: real processes killed, paused and disconnected while runs are in flight. Each test is bounded."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.broker.rabbitmq import RabbitMQBroker
from tests.chaos.conftest import Cluster, setup_project, start_run, sut_requests, wait_for
from tests.integration.amqp import kill_connections, rabbitmqctl_available

pytestmark = pytest.mark.chaos


def long_case(name: str, marker: str, steps: int = 50, pause: str = "100ms") -> dict[str, Any]:
    """``steps`` numbered requests the SUT logs (with the marker), each followed by a short pause."""
    body: list[dict[str, Any]] = []
    for index in range(steps):
        body.append(
            {
                "name": f"step {index}",
                "request": {"method": "POST", "url": f"{{{{ env.base_url }}}}/echo?m={marker}&s={index}"},
                "expect": {"status": 200},
            }
        )
        body.append({"name": f"pause {index}", "sleep": pause})
    return {"name": name, "steps": body}


def step_results(run: dict[str, Any]) -> list[tuple[int, str, int]]:
    return [(step["seq"], step["status"], step.get("attempts", 1)) for step in run["steps"]]


async def committed_steps(database_url: str, run_id: uuid.UUID) -> list[tuple[int, int]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT seq, fencing_token FROM step_results WHERE test_run_id = :id ORDER BY seq"),
                {"id": run_id},
            )
            return [(row.seq, row.fencing_token) for row in rows]
    finally:
        await engine.dispose()


def wait_until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def holder_of(cluster: Cluster, run_id: uuid.UUID) -> str | None:
    with cluster.client() as client:
        owner: str | None = client.get(f"/runs/{run_id}").json()["lease_owner"]
        return owner


def executor_by_owner(cluster: Cluster, owner: str) -> Any:
    for service in cluster.services:
        if service.name.startswith("executor"):
            live = service.url + "/health/live"
            try:
                if httpx.get(live, timeout=2).json()["owner"] == owner:
                    return service
            except httpx.HTTPError:
                continue
    raise AssertionError(f"no executor is {owner}")


def progress(cluster: Cluster, run_id: uuid.UUID) -> int:
    with cluster.client() as client:
        return len(client.get(f"/runs/{run_id}").json()["steps"] or [])


def boot(cluster: Cluster, executors: int = 2, apis: int = 1) -> None:
    for index in range(apis):
        cluster.wait_ready(cluster.start_api(f"api{index}"), "/api/v1/health/live")
    for index in range(executors):
        cluster.wait_ready(cluster.start_executor(f"executor{index}"), "/health/ready")


def test_killed_executor_run_resumes_elsewhere_and_steps_run_once(cluster: Cluster, demo_sut: str) -> None:
    boot(cluster)
    marker = uuid.uuid4().hex
    with cluster.client() as client:
        setup_project(client, demo_sut, long_case("fifty", marker))
        run_id = start_run(client, "fifty")
    wait_until(lambda: progress(cluster, run_id) >= 50, 30, "half of the run committed")
    victim = executor_by_owner(cluster, holder_of(cluster, run_id) or "")
    victim.signal(signal.SIGKILL)
    (run,) = wait_for(cluster, [run_id], timeout_s=60)
    assert run["status"] == "PASSED", run["status_reason"]
    assert run["attempt"] == 2
    assert [seq for seq, _, _ in step_results(run)] == list(range(100))
    counts = Counter(query.split("&s=")[1] for query in sut_requests(demo_sut, marker))
    assert set(counts) == {str(index) for index in range(50)}
    assert sum(1 for count in counts.values() if count > 1) <= 1
    assert max(counts.values()) <= 2


def test_duplicate_and_redelivered_messages_execute_a_run_once(cluster: Cluster, demo_sut: str) -> None:
    boot(cluster, executors=2)
    marker = uuid.uuid4().hex
    with cluster.client() as client:
        setup_project(client, demo_sut, long_case("dupes", marker, steps=5, pause="10ms"))
        run_id = start_run(client, "dupes")
    (first,) = wait_for(cluster, [run_id])

    async def publish_again() -> None:
        broker = RabbitMQBroker(cluster.amqp_url, queue=cluster.queue)
        await broker.connect()
        try:
            await broker.publish([run_id] * 5)
        finally:
            await broker.close()

    asyncio.run(publish_again())
    time.sleep(2)  # let the executors consume the duplicates; nothing may happen
    (after,) = wait_for(cluster, [run_id])
    assert first["status"] == after["status"] == "PASSED"
    assert after["fencing_token"] == 1
    assert len(after["steps"]) == 10
    assert sorted(sut_requests(demo_sut, marker)) == sorted(f"m={marker}&s={index}" for index in range(5))


def test_paused_executor_writes_nothing_after_takeover(cluster: Cluster, demo_sut: str) -> None:
    boot(cluster, executors=2)
    marker = uuid.uuid4().hex
    with cluster.client() as client:
        setup_project(client, demo_sut, long_case("paused", marker, steps=30))
        run_id = start_run(client, "paused")
    wait_until(lambda: progress(cluster, run_id) >= 10, 30, "a third of the run committed")
    sleeper = executor_by_owner(cluster, holder_of(cluster, run_id) or "")
    sleeper.signal(signal.SIGSTOP)
    wait_until(
        lambda: (holder_of(cluster, run_id) or "") not in ("", None) and progress(cluster, run_id) > 30,
        30,
        "",
    )
    sleeper.signal(signal.SIGCONT)
    (run,) = wait_for(cluster, [run_id], timeout_s=60)
    assert run["status"] == "PASSED", run["status_reason"]
    committed = asyncio.run(committed_steps(cluster.owner_database_url, run_id))  # the owner sees all
    assert [seq for seq, _ in committed] == list(range(60))  # every step exactly once
    tokens = [token for _, token in committed]
    assert tokens == sorted(tokens)  # the zombie added nothing after the new owner's first step
    assert tokens[-1] == run["fencing_token"] >= 2


@pytest.mark.skipif(not rabbitmqctl_available(), reason="rabbitmqctl is not on PATH")
def test_broker_connections_dropped_in_flight_lose_nothing(cluster: Cluster, demo_sut: str) -> None:
    boot(cluster, executors=2)
    with cluster.client() as client:
        setup_project(client, demo_sut, long_case("steady", uuid.uuid4().hex, steps=10, pause="200ms"))
        runs = [start_run(client, "steady") for _ in range(12)]
    time.sleep(1.0)
    # this cluster's connections only: other tests and test sessions may share the RabbitMQ
    assert asyncio.run(kill_connections(cluster.connection_name, "chaos test")) >= 3  # api + 2 executors
    time.sleep(1.0)
    asyncio.run(kill_connections(cluster.connection_name, "chaos test again"))  # those back by now
    with cluster.client() as client:
        runs += [start_run(client, "steady") for _ in range(4)]
    finished = wait_for(cluster, runs, timeout_s=120)
    assert [run["status"] for run in finished] == ["PASSED"] * len(runs)


def test_scheduler_leader_killed_another_replica_takes_over(cluster: Cluster, demo_sut: str) -> None:
    cluster.extra["ORCHESTRA_MAX_ACTIVE_RUNS"] = "2"  # most runs stay PENDING until a scheduler admits them
    boot(cluster, executors=0, apis=2)
    leader = next(s for s in cluster.services if s.name.startswith("api") and _role(s) == "leader")
    standby = next(s for s in cluster.services if s.name.startswith("api") and s is not leader)
    with cluster.client() as client:
        setup_project(client, demo_sut, long_case("quick", uuid.uuid4().hex, steps=2, pause="10ms"))
    with cluster.client(standby) as client:
        runs = [start_run(client, "quick") for _ in range(20)]  # no executor yet: 2 QUEUED, 18 PENDING
    with cluster.client(standby) as client:
        assert client.get("/runs", params={"status": "PENDING"}).json()["total"] >= 18
    leader.signal(signal.SIGKILL)
    wait_until(lambda: _role(standby) == "leader", 10, "the standby became leader")
    cluster.wait_ready(cluster.start_executor("executor0"), "/health/ready")
    finished = wait_for(cluster, runs, timeout_s=60)
    assert [run["status"] for run in finished] == ["PASSED"] * len(runs)


def test_runs_submitted_while_no_executor_runs_all_finish(cluster: Cluster, demo_sut: str) -> None:
    boot(cluster, executors=0)
    with cluster.client() as client:
        setup_project(
            client, demo_sut, {"name": "one", "steps": [{"request": {"url": "{{ env.base_url }}/health"}}]}
        )
        runs = [start_run(client, "one") for _ in range(200)]
    time.sleep(1.0)
    for index in range(2):
        cluster.wait_ready(cluster.start_executor(f"executor{index}", concurrency=8), "/health/ready")
    finished = wait_for(cluster, runs, timeout_s=120)
    assert Counter(run["status"] for run in finished) == {"PASSED": 200}


def test_sigterm_hands_runs_back_and_another_executor_resumes_at_once(
    cluster: Cluster, demo_sut: str
) -> None:
    cluster.fast = False  # the default lease (30 s): no re-publish of stale QUEUED runs within the test
    boot(cluster, executors=2)
    marker = uuid.uuid4().hex
    with cluster.client() as client:
        setup_project(client, demo_sut, long_case("handed", marker, steps=40))
        run_id = start_run(client, "handed")
    wait_until(lambda: progress(cluster, run_id) >= 10, 30, "an eighth of the run committed")
    first_owner = holder_of(cluster, run_id)
    first = executor_by_owner(cluster, first_owner or "")
    first.signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    wait_until(
        lambda: holder_of(cluster, run_id) not in (None, first_owner), 5, "the other executor holds the run"
    )
    resumed_after = time.monotonic() - stopped_at
    assert first.process.wait(timeout=20) == 0
    (run,) = wait_for(cluster, [run_id], timeout_s=60)
    assert run["status"] == "PASSED"
    assert run["attempt"] == 1  # handed back, not reaped: no attempt penalty
    assert resumed_after < 5
    counts = Counter(query.split("&s=")[1] for query in sut_requests(demo_sut, marker))
    assert set(counts) == {str(index) for index in range(40)}
    assert max(counts.values()) <= 2


def test_killed_executor_is_replaced_within_seconds_with_the_default_settings(
    cluster: Cluster, demo_sut: str
) -> None:
    """Its runs do not wait out the lease (30 s): its database session ended with the process."""
    cluster.fast = False
    boot(cluster)
    marker = uuid.uuid4().hex
    with cluster.client() as client:
        setup_project(client, demo_sut, long_case("killed", marker, steps=40))
        run_id = start_run(client, "killed")
    wait_until(lambda: progress(cluster, run_id) >= 10, 30, "a quarter of the run committed")
    owner = holder_of(cluster, run_id) or ""
    victim = executor_by_owner(cluster, owner)
    victim.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    wait_until(lambda: holder_of(cluster, run_id) not in (None, owner), 10, "another executor holds the run")
    recovered_after = time.monotonic() - killed_at
    (run,) = wait_for(cluster, [run_id], timeout_s=60)
    assert run["status"] == "PASSED", run["status_reason"]
    assert run["attempt"] == 2
    assert recovered_after <= 10
    committed = asyncio.run(committed_steps(cluster.owner_database_url, run_id))
    assert [seq for seq, _ in committed] == list(range(80))  # every step committed exactly once
    counts = Counter(query.split("&s=")[1] for query in sut_requests(demo_sut, marker))
    assert set(counts) == {str(index) for index in range(40)}
    assert sum(1 for count in counts.values() if count > 1) <= 1


def _role(service: Any) -> str:
    try:
        return str(httpx.get(service.url + "/api/v1/health", timeout=2).json().get("scheduler_role"))
    except httpx.HTTPError:
        return "unreachable"
