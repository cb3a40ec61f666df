"""Execute one HTTP request step: render, send (with retry / poll-until), check, capture, record."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from orchestra.config import Settings
from orchestra.definitions.testcase_model import Expect, RequestStep
from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy, EgressRefused
from orchestra.steps.captures import apply_captures
from orchestra.steps.expectations import AssertionResult, all_passed, evaluate, render_expect
from orchestra.steps.http_send import Pace, ResponseTooLarge, describe_transport_error, send
from orchestra.steps.outcome import StepOutcome
from orchestra.steps.recording import record_request, record_response
from orchestra.steps.response import ResponseView
from orchestra.steps.templating import in_sandbox, render_value
from orchestra.steps.variable_sizes import oversized


class Pacer(Protocol):
    """Spaces the requests to an environment that has a request rate (the executor's RequestPacer, shared by
    all executors through the database)."""

    async def wait_turn(
        self, tenant_id: uuid.UUID, environment_id: uuid.UUID, per_second: float
    ) -> float: ...


class RequestRefused(Exception):
    """The egress policy refused a request of the step (the first or a redirect hop). Nothing was sent to
    it, and trying again cannot change the verdict, so the step ends in error without further attempts."""

    def __init__(self, outcome: StepOutcome) -> None:
        super().__init__(outcome.error)
        self.outcome = outcome


def _build_request(client: httpx.AsyncClient, spec: Mapping[str, Any]) -> httpx.Request:
    kwargs: dict[str, Any] = {"headers": spec.get("headers") or None, "params": spec.get("query") or None}
    if "json" in spec:
        kwargs["json"] = spec["json"]
    elif "body" in spec:
        kwargs["content"] = str(spec["body"]).encode()
    elif "form" in spec:
        kwargs["data"] = spec["form"]
    return client.build_request(str(spec.get("method", "GET")).upper(), str(spec["url"]), **kwargs)


class HttpStepRunner:
    def __init__(self, client: httpx.AsyncClient, settings: Settings, pacer: Pacer | None = None) -> None:
        """``pacer``: spaces the requests to environments that have a request rate (none: not paced)."""
        self.client = client
        self.settings = settings
        self.pacer = pacer

    async def run(
        self,
        step: RequestStep,
        request_spec: Mapping[str, Any],
        scope: Mapping[str, Any],
        idempotency_key: str | None = None,
        *,
        policy: EgressPolicy,
        environment_id: uuid.UUID | None = None,
        requests_per_s: float | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> StepOutcome:
        """``idempotency_key``: sent as Idempotency-Key unless the step sets one (same key on every attempt
        of this step of this run, so a SUT that honours it can de-duplicate a step that runs again).
        ``policy``: where the step may send requests (kit/egress.py). It is the current policy while the
        step runs, which is how it reaches the shared client's transport and connection code.
        ``environment_id`` and ``requests_per_s``: every attempt first waits for its turn in the
        environment's request rate (shared by all executors); the wait is not part of the response time."""
        with egress.applying(policy):
            return await self._run(
                step, request_spec, scope, idempotency_key, environment_id, requests_per_s, tenant_id
            )

    async def _run(
        self,
        step: RequestStep,
        request_spec: Mapping[str, Any],
        scope: Mapping[str, Any],
        idempotency_key: str | None,
        environment_id: uuid.UUID | None,
        requests_per_s: float | None,
        tenant_id: uuid.UUID | None,
    ) -> StepOutcome:
        rendered, expect, until = await in_sandbox(_render_step, step, request_spec, scope)
        timeout_ms = float(rendered.get("timeout_ms") or self.settings.default_step_timeout_ms)
        attempts_allowed = step.retry.attempts if step.retry else 1
        interval_s = (step.retry.interval_ms / 1000) if step.retry else 0.0
        outcome, view = StepOutcome(status="passed"), None
        pace: Pace | None = None
        if self.pacer is not None and environment_id and tenant_id and requests_per_s is not None:
            pacer, tenant, environment, rate = self.pacer, tenant_id, environment_id, requests_per_s

            async def pace() -> None:
                await pacer.wait_turn(tenant, environment, rate)

        for attempt in range(1, attempts_allowed + 1):
            # Every request to the SUT takes a slot: attempts, polls, redirect hops (see http_send.py).
            try:
                outcome, view = await self._attempt(step, rendered, expect, timeout_ms, idempotency_key, pace)
            except RequestRefused as refused:
                outcome, view = refused.outcome, None
                outcome.attempts = attempt
                break
            outcome.attempts = attempt
            if attempt == attempts_allowed or await self._done(outcome, view, until):
                break
            await asyncio.sleep(interval_s)
        if until is not None and view is not None and outcome.status == "passed":
            pending = [result for result in await _checked(until, view) if not result.passed]
            if pending:
                outcome.status = "failed"
                outcome.assertions.extend(
                    _until_failure(result, outcome.attempts).to_dict() for result in pending
                )
        return outcome

    @staticmethod
    async def _done(outcome: StepOutcome, view: ResponseView | None, until: Expect | None) -> bool:
        """Poll-until: stop once ``until`` holds; plain retry: stop once the step passed."""
        if until is None:
            return outcome.status == "passed"
        return view is not None and all_passed(await _checked(until, view))

    async def _attempt(
        self,
        step: RequestStep,
        rendered: Mapping[str, Any],
        expect: Expect | None,
        timeout_ms: float,
        idempotency_key: str | None,
        pace: Pace | None = None,
    ) -> tuple[StepOutcome, ResponseView | None]:
        try:
            request = _build_request(self.client, rendered)
        except Exception as error:  # e.g. a header value that is not ASCII, an invalid URL
            return StepOutcome(
                status="error", error=f"cannot build the request: {type(error).__name__}: {error}"
            ), None
        if idempotency_key is not None and "idempotency-key" not in request.headers:
            request.headers["Idempotency-Key"] = idempotency_key
        request_record = record_request(
            request, self.settings.record_body_limit, self.settings.record_header_limit
        )
        try:
            response, elapsed_ms = await send(
                self.client,
                request,
                timeout_ms=timeout_ms,
                max_bytes=self.settings.max_response_bytes,
                follow_redirects=bool(rendered.get("follow_redirects")),
                pace=pace,
                limit_name="ORCHESTRA_MAX_RESPONSE_BYTES",
            )
        except httpx.HTTPError as error:
            failure = StepOutcome(
                status="error",
                request=request_record,
                error=describe_transport_error(error, str(request.url), timeout_ms),
            )
            return failure, None
        except ResponseTooLarge as error:
            return StepOutcome(status="error", request=request_record, error=str(error)), None
        except EgressRefused as error:
            raise RequestRefused(
                StepOutcome(status="error", request=request_record, error=str(error))
            ) from None
        view = ResponseView.from_httpx(response, elapsed_ms)
        results: list[AssertionResult] = await _checked(expect, view) if expect is not None else []
        captured, capture_failures = apply_captures(step.capture, view) if step.capture else ({}, [])
        results.extend(capture_failures)
        for problem in oversized(captured, self.settings.max_variable_bytes):
            name = problem.split(":", 1)[0]
            captured.pop(name, None)
            results.append(AssertionResult(f"capture {name}", False, None, None, f"capture {problem}"))
        outcome = StepOutcome(
            status="passed" if all_passed(results) else "failed",
            request=request_record,
            response=record_response(
                response, elapsed_ms, self.settings.record_body_limit, self.settings.record_header_limit
            ),
            assertions=[result.to_dict() for result in results],
            variables=captured,
        )
        return outcome, view


async def _checked(expect: Expect, view: ResponseView) -> list[AssertionResult]:
    """The checks of a response, off the event loop: patterns, paths and schemas over a body of up to
    ORCHESTRA_MAX_RESPONSE_BYTES take time linear in it, but that can be a good part of a second."""
    return await asyncio.to_thread(evaluate, expect, view)


def _render_step(
    step: RequestStep, request_spec: Mapping[str, Any], scope: Mapping[str, Any]
) -> tuple[dict[str, Any], Expect | None, Expect | None]:
    """The step's request, expectations and poll condition, rendered (in a template thread)."""
    rendered = render_value(request_spec, scope)
    expect = render_expect(step.expect, scope) if step.expect is not None else None
    until = None
    if step.retry is not None and step.retry.until is not None:
        until = render_expect(step.retry.until, scope)
    return rendered, expect, until


def _until_failure(result: AssertionResult, attempts: int) -> AssertionResult:
    result.message = f"still not true after {attempts} attempts: {result.message}"
    result.check = f"until {result.check}"
    return result
