"""Turning a rendered request of a plan into HTTP: the URL of an operation, sending under the egress policy
with a size limit, and undoing a created entity later (``perform_undo``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy, EgressRefused
from orchestra.openapi.operations import Operation
from orchestra.steps.http_call import HttpCall
from orchestra.steps.recording import record_request, record_response
from orchestra.testdata.records import UndoOutcome

DEFAULT_RESPONSE_LIMIT = 33_554_432
DEFAULT_BODY_LIMIT = 65_536
DEFAULT_HEADER_LIMIT = 8_192


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


async def send(
    client: httpx.AsyncClient, request: httpx.Request, *, timeout_s: float, max_bytes: int
) -> tuple[httpx.Response, float]:
    """The response with its body read (at most ``max_bytes``), and its time in ms. The request is checked
    against the current egress policy first; the guarded transport checks again and checks addresses."""
    url = request.url
    if url.scheme in ("http", "https") and url.host:
        egress.current_policy().check_host(url.host)
    request.extensions["timeout"] = httpx.Timeout(timeout_s).as_dict()
    started = time.perf_counter()
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():  # decoded: a gzip bomb is caught as it inflates
            size += len(chunk)
            if size > max_bytes:
                raise RequestProblem(f"the response body is larger than {max_bytes} bytes")
            chunks.append(chunk)
    finally:
        await response.aclose()
    full = httpx.Response(
        status_code=response.status_code,
        headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"],
        content=b"".join(chunks),
        request=request,
    )
    return full, (time.perf_counter() - started) * 1000


def describe_transport_error(error: httpx.HTTPError, url: str, timeout_s: float) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"request to {url} timed out after {timeout_s:g} s ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {url}: {error or 'connection failed'}"
    return f"request to {url} failed: {type(error).__name__}: {error}"


async def perform_undo(
    client: httpx.AsyncClient,
    call: HttpCall,
    policy: EgressPolicy,
    *,
    timeout_s: float,
    body_limit: int = DEFAULT_BODY_LIMIT,
    header_limit: int = DEFAULT_HEADER_LIMIT,
) -> UndoOutcome:
    """Send a sealed undo call: 2xx → done, 404/410 → gone (someone removed it already), else failed."""
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
                client, request, timeout_s=timeout_s, max_bytes=DEFAULT_RESPONSE_LIMIT
            )
    except EgressRefused as error:
        return UndoOutcome("failed", recorded, error=f"{call.method} {call.url} refused: {error.reason}")
    except httpx.HTTPError as error:
        return UndoOutcome("failed", recorded, error=describe_transport_error(error, call.url, timeout_s))
    except RequestProblem as error:
        return UndoOutcome("failed", recorded, error=str(error))
    answer = record_response(response, elapsed, body_limit, header_limit)
    if 200 <= response.status_code < 300:
        return UndoOutcome("done", recorded, answer)
    if response.status_code in (404, 410):
        return UndoOutcome("gone", recorded, answer)
    reason = f"{call.method} {call.url} returned {response.status_code}: {response.text[:200]}"
    return UndoOutcome("failed", recorded, answer, error=reason)
