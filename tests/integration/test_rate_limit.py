"""Request rate per environment: slots reserved in PostgreSQL hold the rate across executors and runs."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orchestra.db import make_engine
from orchestra.executor.rate_limit import RequestPacer
from orchestra.migrate import migrate_database
from orchestra.models import Environment, Project, Tenant
from orchestra.tenant_context import ContextKey
from tests.integration.conftest import Harness

RATE = 5.0
STEPS = 10
BURST = 1  # documented tolerance: jitter may bring one request more into a one-second window


def marked_case(name: str, marker: str, steps: int = STEPS) -> dict[str, Any]:
    step = {
        "request": {"url": "{{ env.base_url }}/health", "query": {"marker": marker}},
        "expect": {"status": 200},
    }
    return {"name": name, "steps": [step] * steps}


async def arrivals(demo_url: str, marker: str) -> list[float]:
    """Epoch seconds at which the demo SUT received the requests carrying ``marker``, in order."""
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        log = (await client.get(f"{demo_url}/_log")).json()["entries"]
    stamps = [
        datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
        for entry in log
        if f"marker={marker}" in entry["query"]
    ]
    return sorted(stamps)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def busiest_second(stamps: list[float]) -> int:
    """The most arrivals within any window of one second."""
    return max(sum(1 for other in stamps if start <= other < start + 1.0) for start in stamps)


async def set_rate(harness: Harness, rate: float | None) -> None:
    response = await harness.api.patch(
        f"/projects/{harness.project}/environments/sut", json={"max_requests_per_s": rate}
    )
    assert response.status_code == 200, response.text


async def test_two_parallel_runs_share_the_environment_rate(harness: Harness, demo_url: str) -> None:
    await set_rate(harness, RATE)
    marker = uuid.uuid4().hex
    await harness.apply(marked_case("paced", marker))
    first, second = await harness.start("paced"), await harness.start("paced")
    runs = await asyncio.gather(harness.wait(first, timeout_s=30), harness.wait(second, timeout_s=30))

    for run in runs:
        assert run["status"] == "PASSED", run["status_reason"]
        assert len(run["steps"]) == STEPS
    stamps = await arrivals(demo_url, marker)
    assert len(stamps) == 2 * STEPS
    assert busiest_second(stamps) <= RATE + BURST, stamps
    # 20 requests at 5/s: the last one no earlier than 19 intervals after the first (3.8 s), give or take.
    assert stamps[-1] - stamps[0] >= 3.5, stamps
    # Both runs progressed together (they interleave) rather than one after the other.
    starts = sorted(
        datetime.fromisoformat(run["started_at"].replace("Z", "+00:00")).timestamp() for run in runs
    )
    assert starts[1] - starts[0] < 1.0

    # The wait for a slot is part of a step's duration, never of its measured response time.
    steps = [step for run in runs for step in run["steps"]]
    assert max(step["response"]["elapsed_ms"] for step in steps) < 150
    assert max(step["duration_ms"] for step in steps) >= 150


async def test_every_retry_attempt_waits_for_its_turn(harness: Harness, demo_url: str) -> None:
    await set_rate(harness, RATE)
    marker = uuid.uuid4().hex
    case = {
        "name": "retrying",
        "steps": [
            {
                "request": {"url": "{{ env.base_url }}/health", "query": {"marker": marker}},
                "expect": {"status": 299},  # never true: every attempt is made
                "retry": {"attempts": 4, "interval_ms": 0},
            }
        ],
    }
    run = await harness.run(case)
    assert run["status"] == "FAILED"
    assert run["steps"][0]["attempts"] == 4
    stamps = await arrivals(demo_url, marker)
    assert len(stamps) == 4
    assert min(gaps(stamps)) >= 0.15, stamps  # 0.2 s apart; the log's timestamps have millisecond precision


async def test_clearing_the_rate_stops_pacing(harness: Harness, demo_url: str) -> None:
    await set_rate(harness, 0.5)
    await set_rate(harness, None)
    marker = uuid.uuid4().hex
    started = time.monotonic()
    run = await harness.run(marked_case("unpaced", marker, steps=5))
    assert run["status"] == "PASSED", run["status_reason"]
    assert time.monotonic() - started < 2.0  # at 0.5/s, 5 requests would take 8 s
    assert len(await arrivals(demo_url, marker)) == 5


# -- RequestPacer directly: two pacers on separate engines, as two executor processes would be ---------------


@pytest.fixture
async def engines(
    database_url: str, owner_database_url: str
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """The application role's, signing tenant contexts with the key the database holds."""
    key = ContextKey.from_secret_key(os.urandom(32))
    await migrate_database(owner_database_url, context_key=key)
    first, second = (make_engine(database_url, key, pool_size=12) for _ in range(2))
    try:
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()


@pytest.fixture
async def owner(owner_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(owner_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def stored_environment(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID]:
    """A tenant and an environment of it, written as the owner; the pacers use the application role."""
    tenant, project, environment = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(Tenant.__table__.insert().values(id=tenant, name=f"t-{tenant.hex[:8]}"))
        await conn.execute(Project.__table__.insert().values(id=project, tenant_id=tenant, name="p"))
        await conn.execute(
            Environment.__table__.insert().values(
                id=environment,
                tenant_id=tenant,
                project_id=project,
                name="e",
                base_url="http://sut.test",
                variables={},
                secrets={},
            )
        )
    return tenant, environment


async def warm_up(engine: AsyncEngine, connections: int) -> None:
    """Open the pool's connections first, so that the reservations below are all made at once."""

    async def ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.05)"))

    await asyncio.gather(*(ping() for _ in range(connections)))


async def test_two_pacers_space_concurrent_reservations(
    engines: tuple[AsyncEngine, AsyncEngine], owner: AsyncEngine
) -> None:
    environment = await stored_environment(owner)
    for engine in engines:
        await warm_up(engine, 10)
    pacers = [RequestPacer(engine) for engine in engines]
    clock = time.monotonic()

    async def turn(pacer: RequestPacer) -> tuple[float, float]:
        waited = await pacer.wait_turn(*environment, 10.0)
        return waited, time.monotonic() - clock

    async with asyncio.timeout(10):
        results = await asyncio.gather(*(turn(pacers[i % 2]) for i in range(20)))

    waits = sorted(waited for waited, _ in results)
    assert waits[0] < 0.05, waits  # the first slot is free at once
    assert all(0.05 <= gap <= 0.15 for gap in gaps(waits)), waits  # ~0.1 s apart
    assert 1.8 <= waits[-1] <= 2.0, waits  # the 20th slot: 19 intervals later
    # The turns really came one by one, never two at once.
    done = sorted(at for _, at in results)
    assert min(gaps(done)) >= 0.05, done
    assert 1.8 <= done[-1] - done[0] <= 2.5


async def test_an_idle_environment_builds_up_no_credit(
    engines: tuple[AsyncEngine, AsyncEngine], owner: AsyncEngine
) -> None:
    environment = await stored_environment(owner)
    pacer = RequestPacer(engines[0])
    assert await pacer.reserve(*environment, 20.0) == 0.0
    await asyncio.sleep(0.3)  # six intervals idle
    assert await pacer.reserve(*environment, 20.0) == 0.0  # free at once …
    assert 0.03 <= await pacer.reserve(*environment, 20.0) <= 0.06  # … but the next is one interval later
    other = await stored_environment(owner)
    assert await RequestPacer(engines[1]).reserve(*other, 20.0) == 0.0  # environments are independent


async def test_every_redirect_hop_takes_its_own_slot(harness: Harness, demo_url: str) -> None:
    await set_rate(harness, 4.0)
    marker = uuid.uuid4().hex
    step = {
        "request": {
            "url": "{{ env.base_url }}/redirect",
            "query": {"to": f"/health?marker={marker}", "marker": marker},
            "follow_redirects": True,
        },
        "expect": {"status": 200, "json": {"$.status": "ok"}},
    }
    run = await harness.run({"name": "hops", "steps": [step] * 4})
    assert run["status"] == "PASSED", run["status_reason"]
    stamps = await arrivals(demo_url, marker)
    assert len(stamps) == 8  # four redirects and four followed hops
    assert busiest_second(stamps) <= 4 + BURST
    assert stamps[-1] - stamps[0] >= 7 / 4 - 0.3  # eight requests at 4/s span about 1.75 s
    assert all(step["response"]["elapsed_ms"] < 200 for step in run["steps"])  # waits are not response time
