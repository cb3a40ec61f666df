"""Execute one HTTP request step: render, send (with retry / poll-until), check, capture, record."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from orchestra.config import Settings
from orchestra.definitions.testcase_model import Expect, RequestStep
from orchestra.kit import egress, metrics
from orchestra.kit.egress import EgressPolicy, EgressRefused
from orchestra.steps.captures import apply_captures
from orchestra.steps.cleanup_call import join_url
from orchestra.steps.expectations import AssertionResult, all_passed, evaluate, render_expect
from orchestra.steps.http_send import Pace, ResponseTooLarge, describe_transport_error, send
from orchestra.steps.multipart_parts import multipart_part
from orchestra.steps.outcome import NextRequest, StepOutcome, is_failed_check
from orchestra.steps.recording import record_request, record_response
from orchestra.steps.request_auth import AuthFailed, RunAuth, authenticate, fetch_client_credentials
from orchestra.steps.request_defaults import merged_request, without_overridden_auth
from orchestra.steps.response import ResponseView
from orchestra.steps.scripts.step_scripts import ScriptRequests, run_scripts, scripts_of
from orchestra.steps.template_inline import NeedsThread
from orchestra.steps.templating import on_the_loop, render_value, sandboxed
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


@dataclass(frozen=True, slots=True)
class RunRequests:
    """What the request steps of one run share: the defaults they inherit (plain data, the most general
    first: environment, suite, test case; see request_defaults.py) and their auth's token cache."""

    defaults: Sequence[Mapping[str, Any]] = ()
    auth: RunAuth = field(default_factory=RunAuth)


@dataclass(slots=True)
class PreparedRequest:
    """A request step rendered ahead of its turn (``HttpStepRunner.prepare``): its request, expectations and
    poll condition, and the request of its first attempt when it could be built then."""

    rendered: dict[str, Any]
    expect: Expect | None
    until: Expect | None
    first: httpx.Request | None = None


def _is_relative(url: Any) -> bool:
    """A URL without a scheme or host (``/users``, ``users?page=2``); one that cannot be parsed is left to
    fail as it is."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:
        return False
    return parts is not None and not parts.scheme and not parts.netloc


def _with_base_url(rendered: dict[str, Any], base_url: str | None) -> dict[str, Any]:
    if base_url is not None and _is_relative(rendered.get("url")):
        return {**rendered, "url": join_url(base_url, rendered["url"])}
    return rendered


def _build_request(client: httpx.AsyncClient, spec: Mapping[str, Any]) -> httpx.Request:
    """The request to send. ``query`` is added to the query the URL already has (``/items?page=2`` with a
    default ``lang`` sends both; a name in both takes the ``query`` value): httpx's ``params`` would
    replace the URL's query instead."""
    url = httpx.URL(str(spec["url"]))
    if spec.get("query"):
        url = url.copy_merge_params(spec["query"])
    kwargs: dict[str, Any] = {"headers": spec.get("headers") or None}
    if "json" in spec:
        kwargs["json"] = spec["json"]
    elif "body" in spec:
        kwargs["content"] = str(spec["body"]).encode()
    elif "form" in spec:
        kwargs["data"] = spec["form"]
    elif "multipart" in spec:  # text fields sent as parts with no file name, files with theirs
        kwargs["files"] = [(str(name), multipart_part(value)) for name, value in spec["multipart"].items()]
    request = client.build_request(str(spec.get("method", "GET")).upper(), url, **kwargs)
    if "files" in kwargs:
        request.read()  # a multipart body is a stream; it is recorded and may be sent again (retries)
    return request


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
        base_url: str | None = None,
        policy: EgressPolicy,
        environment_id: uuid.UUID | None = None,
        requests_per_s: float | None = None,
        tenant_id: uuid.UUID | None = None,
        shared: RunRequests | None = None,
        status_gates: bool = True,
        prepared: PreparedRequest | None = None,
    ) -> StepOutcome:
        """``shared``: the run's request defaults and auth state (none: a run of its own).
        ``prepared``: what ``prepare`` made of this step with this same scope (none: rendered here).
        ``idempotency_key``: sent as Idempotency-Key unless the step sets one (same key on every attempt
        of this step of this run, so a SUT that honours it can de-duplicate a step that runs again).
        ``policy``: where the step may send requests (kit/egress.py). It is the current policy while the
        step runs, which is how it reaches the shared client's transport and connection code.
        ``environment_id`` and ``requests_per_s``: every attempt first waits for its turn in the
        environment's request rate (shared by all executors); the wait is not part of the response time.
        ``base_url``: a relative URL (``/users``) is appended to it, path and all (cleanup_call.join_url).
        ``status_gates``: a failed status check skips the body checks (steps/expectations.py: evaluate)."""
        with egress.applying(policy):
            return await self._run(
                step,
                request_spec,
                scope,
                idempotency_key,
                environment_id,
                requests_per_s,
                tenant_id,
                shared or RunRequests(),
                base_url,
                status_gates,
                prepared,
            )

    def prepare(
        self,
        step: RequestStep,
        request_spec: Mapping[str, Any],
        scope: Mapping[str, Any],
        shared: RunRequests,
        base_url: str | None = None,
    ) -> PreparedRequest | None:
        """The step rendered now, on the event loop, for ``run`` to send later with the same scope and
        ``shared``. Nothing is sent and nothing is kept but the result. None when it cannot be done ahead:
        a pre-request script (it may change the scope, or send requests itself), or a rendering that needs
        a template thread or fails (``run`` renders it again, and reports the failure). The request of the
        first attempt is built too, unless the step authenticates first or sends files."""
        if step.pre_request_script is not None:
            return None
        try:
            rendered, expect, until = on_the_loop(_render_step, step, request_spec, scope, shared.defaults)
        except (Exception, NeedsThread):
            return None
        rendered = _with_base_url(rendered, base_url)
        first = None
        if not rendered.get("auth") and "multipart" not in rendered:
            with contextlib.suppress(Exception):  # run builds it again, and reports the failure
                first = _build_request(self.client, rendered)
        return PreparedRequest(rendered, expect, until, first)

    async def _run(
        self,
        step: RequestStep,
        request_spec: Mapping[str, Any],
        scope: Mapping[str, Any],
        idempotency_key: str | None,
        environment_id: uuid.UUID | None,
        requests_per_s: float | None,
        tenant_id: uuid.UUID | None,
        shared: RunRequests,
        base_url: str | None,
        gates: bool,
        prepared: PreparedRequest | None = None,
    ) -> StepOutcome:
        pace: Pace | None = None
        if self.pacer is not None and environment_id and tenant_id and requests_per_s is not None:
            pacer, tenant, environment, rate = self.pacer, tenant_id, environment_id, requests_per_s

            async def pace() -> None:
                await pacer.wait_turn(tenant, environment, rate)

        script_scope = None if tenant_id is None else str(tenant_id)  # a tenant's scripts share contexts
        scripted: dict[str, Any] = {}  # variables the step's scripts set
        next_request: NextRequest | None = None  # the pre-request scripts' setNextRequest
        pre_checks: list[dict[str, Any]] = []  # their tests and requests, first among the step's checks
        if step.pre_request_script is not None:
            before = await run_scripts(
                scripts_of(step.pre_request_script),
                phase="prerequest",
                step_name=step.display_name(0),
                variables=scope.get("vars") or {},
                request=request_spec,
                requests=self._script_requests(self.settings.default_step_timeout_ms, pace),
                scope=script_scope,
            )
            scripted.update(before.variables)
            next_request = before.next_request
            pre_checks = [check.to_dict() for check in before.checks]
            if before.error:
                return StepOutcome(
                    status="error",
                    error=before.error,
                    assertions=pre_checks,
                    variables=scripted,
                    next_request=next_request,
                )
            if scripted:
                scope = {**scope, **scripted, "vars": {**(scope.get("vars") or {}), **scripted}}
        first: httpx.Request | None = None
        if prepared is not None and step.pre_request_script is None:
            rendered, expect, until, first = (
                prepared.rendered,
                prepared.expect,
                prepared.until,
                prepared.first,
            )
        else:
            rendered, expect, until = await sandboxed(
                _render_step, step, request_spec, scope, shared.defaults
            )
            rendered = _with_base_url(rendered, base_url)
        timeout_ms = float(rendered.get("timeout_ms") or self.settings.default_step_timeout_ms)
        attempts_allowed = step.retry.attempts if step.retry else 1
        interval_s = (step.retry.interval_ms / 1000) if step.retry else 0.0
        outcome, view = StepOutcome(status="passed"), None
        auth = rendered.pop("auth", None)
        if auth:
            try:
                await authenticate(rendered, auth, shared.auth, self._token_fetch(timeout_ms, pace))
            except AuthFailed as error:
                return StepOutcome(status="error", error=f"auth: {error}")
        for attempt in range(1, attempts_allowed + 1):
            # Every request to the SUT takes a slot: attempts, polls, redirect hops (see http_send.py).
            try:
                built, first = first, None  # a request built ahead is sent once, by the first attempt
                outcome, view = await self._attempt(
                    step, rendered, expect, timeout_ms, idempotency_key, pace, gates, built
                )
            except RequestRefused as refused:
                outcome, view = refused.outcome, None
                outcome.attempts = attempt
                break
            outcome.attempts = attempt
            if attempt == attempts_allowed or await self._done(outcome, view, until, gates):
                break
            metrics.STEP_RETRIES.inc()
            await asyncio.sleep(interval_s)
        if until is not None and view is not None and outcome.status == "passed":
            checked = await _checked(until, view, gates)
            pending = [result for result in checked if result.outcome == "failed"]
            if pending:
                outcome.status = "failed"
                outcome.assertions.extend(
                    _until_failure(result, outcome.attempts).to_dict() for result in pending
                )
        if step.test_script is not None and view is not None:
            requests = self._script_requests(timeout_ms, pace)
            await self._test_scripts(step, rendered, view, scope, scripted, outcome, requests, script_scope)
        elif scripted:
            outcome.variables = {**scripted, **outcome.variables}
        if outcome.next_request is None:  # a test script's setNextRequest wins over a pre-request one's
            outcome.next_request = next_request
        if pre_checks:
            outcome.assertions[:0] = pre_checks
            if outcome.status == "passed" and any(is_failed_check(check) for check in pre_checks):
                outcome.status = "failed"
        return outcome

    async def _test_scripts(
        self,
        step: RequestStep,
        rendered: Mapping[str, Any],
        view: ResponseView,
        scope: Mapping[str, Any],
        scripted: dict[str, Any],
        outcome: StepOutcome,
        requests: ScriptRequests,
        script_scope: str | None,
    ) -> None:
        """The step's test scripts on its final response: their tests as named checks, the variables they
        set over those captured, a thrown error as the step's."""
        variables = {**(scope.get("vars") or {}), **outcome.variables}
        after = await run_scripts(
            scripts_of(step.test_script),
            phase="test",
            step_name=step.display_name(0),
            variables=variables,
            request=rendered,
            view=view,
            requests=requests,
            scope=script_scope,
        )
        outcome.assertions.extend(check.to_dict() for check in after.checks)
        changed = {**scripted, **outcome.variables, **after.variables}
        for problem in oversized(changed, self.settings.max_variable_bytes):
            name = problem.split(":", 1)[0]
            changed.pop(name, None)
            outcome.assertions.append(
                AssertionResult(f"script variable {name}", False, None, None, f"variable {problem}").to_dict()
            )
        outcome.variables = changed
        outcome.next_request = after.next_request
        if after.error:
            outcome.status, outcome.error = "error", after.error
        elif outcome.status == "passed" and any(is_failed_check(check) for check in outcome.assertions):
            outcome.status = "failed"

    def _script_requests(self, timeout_ms: float, pace: Pace | None) -> ScriptRequests:
        """What sends the scripts' pm.sendRequest calls: this step's client, egress policy (the current
        one), request rate and response size limit."""
        return ScriptRequests(
            self.client, timeout_ms=timeout_ms, max_bytes=self.settings.max_response_bytes, pace=pace
        )

    def _token_fetch(self, timeout_ms: float, pace: Pace | None) -> Any:
        async def fetch(settings: Mapping[str, str]) -> tuple[str, float | None]:
            return await fetch_client_credentials(self.client, settings, timeout_ms=timeout_ms, pace=pace)

        return fetch

    @staticmethod
    async def _done(
        outcome: StepOutcome, view: ResponseView | None, until: Expect | None, gates: bool
    ) -> bool:
        """Poll-until: stop once ``until`` holds; plain retry: stop once the step passed."""
        if until is None:
            return outcome.status == "passed"
        return view is not None and all_passed(await _checked(until, view, gates))

    async def _attempt(
        self,
        step: RequestStep,
        rendered: Mapping[str, Any],
        expect: Expect | None,
        timeout_ms: float,
        idempotency_key: str | None,
        pace: Pace | None = None,
        gates: bool = True,
        request: httpx.Request | None = None,
    ) -> tuple[StepOutcome, ResponseView | None]:
        """``request``: the one to send, already built from ``rendered`` (none: built here)."""
        if request is None:
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
        results: list[AssertionResult] = await _checked(expect, view, gates) if expect is not None else []
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


# Up to this many characters of body, checks without a schema run on the event loop: patterns (RE2) and
# paths take time linear in the body, well under a millisecond here, less than a hop to a thread costs.
INLINE_CHECK_CHARS = 64 * 1024


async def _checked(expect: Expect, view: ResponseView, gates: bool) -> list[AssertionResult]:
    """The checks of a response, off the event loop when they may take long: patterns, paths and schemas
    over a body of up to ORCHESTRA_MAX_RESPONSE_BYTES take time linear in it, but that can be a good part of
    a second, and a schema (the definition's own) can take longer than its instance suggests."""
    if expect.json_schema is None and len(view.text) <= INLINE_CHECK_CHARS:
        return evaluate(expect, view, status_gates=gates)
    return await asyncio.to_thread(evaluate, expect, view, status_gates=gates)


def _render_step(
    step: RequestStep,
    request_spec: Mapping[str, Any],
    scope: Mapping[str, Any],
    defaults: Sequence[Mapping[str, Any]] = (),
) -> tuple[dict[str, Any], Expect | None, Expect | None]:
    """The step's request over its defaults, expectations and poll condition, rendered (in a template
    thread)."""
    layers = without_overridden_auth(defaults, request_spec)
    rendered = merged_request(render_value(layers, scope), render_value(request_spec, scope))
    expect = render_expect(step.expect, scope) if step.expect is not None else None
    until = None
    if step.retry is not None and step.retry.until is not None:
        until = render_expect(step.retry.until, scope)
    return rendered, expect, until


def _until_failure(result: AssertionResult, attempts: int) -> AssertionResult:
    result.message = f"still not true after {attempts} attempts: {result.message}"
    result.check = f"until {result.check}"
    return result
