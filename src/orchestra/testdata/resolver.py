"""The Data Resolver: executes a DataPlan against the SUT before a run's test steps.

Bindings run wave by wave (``graph.waves``); the calls of a wave run concurrently, at most ``concurrency`` at
once. Each call or lookup is reported through ``on_result`` as soon as it ends, with the rendered call that
undoes it — the executor records that before the run moves on, so nothing created is ever forgotten. That
holds for a call that fails after the SUT accepted it (a capture found nothing in the response) too: its
undo is rendered with the captures that were found, or, when it cannot be, the result is marked manual (the
ledger keeps the raw response for a person). A binding already in ``done`` (a resumed run) is not executed
again: its value is reused.

A call answered 401 whose headers or query used the value of another call (the log-in's token) re-runs
that call once — unless another call already renewed it meanwhile — and is sent again with the new value,
once; the renewed log-in is reported like any call, later bindings use its new value, and the undo of the
call sent again is rendered with it. A log-in is re-run at most ``MAX_RENEWALS`` times per resolve: a SUT
that answers 401 for a missing permission (not an expired token) costs one more log-in, not one per call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from orchestra.definitions.testcase_model import CaptureSpec
from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy, EgressRefused
from orchestra.openapi.operations import Catalogue
from orchestra.steps.captures import apply_captures
from orchestra.steps.expectations import find_values
from orchestra.steps.http_call import HttpCall
from orchestra.steps.http_send import ResponseTooLarge, describe_transport_error, send
from orchestra.steps.recording import record_request, record_response
from orchestra.steps.response import ResponseView
from orchestra.steps.templating import TemplateError, build_scope, render_value, sandboxed
from orchestra.testdata.calls import (
    BUSY_DELAYS_S,
    DEFAULT_BODY_LIMIT,
    DEFAULT_HEADER_LIMIT,
    DEFAULT_RESPONSE_LIMIT,
    RequestProblem,
    again_while_busy,
    operation_url,
    perform_undo,
    query_params,
)
from orchestra.testdata.plans.dataplan_model import Binding, DataPlan, Request
from orchestra.testdata.plans.graph import dependencies, waves
from orchestra.testdata.plans.templates import SELF_NAME, references, with_renamed_self
from orchestra.testdata.records import BindingResult
from orchestra.testdata.values.generator import GeneratorError, ValueGenerator

OnResult = Callable[[BindingResult], Awaitable[None]]
MAX_RENEWALS = 1  # re-runs of one log-in per resolve
__all__ = ["BindingFailed", "DataResolver", "OnResult", "capture_spec", "perform_undo"]


class BindingFailed(Exception):
    """A binding could not produce its value; ``result`` is its reported result (None for generators).
    ``others``: the other bindings of the same wave that failed too (a planner repairing the plan is told
    of every one)."""

    def __init__(
        self,
        binding: str,
        reason: str,
        result: BindingResult | None = None,
        others: Sequence[BindingFailed] = (),
    ) -> None:
        super().__init__(f"binding '{binding}': {reason}")
        self.binding = binding
        self.reason = reason
        self.result = result
        self.others = tuple(others)

    @property
    def wave(self) -> tuple[BindingFailed, ...]:
        """This failure and the others of its wave."""
        return (self, *self.others)


def capture_spec(source: str) -> CaptureSpec:
    """A plan's capture (``$.id``, ``header:Location``, ``status``) as the executor's capture spec."""
    if source == "status":
        return CaptureSpec(status=True)
    if source.startswith("header:"):
        return CaptureSpec(header=source[len("header:") :].strip())
    return CaptureSpec(json_path=source)


class DataResolver:
    def __init__(
        self,
        client: httpx.AsyncClient,
        catalogue: Catalogue,
        *,
        base_url: str,
        policy: EgressPolicy,
        environment: Mapping[str, Any],
        secrets: Mapping[str, str],
        seed: int | None,
        concurrency: int = 4,
        timeout_s: float = 30.0,
        record_body_limit: int = DEFAULT_BODY_LIMIT,
        record_header_limit: int = DEFAULT_HEADER_LIMIT,
        max_response_bytes: int = DEFAULT_RESPONSE_LIMIT,
        run: Mapping[str, Any] | None = None,
        busy_delays_s: Sequence[float] = BUSY_DELAYS_S,
    ) -> None:
        """``seed``: the run's seed; when None the plan's own seed is used (None too: new values each run).
        ``run``: what templates see as ``run`` (the run's id, ...). ``busy_delays_s``: the waits before
        each new attempt of a call or lookup the SUT answered busy (503, 429)."""
        self.client = client
        self.catalogue = catalogue
        self.base_url = base_url
        self.policy = policy
        self.environment = dict(environment)
        self.secrets = dict(secrets)
        self.seed = seed
        self.concurrency = max(1, concurrency)
        self.timeout_s = timeout_s
        self.body_limit = record_body_limit
        self.header_limit = record_header_limit
        self.max_response_bytes = max_response_bytes
        self.run = dict(run or {})
        self.busy_delays_s = tuple(busy_delays_s)

    async def resolve(
        self, plan: DataPlan, *, done: Mapping[str, Any], on_result: OnResult
    ) -> dict[str, Any]:
        """The value of every binding by name. Raises BindingFailed (after the wave's other calls ended and
        were reported; with every binding of the wave that failed), CycleError, or whatever ``on_result``
        raises."""
        seed = self.seed if self.seed is not None else plan.seed
        data: dict[str, Any] = {name: value for name, value in done.items() if name in plan.bindings}
        limit = asyncio.Semaphore(self.concurrency)
        logins = _Logins(self, plan, data, on_result)
        for level in waves(dependencies(plan)):
            calls: list[str] = []
            for name in level:
                if name in data:
                    continue
                binding = plan.bindings[name]
                if binding.call is None and binding.lookup is None:
                    data[name] = await self._local_value(name, binding, seed, data)
                else:
                    calls.append(name)
            snapshot = dict(data)
            outcomes = await asyncio.gather(
                *(self._reported(name, plan, snapshot, limit, on_result, logins) for name in calls),
                return_exceptions=True,
            )
            failures: list[BindingFailed] = []
            for name, outcome in zip(calls, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    raise outcome  # on_result failed (or a bug): stop here
                if outcome.status != "passed":
                    failures.append(BindingFailed(name, outcome.error or "failed", outcome))
                else:
                    data[name] = outcome.value
            if failures:
                first = failures[0]
                raise BindingFailed(first.binding, first.reason, first.result, others=failures[1:])
        return data

    async def _local_value(
        self, name: str, binding: Binding, seed: int | None, data: Mapping[str, Any]
    ) -> Any:
        if binding.generate is None:
            try:
                return await sandboxed(render_value, binding.value, self._scope(data))
            except TemplateError as error:
                raise BindingFailed(name, str(error)) from None
        generator = ValueGenerator(seed, name)
        try:
            if binding.generate.faker is not None:
                return generator.from_faker(binding.generate.faker, binding.generate.faker_args)
            assert binding.generate.json_schema is not None
            return generator.for_schema(binding.generate.json_schema, for_request=True)
        except GeneratorError as error:
            raise BindingFailed(name, str(error)) from None

    async def _reported(
        self,
        name: str,
        plan: DataPlan,
        data: dict[str, Any],
        limit: asyncio.Semaphore,
        on_result: OnResult,
        logins: _Logins,
    ) -> BindingResult:
        async with limit:
            result = await self._execute(name, plan, data)
            if result.status == "failed" and _status(result) == 401:
                renewed = await logins.renew(self._credential_sources(plan, name), data)
                if renewed is not None:
                    data = {**data, **renewed}
                    retried = await self._execute(name, plan, data)
                    result = dataclasses.replace(retried, attempts=result.attempts + 1)

            async def again(previous: BindingResult) -> BindingResult:
                retried = await self._execute(name, plan, data)
                return dataclasses.replace(retried, attempts=previous.attempts + 1)

            result = await again_while_busy(result, again, self.busy_delays_s)
        await on_result(result)
        return result

    def _credential_sources(self, plan: DataPlan, name: str) -> list[str]:
        """The calls whose values the binding's request sends in its headers or query (a log-in's token)."""
        binding = plan.bindings[name]
        request = binding.call or binding.lookup
        assert request is not None
        used: set[str] = set()
        for key, template in [*plan.defaults.headers.items(), *request.headers.items()]:
            used |= references(key).data | references(template).data
        for key, value in request.query.items():
            used |= references(key).data | (references(value).data if isinstance(value, str) else set())
        return sorted(other for other in used if other != name and plan.bindings.get(other, _NOT_A_CALL).call)

    # -- one call or lookup ------------------------------------------------------------------------------

    async def _execute(self, name: str, plan: DataPlan, data: dict[str, Any]) -> BindingResult:
        binding = plan.bindings[name]
        kind = "call" if binding.call is not None else "lookup"
        request = binding.call or binding.lookup
        assert request is not None
        started = time.perf_counter()

        def result(status: str, error: str | None = None, **fields: Any) -> BindingResult:
            elapsed = (time.perf_counter() - started) * 1000
            return BindingResult(
                name, kind, request.operation, status, error=error, duration_ms=round(elapsed, 3), **fields
            )

        scope = self._scope(data)
        try:
            built = await sandboxed(self._build, plan, request, scope, data)
        except (TemplateError, RequestProblem, httpx.InvalidURL, TypeError, ValueError) as error:
            return result("error", f"{request.operation}: {error}")
        recorded = record_request(built, self.body_limit, self.header_limit)
        try:
            with egress.applying(self.policy):
                response, elapsed_ms = await send(
                    self.client, built, timeout_ms=self.timeout_s * 1000, max_bytes=self.max_response_bytes
                )
        except EgressRefused as error:
            return result("error", error.reason, request=recorded)
        except httpx.HTTPError as error:
            reason = describe_transport_error(error, str(built.url), self.timeout_s * 1000)
            return result("error", reason, request=recorded)
        except ResponseTooLarge as error:
            return result("error", f"{request.operation}: {error}", request=recorded)
        answer = record_response(response, elapsed_ms, self.body_limit, self.header_limit)
        view = ResponseView.from_httpx(response, elapsed_ms)
        accepted = binding.call.expect_status if binding.call is not None else None
        if not (view.status in accepted if accepted else 200 <= view.status < 300):
            wanted = ", ".join(map(str, accepted)) if accepted else "2xx"
            reason = f"{request.operation} returned {view.status} (expected {wanted}): {view.text[:300]}"
            return result("failed", reason, request=recorded, response=answer)
        missing: str | None = None  # the call was accepted but its value is not in the response
        try:
            value = self._value(binding, view)
        except _NoValue as error:
            if binding.cleanup is None:  # a lookup, or a call that creates nothing to undo
                return result("failed", f"{request.operation}: {error}", request=recorded, response=answer)
            value, missing = error.partial, f"{request.operation}: {error}"
        fields = {"value": value, "request": recorded, "response": answer}
        try:
            undo = await sandboxed(self._undo, plan, binding, value, data)
        except (TemplateError, RequestProblem, httpx.InvalidURL, TypeError, ValueError) as error:
            reason = (
                f"the cleanup of '{name}' cannot be rendered, so it could not be undone: {error}; what it "
                "created is in the data ledger marked manual (remove it by hand)"
            )
            return result("failed", f"{missing}; {reason}" if missing else reason, manual=True, **fields)
        if missing is not None:  # what it created is undone at the end of the run like any other entity
            reason = f"{missing}; what it created is in the data ledger, to be undone"
            return result("failed", reason, undo=undo, **fields)
        return result("passed", undo=undo, **fields)

    def _scope(self, data: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        scope = build_scope(
            base_url=self.base_url,
            environment=self.environment,
            secrets=self.secrets,
            data=data,
            run=self.run,
        )
        scope.update(extra)
        return scope

    def _headers(
        self, plan: DataPlan, request: Request, scope: Mapping[str, Any], data: Mapping[str, Any]
    ) -> dict[str, str]:
        """Default headers (except those using a binding not available yet, e.g. the token's own call),
        then the request's own."""
        headers: dict[str, str] = {}
        for key, template in plan.defaults.headers.items():
            needed = references(key).data | references(template).data
            if needed <= data.keys():
                headers[str(render_value(key, scope))] = str(render_value(template, scope))
        for key, template in request.headers.items():
            headers[str(render_value(key, scope))] = str(render_value(template, scope))
        return headers

    def _build(
        self, plan: DataPlan, request: Request, scope: Mapping[str, Any], data: Mapping[str, Any]
    ) -> httpx.Request:
        operation = self.catalogue.get(request.operation)
        if operation is None:
            raise RequestProblem(f"operation '{request.operation}' is not in the API description")
        url = operation_url(self.base_url, operation, render_value(request.path, scope))
        kwargs: dict[str, Any] = {
            "params": query_params(render_value(request.query, scope)) or None,
            "headers": self._headers(plan, request, scope, data),
        }
        if request.body is not None:
            kwargs["json"] = render_value(request.body, scope)
        return self.client.build_request(operation.method, url, **kwargs)

    def _value(self, binding: Binding, view: ResponseView) -> Any:
        if binding.lookup is not None:
            if not view.is_json:
                raise _NoValue("the lookup's response is not JSON")
            try:
                found = find_values(binding.lookup.select, view.json_value)
            except Exception as error:  # jsonpath-ng raises various types for mismatched filters
                raise _NoValue(f"select {binding.lookup.select} could not be evaluated: {error}") from None
            if not found:
                raise _NoValue(f"the lookup found nothing ({binding.lookup.select} matched nothing)")
            return found[0]
        assert binding.call is not None
        if not binding.call.capture:
            return view.json_value if view.is_json else view.text
        specs = {name: capture_spec(source) for name, source in binding.call.capture.items()}
        values, failures = apply_captures(specs, view)
        if failures:
            raise _NoValue("; ".join(failure.message for failure in failures), partial=values)
        return values

    def _undo(self, plan: DataPlan, binding: Binding, value: Any, data: Mapping[str, Any]) -> HttpCall | None:
        """The cleanup rendered with ``self`` = the binding's value: an absolute call kept until done."""
        cleanup = binding.cleanup
        if cleanup is None:
            return None
        scope = self._scope(data, **{SELF_NAME: value})
        cleanup = Request.model_validate(with_renamed_self(cleanup.model_dump()))
        operation = self.catalogue.get(cleanup.operation)
        if operation is None:
            raise RequestProblem(f"cleanup operation '{cleanup.operation}' is not in the API description")
        url = httpx.URL(
            operation_url(self.base_url, operation, render_value(cleanup.path, scope)),
            params=query_params(render_value(cleanup.query, scope)) or None,
        )
        body = render_value(cleanup.body, scope) if cleanup.body is not None else None
        return HttpCall(operation.method, str(url), self._headers(plan, cleanup, scope, data), body)


class _Logins:
    """The calls a resolve re-runs when the SUT answers 401 (a log-in whose token expired): one renewal at
    a time; a call that sent a value another call already renewed just takes the new one."""

    def __init__(self, resolver: DataResolver, plan: DataPlan, data: dict[str, Any], on_result: OnResult):
        self.resolver = resolver
        self.plan = plan
        self.data = data  # the resolve's values: a renewed value replaces the old one for later bindings
        self.on_result = on_result
        self.lock = asyncio.Lock()
        self.renewals: dict[str, int] = {}  # log-in → times re-run in this resolve

    async def renew(self, names: list[str], used: Mapping[str, Any]) -> dict[str, Any] | None:
        """The new values of ``names`` (the ones ``used`` had), or None: nothing to renew, a log-in re-run
        ``MAX_RENEWALS`` times already, or a renewal failed (reported)."""
        if not names:
            return None
        async with self.lock:
            fresh: dict[str, Any] = {}
            for name in names:
                if name in self.data and self.data[name] is not used.get(name):
                    fresh[name] = self.data[name]  # renewed since the call was built
                    continue
                if self.renewals.get(name, 0) >= MAX_RENEWALS:
                    return None  # renewed already and still 401: not an expired token
                self.renewals[name] = self.renewals.get(name, 0) + 1
                result = await self.resolver._execute(name, self.plan, {**used, **fresh})
                await self.on_result(result)
                if result.status != "passed":
                    return None
                self.data[name] = fresh[name] = result.value
            return fresh


def _status(result: BindingResult) -> int | None:
    status = (result.response or {}).get("status")
    return status if isinstance(status, int) else None


_NOT_A_CALL = Binding(value=None)


class _NoValue(Exception):
    """A call answered as accepted, but the value the binding needs is not in the response. ``partial``:
    the captures that were found (a cleanup that needs only those can still be rendered)."""

    def __init__(self, message: str, partial: Any = None) -> None:
        super().__init__(message)
        self.partial = partial
