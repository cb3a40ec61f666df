"""An editor's test definition is untrusted code: whatever it does, it costs its own run's time and budget,
never the responsiveness of the process (the API, its health check, other runs)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from orchestra.steps import template_budget
from tests.integration.conftest import Harness, assert_problem

TWO_LOOPS = "{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}"
THREE_LOOPS = (
    "{% for i in range(20000) %}{% for j in range(20000) %}{% for k in range(20000) %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)
# A blocked event loop leaves the health check without an answer for seconds (before: 17.9 s); a busy CI
# machine alone delays an answer by up to ~0.5 s, so the limit sits well between the two.
HEALTH_P99_LIMIT_S = 1.5


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def health_latencies_until(api: httpx.AsyncClient, done: asyncio.Future[Any]) -> list[float]:
    """Ask /health/live one request after the other until ``done``; the time each answer took."""
    latencies: list[float] = []
    while not done.done():
        started = time.perf_counter()
        response = await api.get("/health/live")
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200
        await asyncio.sleep(0.005)
    return latencies


async def run_watching_health(
    harness: Harness, definition: dict[str, Any], timeout_s: float = 60
) -> tuple[dict[str, Any], list[float]]:
    await harness.apply(definition)
    run_id = await harness.start(definition["name"])
    verdict = asyncio.ensure_future(harness.wait(run_id, timeout_s))
    latencies = await health_latencies_until(harness.api, verdict)
    return await verdict, latencies


async def test_a_template_cpu_attack_ends_in_error_while_health_stays_responsive(harness: Harness) -> None:
    definition = {
        "name": "cpu attack",
        "steps": [{"request": {"url": "{{ env.base_url }}/health?x=" + TWO_LOOPS}}],
    }
    run, latencies = await run_watching_health(harness, definition)
    assert run["status"] == "ERROR"
    assert "template stopped: the template used more than 1000000 operations" in run["status_reason"]
    assert len(latencies) >= 5
    assert p99(latencies) < HEALTH_P99_LIMIT_S, sorted(latencies)[-5:]


async def test_the_run_time_limit_stops_a_template_that_would_never_end(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no operation budget to speak of, only the run's own time limit can stop three nested loops.
    monkeypatch.setattr(template_budget.Budget.__init__, "__defaults__", (10**15, 3600.0))
    definition = {
        "name": "endless template",
        "timeout_s": 1,
        "steps": [{"set": {"x": THREE_LOOPS}}],
    }
    started = time.perf_counter()
    run, latencies = await run_watching_health(harness, definition, timeout_s=30)
    assert run["status"] == "TIMED_OUT", run["status_reason"]
    assert run["status_reason"] == "run time limit of 1 s reached"
    assert time.perf_counter() - started < 10
    assert p99(latencies) < HEALTH_P99_LIMIT_S, sorted(latencies)[-5:]


async def test_a_template_memory_attack_is_refused_before_it_takes_memory(harness: Harness) -> None:
    definition = {"name": "memory attack", "steps": [{"set": {"x": "{{ range(300)|join('x' * 999999) }}"}}]}
    run = await harness.run(definition)
    assert run["status"] == "ERROR"
    assert "the filter 'join' would build a value larger than 4194304" in run["status_reason"]


async def test_a_catastrophic_pattern_is_checked_in_linear_time(harness: Harness) -> None:
    definition = {
        "name": "redos",
        "timeout_s": 5,
        "steps": [
            {
                "request": {"url": "{{ env.base_url }}/echo?x=" + "a" * 28 + "!"},
                "expect": {"json": {"$.query.x": {"matches": "^(a+)+$"}}},
            }
        ],
    }
    started = time.perf_counter()
    run, latencies = await run_watching_health(harness, definition)
    assert run["status"] == "FAILED", run["status_reason"]
    assert "expected to match '^(a+)+$'" in run["status_reason"]
    assert time.perf_counter() - started < 5
    assert p99(latencies) < HEALTH_P99_LIMIT_S, sorted(latencies)[-5:]


async def test_a_pattern_re2_cannot_run_is_refused_when_applied(harness: Harness) -> None:
    case = {
        "name": "lookahead",
        "steps": [{"request": {"url": "http://x"}, "expect": {"body": {"matches": "(?=a)"}}}],
    }
    response = await harness.api.post(f"/projects/{harness.project}/apply", json={"test_cases": [case]})
    body = assert_problem(response, 422)
    assert "invalid regular expression '(?=a)': invalid perl operator: (?=" in body["detail"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timeout_s", 1e308, "Input should be less than or equal to 86400"),
        ("timeout_s", 86400.5, "Input should be less than or equal to 86400"),
    ],
)
async def test_numbers_out_of_bounds_are_refused(
    harness: Harness, field: str, value: Any, message: str
) -> None:
    case = {"name": "bounds", field: value, "steps": [{"request": {"url": "http://x"}}]}
    response = await harness.api.post(f"/projects/{harness.project}/apply", json={"test_cases": [case]})
    body = assert_problem(response, 422)
    assert message in body["detail"]


async def test_a_definition_with_110000_unknown_keys_gets_a_short_answer(harness: Harness) -> None:
    keys = {f"key_{i:06d}": 1 for i in range(110_000)}
    case = {"name": "amplified", "steps": [{"request": {"url": "http://x", **keys}}]}
    content = json.dumps(case).encode()
    assert 1_500_000 < len(content) < 2_000_000

    async def post() -> httpx.Response:
        return await harness.api.post(
            f"/projects/{harness.project}/test-cases",
            content=content,
            headers={"Content-Type": "application/json"},
        )

    started = time.perf_counter()
    answer = asyncio.ensure_future(post())
    latencies = await health_latencies_until(harness.api, answer)
    response = await answer
    elapsed = time.perf_counter() - started
    body = assert_problem(response, 422, "unknown key 'key_000000'")
    assert len(response.content) < 64_000
    assert len(body["errors"]) == 2  # the first 50 problems share one place, then the count of the others
    assert body["errors"][-1]["message"] == "and 109950 more problems, not listed (at most 50 are)"
    assert elapsed < 10
    assert p99(latencies) < HEALTH_P99_LIMIT_S, sorted(latencies)[-5:]


async def test_an_ordinary_run_is_not_held_up_by_an_attack(harness: Harness) -> None:
    attack = {"name": "attack", "steps": [{"set": {"x": TWO_LOOPS}}] * 3}
    ordinary = {"name": "ordinary", "steps": [{"request": {"url": "{{ env.base_url }}/health"}}]}
    await harness.apply(attack, ordinary)
    attack_id = await harness.start("attack")
    ordinary_run = await harness.wait(await harness.start("ordinary"), 30)
    assert ordinary_run["status"] == "PASSED"
    attack_run = await harness.wait(attack_id, 60)
    assert attack_run["status"] == "ERROR"
