"""A request step rendered ahead (``HttpStepRunner.prepare``, done while the step before it is committed) is
sent exactly as the step would have rendered it itself; what cannot be rendered ahead is left to the step."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orchestra.config import Settings
from orchestra.definitions.loader import validate_test_case_data
from orchestra.definitions.testcase_model import RequestStep
from orchestra.executor.plan import PlannedStep, compile_plan
from orchestra.kit.egress import EgressPolicy
from orchestra.steps.request_step import HttpStepRunner, RunRequests
from orchestra.steps.templating import build_scope

BASE = "http://sut.example"
POLICY = EgressPolicy(hosts=("sut.example",))


def _planned(step: dict[str, Any]) -> PlannedStep:
    plan = compile_plan(validate_test_case_data({"name": "t", "steps": [step]}))
    return plan.steps[0]


def _parts(planned: PlannedStep) -> tuple[RequestStep, dict[str, Any]]:
    assert isinstance(planned.step, RequestStep)
    assert planned.request_spec is not None
    return planned.step, planned.request_spec


def _scope(**variables: Any) -> dict[str, Any]:
    return build_scope(base_url=BASE, variables=variables)


class _Sut:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.seen: list[tuple[str, str, bytes, str | None]] = []
        self.statuses = statuses or []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, str(request.url), request.content, request.headers.get("x-who")))
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, json={"next": 7})


async def _run(
    runner: HttpStepRunner, planned: PlannedStep, scope: dict[str, Any], *, ahead: bool, shared: RunRequests
) -> Any:
    step, spec = _parts(planned)
    prepared = runner.prepare(step, spec, scope, shared, base_url=BASE) if ahead else None
    if ahead:
        assert prepared is not None
    return await runner.run(
        step,
        planned.request_spec,
        scope,
        "key-1",
        base_url=BASE,
        policy=POLICY,
        shared=shared,
        prepared=prepared,
    )


STEP = {
    "request": {
        "method": "POST",
        "url": "/chain?n={{ next }}",
        "headers": {"X-Who": "{{ who }}"},
        "json": {"value": "{{ next }}", "label": "n={{ next }}"},
    },
    "expect": {"status": 200, "json": {"$.next": 7}},
    "capture": {"next": "$.next"},
}


@pytest.mark.parametrize("ahead", [False, True])
async def test_a_step_rendered_ahead_sends_and_checks_what_it_would_have_rendered_itself(ahead: bool) -> None:
    sut = _Sut()
    async with httpx.AsyncClient(transport=httpx.MockTransport(sut)) as client:
        runner = HttpStepRunner(client, Settings())
        outcome = await _run(
            runner, _planned(STEP), _scope(next=3, who="ann"), ahead=ahead, shared=RunRequests()
        )
    assert outcome.status == "passed", outcome
    assert outcome.variables == {"next": 7}
    method, url, body, who = sut.seen[0]
    assert (method, url, who) == ("POST", f"{BASE}/chain?n=3", "ann")
    assert json.loads(body) == {"value": 3, "label": "n=3"}
    assert outcome.request["headers"]["idempotency-key"] == "key-1"


async def test_a_request_built_ahead_is_sent_once_and_a_retry_builds_its_own() -> None:
    sut = _Sut(statuses=[503, 200])
    step = {**STEP, "retry": {"attempts": 2, "interval_ms": 0}}
    async with httpx.AsyncClient(transport=httpx.MockTransport(sut)) as client:
        runner = HttpStepRunner(client, Settings())
        outcome = await _run(
            runner, _planned(step), _scope(next=3, who="ann"), ahead=True, shared=RunRequests()
        )
    assert (outcome.status, outcome.attempts) == ("passed", 2)
    assert [seen[:3] for seen in sut.seen] == [sut.seen[0][:3]] * 2  # the same request, sent twice


async def test_request_defaults_of_the_run_apply_to_a_step_rendered_ahead() -> None:
    sut = _Sut()
    shared = RunRequests(defaults=({"headers": {"X-Who": "default {{ who }}"}},))
    step = {"request": {"method": "GET", "url": "/items"}}
    async with httpx.AsyncClient(transport=httpx.MockTransport(sut)) as client:
        runner = HttpStepRunner(client, Settings())
        outcome = await _run(runner, _planned(step), _scope(who="bob"), ahead=True, shared=shared)
    assert outcome.status == "passed"
    assert sut.seen[0][3] == "default bob"


@pytest.mark.parametrize(
    ("step", "why"),
    [
        (
            {"request": {"method": "GET", "url": "/x"}, "pre_request_script": "pm.variables.set('a', 1)"},
            "a pre-request script may change what the step renders",
        ),
        (
            {"request": {"method": "GET", "url": "/{% for i in range(3) %}{{ i }}{% endfor %}"}},
            "a template that loops renders in a template thread",
        ),
        (
            {"request": {"method": "GET", "url": "/{{ missing.name }}"}},
            "a failing template fails in the step",
        ),
    ],
)
async def test_what_cannot_be_rendered_ahead_is_left_to_the_step(step: dict[str, Any], why: str) -> None:
    planned = _planned(step)
    async with httpx.AsyncClient(transport=httpx.MockTransport(_Sut())) as client:
        runner = HttpStepRunner(client, Settings())
        step_, spec = _parts(planned)
        assert runner.prepare(step_, spec, _scope(), RunRequests(), base_url=BASE) is None, why


async def test_a_step_that_authenticates_is_rendered_ahead_but_built_when_it_runs() -> None:
    step = {"request": {"method": "GET", "url": "/me", "auth": {"bearer": {"token": "{{ token }}"}}}}
    planned = _planned(step)
    async with httpx.AsyncClient(transport=httpx.MockTransport(_Sut())) as client:
        runner = HttpStepRunner(client, Settings())
        step_, spec = _parts(planned)
        prepared = runner.prepare(step_, spec, _scope(token="t0k3n"), RunRequests(), BASE)
    assert prepared is not None
    assert prepared.first is None
    assert prepared.rendered["auth"] == {"bearer": {"token": "t0k3n"}}
