from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from orchestra.app import create_app
from orchestra.cli.demo_process import DemoProcess
from orchestra.cli.serving import served_here
from orchestra.config import Settings
from orchestra.models.run_states import TERMINAL
from orchestra.runtime import Runtime


@pytest.fixture(scope="session")
def demo_url() -> Iterator[str]:
    """The demo SUT as a real process on a free port on 127.0.0.1."""
    process = DemoProcess.start()
    try:
        yield process.url
    finally:
        process.stop()


def assert_problem(response: httpx.Response, status: int, needle: str = "") -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and ``needle`` in its detail)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert needle in body["detail"], body["detail"]
    return body


class Harness:
    """Drives the in-process API the way a client would: apply definitions, start runs, wait for verdicts."""

    def __init__(self, api: httpx.AsyncClient, base_url: str, project: str) -> None:
        self.api = api
        self.base_url = base_url
        self.project = project

    async def setup(self, secrets: dict[str, str] | None = None) -> None:
        response = await self.api.post("/projects", json={"name": self.project})
        assert response.status_code == 201, response.text
        response = await self.api.post(
            f"/projects/{self.project}/environments",
            json={
                "name": "sut",
                "base_url": self.base_url,
                "secrets": secrets or {},
                "allow_private_network": True,  # the demo SUT runs on 127.0.0.1
            },
        )
        assert response.status_code == 201, response.text

    async def apply(self, *test_cases: dict[str, Any], suites: list[dict[str, Any]] | None = None) -> None:
        response = await self.api.post(
            f"/projects/{self.project}/apply", json={"test_cases": list(test_cases), "suites": suites or []}
        )
        assert response.status_code == 200, response.text

    async def start(self, test_case: str, **extra: Any) -> uuid.UUID:
        response = await self.api.post(
            "/runs", json={"project": self.project, "environment": "sut", "test_case": test_case, **extra}
        )
        assert response.status_code == 201, response.text
        return uuid.UUID(response.json()["id"])

    async def wait(self, run_id: uuid.UUID, timeout_s: float = 30.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout_s):
            while True:
                response = await self.api.get(f"/runs/{run_id}")
                assert response.status_code == 200, response.text
                run: dict[str, Any] = response.json()
                if run["status"] in TERMINAL:
                    return run
                await asyncio.sleep(0.05)

    async def run(self, definition: dict[str, Any], **extra: Any) -> dict[str, Any]:
        await self.apply(definition)
        return await self.wait(await self.start(definition["name"], **extra))


@pytest.fixture
async def harness(api: httpx.AsyncClient, demo_url: str) -> Harness:
    h = Harness(api, demo_url, f"p-{uuid.uuid4().hex[:8]}")
    await h.setup(secrets={"api_password": "demo-password"})
    return h


@pytest.fixture
async def server_port(settings: Settings, runtime: Runtime) -> AsyncIterator[int]:
    """Orchestra under uvicorn, configured as ``orchestra up``/``orchestra api`` run it, on a free port of
    127.0.0.1, served in the test's event loop."""
    async with served_here(create_app(settings, runtime)) as port:
        yield port
