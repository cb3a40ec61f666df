"""Turning a rendered request of a plan into HTTP: the URL of an operation, its query values, and undoing a
created entity later (``perform_undo``). Requests go out through the one send of steps/http_send.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx

from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy, EgressRefused
from orchestra.openapi.operations import Operation
from orchestra.steps.http_call import HttpCall
from orchestra.steps.http_send import ResponseTooLarge, describe_transport_error, send
from orchestra.steps.recording import record_request, record_response
from orchestra.testdata.records import UndoOutcome

DEFAULT_RESPONSE_LIMIT = 33_554_432
DEFAULT_BODY_LIMIT = 65_536
DEFAULT_HEADER_LIMIT = 8_192
BUSY_STATUSES = (429, 503)  # the SUT cannot answer now: an undo, a call or a lookup is sent again
BUSY_DELAYS_S = (0.5, 1.0, 2.0)  # waits before each new attempt of an undo answered busy


class RequestProblem(Exception):
    """The request cannot be built or sent; the message says why (no response exists)."""


def operation_url(base_url: str, operation: Operation, path_values: Mapping[str, Any]) -> str:
    """``base_url`` + the operation's path with every ``{param}`` replaced by its URL-encoded value."""
    path = operation.path
    for parameter in operation.parameters:
        if parameter.location != "path":
            continue
        marker = "{" + parameter.name + "}"
        if marker not in path:
            continue
        if parameter.name not in path_values or path_values[parameter.name] is None:
            raise RequestProblem(
                f"path parameter '{parameter.name}' of {operation.operation_id} has no value"
            )
        path = path.replace(marker, quote(_text(path_values[parameter.name]), safe=""))
    for name, value in path_values.items():  # path templates the description does not declare
        path = path.replace("{" + name + "}", quote(_text(value), safe=""))
    if "{" in path and "}" in path:
        raise RequestProblem(f"the path {path} of {operation.operation_id} still has unfilled parameters")
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Query values as httpx sends them: None left out, booleans as true/false, lists repeated."""
    params: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        params[name] = [_text(item) for item in value] if isinstance(value, list) else _text(value)
    return params


async def perform_undo(
    client: httpx.AsyncClient,
    call: HttpCall,
    policy: EgressPolicy,
    *,
    timeout_s: float,
    body_limit: int = DEFAULT_BODY_LIMIT,
    header_limit: int = DEFAULT_HEADER_LIMIT,
    busy_delays_s: Sequence[float] = BUSY_DELAYS_S,
) -> UndoOutcome:
    """Send a sealed undo call: 2xx → done, 404/410 → gone (someone removed it already), else failed. A SUT
    too busy to answer it (503, 429: a locked database, a rate limit) gets it again after each of
    ``busy_delays_s`` (or the shorter ``Retry-After`` it asks for): a refusal that says "later" is not a
    failure of the undo."""

    async def again(_: UndoOutcome) -> UndoOutcome:
        return await _undo_once(client, call, policy, timeout_s, body_limit, header_limit)

    first = await _undo_once(client, call, policy, timeout_s, body_limit, header_limit)
    return await again_while_busy(first, again, busy_delays_s)


class _Answered(Protocol):
    """An undo's outcome or a binding's result: its status, and the SUT's answer as recorded."""

    @property
    def status(self) -> str: ...

    @property
    def response(self) -> dict[str, Any] | None: ...


Answered = TypeVar("Answered", bound=_Answered)


async def again_while_busy(
    outcome: Answered, again: Callable[[Answered], Awaitable[Answered]], delays_s: Sequence[float]
) -> Answered:
    """``outcome`` of a request, or — while it failed because the SUT was busy (503, 429: a locked database,
    a rate limit) — what ``again(previous)`` gives after each of ``delays_s`` (or the shorter
    ``Retry-After`` the SUT asks for): a refusal that says "later" is not a failure."""
    for delay in delays_s:
        status = (outcome.response or {}).get("status")
        if outcome.status != "failed" or status not in BUSY_STATUSES:
            break
        await asyncio.sleep(retry_after(outcome.response, delay))
        outcome = await again(outcome)
    return outcome


def retry_after(response: Mapping[str, Any] | None, delay: float) -> float:
    """The SUT's ``Retry-After`` in seconds when it is shorter than ``delay``, else ``delay``."""
    headers = (response or {}).get("headers") or {}
    asked = next((value for name, value in headers.items() if str(name).lower() == "retry-after"), None)
    try:
        return min(delay, max(0.0, float(asked))) if asked is not None else delay
    except (TypeError, ValueError):  # an HTTP date: wait the usual delay
        return delay


async def _undo_once(
    client: httpx.AsyncClient,
    call: HttpCall,
    policy: EgressPolicy,
    timeout_s: float,
    body_limit: int,
    header_limit: int,
) -> UndoOutcome:
    kwargs: dict[str, Any] = {"headers": call.headers or None}
    if call.body is not None:
        kwargs["json"] = call.body
    try:
        request = client.build_request(call.method, call.url, **kwargs)
    except (httpx.InvalidURL, ValueError) as error:
        return UndoOutcome("failed", error=f"the undo call cannot be built: {error}")
    recorded = record_request(request, body_limit, header_limit)
    try:
        with egress.applying(policy):
            response, elapsed = await send(
                client, request, timeout_ms=timeout_s * 1000, max_bytes=DEFAULT_RESPONSE_LIMIT
            )
    except EgressRefused as error:
        return UndoOutcome("failed", recorded, error=f"{call.method} {error.reason}")
    except httpx.HTTPError as error:
        return UndoOutcome(
            "failed", recorded, error=describe_transport_error(error, call.url, timeout_s * 1000)
        )
    except ResponseTooLarge as error:
        return UndoOutcome("failed", recorded, error=str(error))
    answer = record_response(response, elapsed, body_limit, header_limit)
    if 200 <= response.status_code < 300:
        return UndoOutcome("done", recorded, answer)
    if response.status_code in (404, 410):
        return UndoOutcome("gone", recorded, answer)
    reason = f"{call.method} {call.url} returned {response.status_code}: {response.text[:200]}"
    return UndoOutcome("failed", recorded, answer, error=reason)
