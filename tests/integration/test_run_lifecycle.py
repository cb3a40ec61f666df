"""A run's life end to end through the API, the scheduler and the executor, against the real demo SUT."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from typing import Any

import httpx

from tests.integration.conftest import Harness
from tests.ports import refused_url

LOGIN = {
    "name": "login",
    "request": {
        "method": "POST",
        "url": "{{ env.base_url }}/auth/token",
        "json": {"username": "demo", "password": "{{ secrets.api_password }}"},
    },
    "expect": {"status": 200},
    "capture": {"token": "$.access_token"},
}


def item_case(name: str, **overrides: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "name": name,
        "setup": [LOGIN],
        "steps": [
            {"set": {"item_name": "widget-{{ uuid4() }}"}},
            {
                "name": "create",
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/items",
                    "headers": {"Authorization": "Bearer {{ token }}"},
                    "json": {"name": "{{ item_name }}", "price": 9.5},
                },
                "expect": {"status": 201, "json": {"$.name": "{{ item_name }}", "$.price": {"gt": 9}}},
                "capture": {"item_id": "$.id"},
            },
            {
                "name": "read",
                "request": {
                    "url": "{{ env.base_url }}/items/{{ item_id }}",
                    "headers": {"Authorization": "Bearer {{ token }}"},
                },
                "expect": {"status": 200, "json": {"$.id": "{{ item_id }}"}},
            },
        ],
        "teardown": [
            {
                "name": "delete",
                "request": {
                    "method": "DELETE",
                    "url": "{{ env.base_url }}/items/{{ item_id }}",
                    "headers": {"Authorization": "Bearer {{ token }}"},
                },
                "expect": {"status": [204, 404]},
            }
        ],
    }
    case.update(overrides)
    return case


async def test_passing_run_commits_every_step_with_its_exchange(harness: Harness) -> None:
    run = await harness.run(item_case("crud"))
    assert run["status"] == "PASSED", run["status_reason"]
    assert [step["name"] for step in run["steps"]] == ["login", "set item_name", "create", "read", "delete"]
    assert [step["phase"] for step in run["steps"]] == ["setup", "main", "main", "main", "teardown"]
    assert all(step["status"] == "passed" for step in run["steps"])
    create = run["steps"][2]
    assert create["request"]["method"] == "POST"
    assert create["response"]["status"] == 201
    assert json.loads(create["response"]["body"])["price"] == 9.5
    assert run["fencing_token"] == 1
    assert run["attempt"] == 1
    assert run["lease_owner"] is None
    assert run["finished_at"] is not None


async def test_failed_expectation_skips_the_rest_but_runs_teardown(harness: Harness) -> None:
    case = item_case("wrong price")
    case["steps"][1]["expect"]["json"]["$.price"] = 10
    run = await harness.run(case)
    assert run["status"] == "FAILED"
    assert run["status_reason"] == "step 'create': $.price: expected 10, got 9.5"
    statuses = [step["status"] for step in run["steps"]]
    assert statuses == ["passed", "passed", "failed", "skipped", "passed"]
    failed = run["steps"][2]["assertions"]
    assert any(a["check"] == "json $.price" and not a["passed"] for a in failed)


async def test_unreachable_sut_is_an_error_with_the_reason(harness: Harness, api: httpx.AsyncClient) -> None:
    nowhere = f"{refused_url()}/x"
    case = {"name": "nowhere", "steps": [{"request": {"url": nowhere, "timeout_ms": 2000}}]}
    run = await harness.run(case)
    assert run["status"] == "ERROR"
    assert f"cannot connect to {nowhere}" in run["status_reason"]


async def test_step_timeout_is_an_error(harness: Harness) -> None:
    case = {
        "name": "slow",
        "steps": [
            {"name": "slow call", "request": {"url": "{{ env.base_url }}/slow?ms=2000", "timeout_ms": 200}}
        ],
    }
    run = await harness.run(case)
    assert run["status"] == "ERROR"
    assert "timed out after 200 ms" in run["status_reason"]


async def test_run_time_limit_ends_timed_out_and_still_tears_down(harness: Harness) -> None:
    case = {
        "name": "limited",
        "timeout_s": 0.5,
        "steps": [{"sleep": "3s"}, {"request": {"url": "{{ env.base_url }}/health"}}],
        "teardown": [{"name": "cleanup", "request": {"url": "{{ env.base_url }}/health"}}],
    }
    run = await harness.run(case)
    assert run["status"] == "TIMED_OUT"
    assert run["status_reason"] == "run time limit of 0.5 s reached"
    assert [step["status"] for step in run["steps"]] == ["error", "skipped", "passed"]


async def test_cancel_stops_at_the_next_step_boundary(harness: Harness, api: httpx.AsyncClient) -> None:
    case = {
        "name": "long",
        "steps": [{"sleep": "300ms"}] * 20,
        "teardown": [{"name": "cleanup", "request": {"url": "{{ env.base_url }}/health"}}],
    }
    await harness.apply(case)
    run_id = await harness.start("long")
    async with asyncio.timeout(10):
        while (await api.get(f"/runs/{run_id}")).json()["status"] != "IN_PROGRESS":
            await asyncio.sleep(0.05)
    response = await api.post(f"/runs/{run_id}/cancel")
    assert response.status_code == 200
    run = await harness.wait(run_id)
    assert run["status"] == "CANCELLED"
    assert run["steps"][-1]["name"] == "cleanup"
    assert run["steps"][-1]["status"] == "passed"
    assert sum(step["status"] == "skipped" for step in run["steps"]) >= 10
    again = await api.post(f"/runs/{run_id}/cancel")
    assert again.status_code == 409


async def test_template_error_names_the_undefined_variable(harness: Harness) -> None:
    case = {"name": "typo", "steps": [{"request": {"url": "{{ env.base_url }}/items/{{ item_idd }}"}}]}
    run = await harness.run(case)
    assert run["status"] == "ERROR"
    assert "'item_idd' is undefined" in run["status_reason"]


async def test_secrets_are_masked_in_stored_steps(harness: Harness) -> None:
    case = {
        "name": "echo secret",
        "steps": [
            {
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/echo?pw={{ secrets.api_password }}",
                    "headers": {"X-Secret": "prefix-{{ secrets.api_password }}-suffix"},
                    "json": {"password": "{{ secrets.api_password }}"},
                },
                "expect": {"status": 200},
            }
        ],
    }
    run = await harness.run(case)
    assert run["status"] == "PASSED"
    stored = json.dumps(run)
    assert "demo-password" not in stored
    assert "prefix-********-suffix" in stored


async def test_large_and_non_json_bodies(harness: Harness) -> None:
    big = {
        "name": "big",
        "steps": [{"request": {"url": "{{ env.base_url }}/big?kb=200"}, "expect": {"status": 200}}],
    }
    run = await harness.run(big)
    assert run["status"] == "PASSED"
    response = run["steps"][0]["response"]
    assert response["body_truncated"] is True
    assert response["body_bytes"] > 200_000
    assert len(response["body"].encode()) <= 65_536
    html = {
        "name": "html",
        "steps": [{"request": {"url": "{{ env.base_url }}/html"}, "expect": {"json": {"$.a": 1}}}],
    }
    run = await harness.run(html)
    assert run["status"] == "FAILED"
    assert "response body is not JSON" in run["status_reason"]


async def test_suite_run_status_and_junit_report(harness: Harness, api: httpx.AsyncClient) -> None:
    good = item_case("good")
    bad = {
        "name": "bad",
        "steps": [{"request": {"url": "{{ env.base_url }}/health"}, "expect": {"status": 500}}],
    }
    await harness.apply(good, bad, suites=[{"suite": "mixed", "tests": ["good", "bad"]}])
    response = await api.post(
        "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "mixed"}
    )
    assert response.status_code == 201
    suite_run_id = response.json()["id"]
    async with asyncio.timeout(30):
        while (suite_run := (await api.get(f"/suite-runs/{suite_run_id}")).json())["status"] in (
            "PENDING",
            "QUEUED",
            "IN_PROGRESS",
        ):
            await asyncio.sleep(0.05)
    assert suite_run["status"] == "FAILED"
    assert suite_run["counts"] == {"PASSED": 1, "FAILED": 1}
    junit = await api.get(f"/suite-runs/{suite_run_id}/report", params={"format": "junit"})
    assert junit.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(junit.content)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    failure = suite.find("testcase[@name='bad']/failure")
    assert failure is not None
    assert "expected 500, got 200" in (failure.get("message") or "")
    report = (await api.get(f"/suite-runs/{suite_run_id}/report", params={"format": "json"})).json()
    assert report["kind"] == "suite_run"
    assert len(report["runs"]) == 2
    assert all(run["steps"] for run in report["runs"])


async def test_event_stream_reports_steps_and_ends(harness: Harness, api: httpx.AsyncClient) -> None:
    case = {"name": "events", "steps": [{"request": {"url": "{{ env.base_url }}/health"}}] * 3}
    await harness.apply(case)
    run_id = await harness.start("events")
    names: list[str] = []
    async with asyncio.timeout(20), api.stream("GET", f"/runs/{run_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                names.append(line[len("event: ") :])
                if names[-1] == "end":
                    break
    assert names.count("step") == 3
    assert names[-1] == "end"


async def read_step_events(api: httpx.AsyncClient, url: str, **headers: str) -> list[tuple[str, int]]:
    """(event id, step seq) of every ``step`` event until ``end``."""
    steps: list[tuple[str, int]] = []
    event_id = ""
    async with asyncio.timeout(20), api.stream("GET", url, headers=headers) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("id: "):
                event_id = line[len("id: ") :]
            elif line.startswith("data: ") and '"seq"' in line:
                steps.append((event_id, json.loads(line[len("data: ") :])["seq"]))
            elif line == "event: end":
                break
    return steps


async def test_event_stream_resumes_after_the_last_event_id(harness: Harness, api: httpx.AsyncClient) -> None:
    case = {"name": "resumed events", "steps": [{"request": {"url": "{{ env.base_url }}/health"}}] * 4}
    await harness.apply(case)
    run_id = await harness.start("resumed events")
    await harness.wait(run_id)
    url = f"/runs/{run_id}/events"
    everything = await read_step_events(api, url)
    assert everything == [(str(seq), seq) for seq in range(4)]
    assert await read_step_events(api, url, **{"Last-Event-ID": "1"}) == [("2", 2), ("3", 3)]
    assert await read_step_events(api, url, **{"Last-Event-ID": "not a number"}) == everything


async def test_cancel_interrupts_a_long_step(harness: Harness, api: httpx.AsyncClient) -> None:
    case = {
        "name": "very long",
        "steps": [{"name": "nap", "sleep": "60s"}, {"request": {"url": "{{ env.base_url }}/health"}}],
        "teardown": [{"name": "cleanup", "request": {"url": "{{ env.base_url }}/health"}}],
    }
    await harness.apply(case)
    run_id = await harness.start("very long")
    async with asyncio.timeout(10):
        while (await api.get(f"/runs/{run_id}")).json()["status"] != "IN_PROGRESS":
            await asyncio.sleep(0.05)
    assert (await api.post(f"/runs/{run_id}/cancel")).status_code == 200
    run = await harness.wait(run_id, timeout_s=15)  # the heartbeat (2 s) passes the request on
    assert run["status"] == "CANCELLED"
    assert run["status_reason"] == "cancelled on request"
    assert [(step["name"], step["status"]) for step in run["steps"]] == [
        ("nap", "error"),
        ("GET {{ env.base_url }}/health", "skipped"),
        ("cleanup", "passed"),
    ]
    assert run["steps"][0]["error"] == "interrupted: cancelled on request"


async def test_http_steps_send_a_stable_idempotency_key(harness: Harness, api: httpx.AsyncClient) -> None:
    """`<run id>-<seq>`, as the README says: seq is the step's 0-based position, setup, steps and teardown
    numbered together (the `seq` of the run's steps), so the first step sends `<run id>-0`."""
    case = {
        "name": "keys",
        "setup": [{"request": {"method": "POST", "url": "{{ env.base_url }}/echo"}}],
        "steps": [
            {"request": {"method": "POST", "url": "{{ env.base_url }}/echo"}},
            {
                "request": {
                    "method": "POST",
                    "url": "{{ env.base_url }}/echo",
                    "headers": {"Idempotency-Key": "mine"},
                }
            },
        ],
    }
    run = await harness.run(case)
    sent = [step["request"]["headers"].get("idempotency-key") for step in run["steps"]]
    assert [step["seq"] for step in run["steps"]] == [0, 1, 2]
    assert sent == [f"{run['id']}-0", f"{run['id']}-1", "mine"]
    echoed = json.loads(run["steps"][0]["response"]["body"])["headers"]["idempotency-key"]
    assert echoed == f"{run['id']}-0"
    response = await api.patch(
        f"/projects/{harness.project}/environments/sut", json={"idempotency_keys": False}
    )
    assert response.json()["idempotency_keys"] is False
    run = await harness.wait(await harness.start("keys"))
    sent = [step["request"]["headers"].get("idempotency-key") for step in run["steps"]]
    assert sent == [None, None, "mine"]


async def test_templated_variables_if_and_loops_make_one_result_per_iteration(harness: Harness) -> None:
    case = {
        "name": "flow",
        "variables": {"prefix": "w", "label": "{{ prefix }}-{{ run.attempt }}", "names": ["a", "b"]},
        "steps": [
            {"name": "health", "request": {"url": "/health"}, "expect": {"status": 200}},
            {"name": "each", "for_each": "{{ names }}", "as": "n", "set": {"last": "{{ label }}-{{ n }}"}},
            {"name": "again", "repeat": 2, "if": "{{ loop.index == 2 }}", "set": {"count": "{{ item }}"}},
            {"name": "never", "if": "{{ last == 'nope' }}", "sleep": 1},
            {"name": "bad", "if": "{{ 'maybe' }}", "sleep": 1},
        ],
    }
    run = await harness.run(case)
    steps = [(step["name"], step["status"], step["error"]) for step in run["steps"]]
    assert steps == [
        ("health", "passed", None),
        ("each [1]", "passed", None),
        ("each [2]", "passed", None),
        ("again [1]", "skipped", "if {{ loop.index == 2 }}: false"),
        ("again [2]", "passed", None),
        ("never", "skipped", "if {{ last == 'nope' }}: false"),
        (
            "bad",
            "error",
            """if "{{ 'maybe' }}" rendered to 'maybe' (str); a condition must be true or false""",
        ),
    ]
    assert [step["seq"] for step in run["steps"]] == list(range(7))
    assert run["status"] == "ERROR"
