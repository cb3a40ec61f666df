"""Chaos fixtures: real `orchestra api` and `orchestra executor` processes sharing a real PostgreSQL database
(one per test) and a real RabbitMQ queue (one per test), against the real demo SUT."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from orchestra.models.run_states import TERMINAL
from tests.e2e.conftest import REPO
from tests.integration.amqp import amqp_url, delete_queue, unique_queue_name, with_connection_name
from tests.ports import free_port

__all__ = ["amqp_url"]

# Short leases and intervals, so that a test needs no more than a few seconds for each fault. A test that
# measures what an operator gets sets ``cluster.fast = False`` and runs with the defaults instead.
FAST = {
    "ORCHESTRA_LEASE_S": "3",
    "ORCHESTRA_HEARTBEAT_S": "0.5",
    "ORCHESTRA_LEADER_RETRY_S": "0.5",
    "ORCHESTRA_SCHEDULER_INTERVAL_S": "0.2",
    "ORCHESTRA_MAX_ATTEMPTS": "5",
    "ORCHESTRA_LOG_LEVEL": "info",
}


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signum)

    def stop(self, timeout_s: float = 20) -> int:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Cluster:
    """Start and kill Orchestra services; talk to them through the REST API of the first API replica."""

    database_url: str
    owner_database_url: str
    amqp_url: str
    queue: str
    logs: Path
    services: list[Service] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    fast: bool = True  # FAST settings; False: every setting at its default

    @property
    def connection_name(self) -> str:
        """The name every broker connection of this cluster carries (``kill_connections`` finds them)."""
        return f"orchestra-chaos-{self.queue}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("ORCHESTRA_")}
        if self.fast:
            env.update(FAST)
        env.update(
            ORCHESTRA_DATABASE_URL=self.database_url,
            ORCHESTRA_MIGRATION_DATABASE_URL=self.owner_database_url,
            ORCHESTRA_BROKER_URL=with_connection_name(self.amqp_url, self.connection_name),
            ORCHESTRA_BROKER_QUEUE=self.queue,
            ORCHESTRA_DATA_DIR=str(self.logs / "data"),
        )
        env.update(self.extra)
        env.update(extra)
        return env

    def _spawn(self, name: str, args: list[str], url: str, **extra: str) -> Service:
        log = self.logs / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "orchestra.cli", *args, "--verbose"],
                cwd=REPO,
                env=self.env(**extra),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        service = Service(name, process, log, url)
        self.services.append(service)
        return service

    def start_api(self, name: str = "api") -> Service:
        port = free_port()
        return self._spawn(name, ["api", "--port", str(port)], f"http://127.0.0.1:{port}")

    def start_executor(self, name: str = "executor", concurrency: int = 4) -> Service:
        port = free_port()
        return self._spawn(
            name,
            ["executor", "--health-port", str(port), "--concurrency", str(concurrency)],
            f"http://127.0.0.1:{port}",
        )

    def wait_ready(self, service: Service, path: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise AssertionError(f"{service.name} exited {service.process.returncode}:\n{service.tail()}")
            try:
                if httpx.get(service.url + path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{service.name} not ready within {timeout_s} s:\n{service.tail()}")

    def api(self) -> Service:
        return next(s for s in self.services if s.name.startswith("api") and s.process.poll() is None)

    def client(self, service: Service | None = None) -> httpx.Client:
        """To ``service`` (default: a live API replica) as the local admin: the API replicas write its
        token into their shared data directory."""
        token = (self.logs / "data" / "admin-token").read_text().strip()
        return httpx.Client(
            base_url=(service or self.api()).url + "/api/v1",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )

    def stop_all(self) -> None:
        for service in self.services:
            service.stop()


@pytest.fixture(scope="session")
def demo_sut() -> Iterator[str]:
    process = DemoProcess.start()
    try:
        yield process.url
    finally:
        process.stop()


@pytest.fixture
async def cluster(
    database_url: str,
    owner_database_url: str,
    amqp_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Cluster]:
    queue = unique_queue_name()
    cluster = Cluster(database_url, owner_database_url, amqp_url, queue, tmp_path)
    try:
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop_all)
        await delete_queue(amqp_url, queue)
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            for service in cluster.services:
                print(f"----- {service.name} -----\n{service.tail(60)}")  # noqa: T201 - shown on failure


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


def setup_project(client: httpx.Client, sut_url: str, *cases: dict[str, Any]) -> None:
    response = client.post("/projects/chaos/apply", json={"test_cases": list(cases), "suites": []})
    assert response.status_code == 200, response.text
    response = client.put(
        "/projects/chaos/environments/sut", json={"base_url": sut_url, "allow_private_network": True}
    )
    assert response.status_code in (200, 201), response.text


def start_run(client: httpx.Client, test_case: str, **extra: Any) -> uuid.UUID:
    response = client.post(
        "/runs", json={"project": "chaos", "environment": "sut", "test_case": test_case, **extra}
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def wait_for(cluster: Cluster, run_ids: list[uuid.UUID], timeout_s: float = 120) -> list[dict[str, Any]]:
    """Every run's final state (through whichever API replica is alive)."""
    deadline = time.monotonic() + timeout_s
    pending = set(run_ids)
    finished: dict[uuid.UUID, dict[str, Any]] = {}
    while pending and time.monotonic() < deadline:
        with cluster.client() as client:
            for run_id in list(pending):
                run = client.get(f"/runs/{run_id}").json()
                if run["status"] in TERMINAL:
                    finished[run_id] = run
                    pending.discard(run_id)
        if pending:
            time.sleep(0.2)
    assert not pending, f"{len(pending)} run(s) not finished within {timeout_s} s"
    return [finished[run_id] for run_id in run_ids]


def sut_requests(sut_url: str, marker: str) -> list[str]:
    """The queries the SUT logged for requests carrying ``marker`` (each step sends its own)."""
    log = httpx.get(f"{sut_url}/_log", timeout=10).json()
    entries = log["entries"] if isinstance(log, dict) else log
    return [str(entry.get("query", "")) for entry in entries if marker in str(entry.get("query", ""))]
