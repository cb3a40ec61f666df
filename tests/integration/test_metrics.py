"""``/metrics`` of the API: behind its token, the run gauges read from PostgreSQL, and labels from bounded
sets whatever ids and URLs the runs carried."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestra.app import create_app
from orchestra.config import Settings
from orchestra.kit import metrics
from orchestra.runtime import Runtime
from tests.integration.conftest import Harness
from tests.ports import refused_url

TOKEN = "metrics-token-" + "x" * 24

# Every label an Orchestra metric may carry, and the values it may take (None: an environment slug).
BOUNDED: dict[str, set[str] | None] = {
    "outcome": {*metrics.RUN_OUTCOMES, metrics.OTHER},
    "status_class": set(metrics.STATUS_CLASSES),
    "reason": {*metrics.RECLAIM_REASONS, *metrics.FALLBACK_REASONS},
    "planner": set(metrics.PLANNERS),
    "environment": None,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": TOKEN})


@pytest.fixture
async def scraper(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(settings, runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://orchestra.test") as client:
        yield client


async def scrape(scraper: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("orchestra_")
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_are_served_only_to_the_bearer_of_the_token(scraper: httpx.AsyncClient) -> None:
    assert (await scraper.get("/metrics")).status_code == 401
    wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    samples = await scrape(scraper)
    assert ("orchestra_executor_slots_free", ()) in samples
    # Off the public contract: neither in the OpenAPI document nor under /api/v1.
    openapi = (await scraper.get("/api/v1/openapi.json")).json()
    assert "/metrics" not in openapi["paths"]


async def test_without_a_token_the_api_serves_no_metrics(settings: Settings, runtime: Runtime) -> None:
    app = create_app(settings, runtime)
    app.state.settings = runtime.settings.model_copy(update={"metrics_token": None})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://o.test") as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "orchestra_" not in response.text


def request_case(name: str, url: str, status: int = 200) -> dict[str, Any]:
    return {"name": name, "steps": [{"request": {"url": url}, "expect": {"status": status}}]}


async def test_labels_stay_in_bounded_sets_after_runs_with_many_ids_and_urls(
    harness: Harness, scraper: httpx.AsyncClient
) -> None:
    before = await scrape(scraper)
    names = [f"case {uuid.uuid4()}" for _ in range(6)]
    cases = [
        request_case(names[0], "{{ env.base_url }}/health?probe=" + uuid.uuid4().hex),
        request_case(names[1], "{{ env.base_url }}/no-such-" + str(uuid.uuid4()), status=404),
        request_case(names[2], "{{ env.base_url }}/no-such-" + uuid.uuid4().hex, status=200),  # fails
        request_case(names[3], refused_url() + "/gone/" + uuid.uuid4().hex),  # no response: error
        {
            "name": names[4],
            "steps": [
                {
                    "request": {"url": "{{ env.base_url }}/no-such-" + uuid.uuid4().hex},
                    "retry": {"attempts": 3, "interval_ms": 10},
                    "expect": {"status": 200},
                }
            ],
        },
        request_case(names[5], "{{ env.base_url }}/health?again=" + uuid.uuid4().hex),
    ]
    await harness.apply(*cases)
    run_ids = [await harness.start(name) for name in names]
    outcomes = [(await harness.wait(run_id))["status"] for run_id in run_ids]
    assert outcomes == ["PASSED", "PASSED", "FAILED", "ERROR", "FAILED", "PASSED"]

    after = await scrape(scraper)
    for outcome, count in (("PASSED", 3), ("FAILED", 2), ("ERROR", 1)):
        finished = "orchestra_runs_finished_total"
        assert value(after, finished, outcome=outcome) - value(before, finished, outcome=outcome) == count
    requests = "orchestra_sut_request_duration_seconds_count"
    assert value(after, requests, environment="sut", status_class="2xx") - value(
        before, requests, environment="sut", status_class="2xx"
    ) == pytest.approx(2)
    assert value(after, requests, environment="sut", status_class="4xx") - value(
        before, requests, environment="sut", status_class="4xx"
    ) == pytest.approx(5)  # one 404 expected, one unexpected, three tries of the retried one
    assert value(after, requests, environment="sut", status_class="error") > value(
        before, requests, environment="sut", status_class="error"
    )
    assert value(after, "orchestra_step_retries_total") - value(before, "orchestra_step_retries_total") == 2
    assert value(after, "orchestra_run_queue_wait_seconds_count") - value(
        before, "orchestra_run_queue_wait_seconds_count"
    ) == len(run_ids)

    free_text = {str(run_id) for run_id in run_ids} | set(names) | {harness.base_url, harness.project}
    for name, labels in after:
        for key, label in labels:
            if key == "le":
                continue
            assert key in BOUNDED, (name, key)
            allowed = BOUNDED[key]
            if allowed is None:
                assert label == metrics.environment_label(label), (name, label)
            else:
                assert label in allowed, (name, key, label)
            assert not any(text in label or label in text for text in free_text if len(label) > 3), label


async def test_run_gauges_count_the_database_runs_by_environment(
    harness: Harness, api: httpx.AsyncClient, scraper: httpx.AsyncClient
) -> None:
    response = await api.patch(f"/projects/{harness.project}/environments/sut", json={"max_active_runs": 1})
    assert response.status_code == 200, response.text
    await harness.apply({"name": "nap", "steps": [{"sleep": "60s"}]})
    first = await harness.start("nap")
    async with asyncio.timeout(10):
        while (await api.get(f"/runs/{first}")).json()["status"] != "IN_PROGRESS":
            await asyncio.sleep(0.05)
    waiting = [await harness.start("nap") for _ in range(2)]  # held PENDING by the environment's limit

    samples = await scrape(scraper)
    assert value(samples, "orchestra_runs_in_progress", environment="sut") == 1
    assert value(samples, "orchestra_runs_waiting", environment="sut") == 2

    for run_id in (first, *waiting):
        assert (await api.post(f"/runs/{run_id}/cancel")).status_code == 200
    for run_id in (first, *waiting):
        await harness.wait(run_id, timeout_s=15)
    samples = await scrape(scraper)
    assert value(samples, "orchestra_runs_in_progress", environment="sut") == 0
    assert value(samples, "orchestra_runs_waiting", environment="sut") == 0
