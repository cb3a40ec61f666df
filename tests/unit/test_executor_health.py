"""The stand-alone executor's health endpoints, as an orchestrator's probe sees them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from orchestra.executor.health_app import HealthServer


@pytest.fixture
async def health() -> AsyncIterator[tuple[HealthServer, str]]:
    server = HealthServer()
    await server.start("127.0.0.1", 0)
    try:
        yield server, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


async def test_live_at_once_and_ready_only_once_the_executor_runs(health: tuple[HealthServer, str]) -> None:
    server, url = health
    async with httpx.AsyncClient(base_url=url) as client:
        live = await client.get("/health/live")
        assert live.status_code == 200
        assert live.json()["status"] == "ok"
        starting = await client.get("/health/ready")
        assert starting.status_code == 503
        assert starting.json()["checks"] == {"executor": "starting"}

        checks = {"database": "ok", "broker": "ok", "executor": "ok"}

        async def readiness() -> dict[str, str]:
            return dict(checks)

        server.attach(readiness, "host/1/abc")
        ready = await client.get("/health/ready")
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ok", "checks": checks, "owner": "host/1/abc"},
        )
        assert (await client.get("/health/live")).json() == {"status": "ok", "owner": "host/1/abc"}
        checks["broker"] = "unreachable"
        failing = await client.get("/health/ready")
        assert failing.status_code == 503
        assert failing.json()["checks"]["broker"] == "unreachable"
        assert (await client.head("/health/live")).status_code == 200


async def test_anything_else_is_refused_with_a_status(health: tuple[HealthServer, str]) -> None:
    _, url = health
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/")).status_code == 404
        assert (await client.post("/health/live")).status_code == 405
        assert (await client.get("/health/live?verbose=1")).status_code == 200


async def test_a_malformed_or_oversized_request_gets_400_and_the_server_goes_on(
    health: tuple[HealthServer, str],
) -> None:
    server, url = health
    for request in (b"NONSENSE\r\n\r\n", b"GET /health/live HTTP/1.1\r\nX: " + b"a" * 10_000 + b"\r\n\r\n"):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request)
        await writer.drain()
        status_line = await reader.readline()
        assert status_line.startswith(b"HTTP/1.1 400"), status_line
        writer.close()
        await writer.wait_closed()
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/health/live")).status_code == 200


async def test_metrics_are_served_on_the_health_port(health: tuple[HealthServer, str]) -> None:
    _, url = health
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "orchestra_executor_slots_free" in response.text
    assert "orchestra_runs_finished_total" in response.text or "orchestra_runs_finished" in response.text


async def test_with_a_token_the_health_port_serves_metrics_only_to_its_bearer() -> None:
    server = HealthServer(metrics_token="scrape-token-0123456789")
    await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            assert (await client.get("/metrics")).status_code == 401
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            right = await client.get("/metrics", headers={"authorization": "Bearer scrape-token-0123456789"})
            assert right.status_code == 200
            assert "orchestra_executor_slots_free" in right.text
            assert (await client.get("/health/live")).status_code == 200  # probes need no token
    finally:
        await server.close()
