"""A request step's ``pre_request_script`` and ``test_script``, run around its request.

The pre-request scripts run before the request is rendered, so the variables they set are in its templates;
the test scripts run on the final response. Each ``pm.test`` (and each legacy ``tests["…"]``) becomes a named
check of the step; a script that throws, loops past its time limit or exceeds its memory ends the step in
error with the reason (a JavaScript error with its line). Every Postman variable scope reads and writes the
run's variables (iteration data is empty: a data row's values are variables already).

A script's ``pm.sendRequest`` is sent by ``ScriptRequests`` with the step's HTTP client, under the step's
egress policy, request rate and response size limit, like any request of the step. A refused or failed
request is the error the script's callback gets (a plain object with a Node.js-like ``code`` and a
``message``). Each request is recorded as a check of the step (``pm.sendRequest``): passed when it was
answered (whatever its status), failed when it was not, which fails the step, as newman counts such a
request as a failed one of the run.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from orchestra.kit.egress import EgressRefused
from orchestra.steps.expectations import AssertionResult
from orchestra.steps.http_send import Pace, ResponseTooLarge, describe_transport_error, send
from orchestra.steps.outcome import NextRequest
from orchestra.steps.response import ResponseView
from orchestra.steps.scripts.runner import POOL, ScriptResult

_PHRASES = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class ScriptsOutcome:
    """The checks the scripts made, the variables they set (removed ones as None), the first error, and
    the last setNextRequest (None: no script called it)."""

    checks: list[AssertionResult] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    next_request: NextRequest | None = None


def scripts_of(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _plain(value: Any) -> Any:
    """JSON data the sandbox can take (secrets and other objects as text)."""
    return json.loads(json.dumps(value, default=str))


def _request_state(request: Mapping[str, Any]) -> dict[str, Any]:
    headers = request.get("headers")
    body = request.get("body")
    if body is None and request.get("json") is not None:
        body = json.dumps(request.get("json"), ensure_ascii=False, separators=(",", ":"))  # as it is sent
    return {
        "url": str(request.get("url", "")),
        "method": str(request.get("method", "GET")).upper(),
        "headers": [[str(k), str(v)] for k, v in headers.items()] if isinstance(headers, Mapping) else [],
        "body": None if body is None else str(body),
    }


def _response_state(view: ResponseView) -> dict[str, Any]:
    return {
        "code": view.status,
        "status": _PHRASES.get(view.status, ""),
        "headers": [[str(k), str(v)] for k, v in view.headers.items()],
        "body": view.text,
        "responseTime": round(view.elapsed_ms),
    }


class ScriptRequests:
    """Sends the requests of a step's scripts (pm.sendRequest) and keeps a line about each."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeout_ms: float,
        max_bytes: int,
        pace: Pace | None = None,
    ) -> None:
        self.client = client
        self.timeout_ms = timeout_ms
        self.max_bytes = max_bytes
        self.pace = pace
        self.log: list[AssertionResult] = []

    def _note(self, spec: Mapping[str, Any], status: int | None, text: str) -> None:
        method, url = str(spec.get("method", "GET")), str(spec.get("url", ""))[:500]
        answered = status is not None
        self.log.append(AssertionResult("pm.sendRequest", answered, None, status, f"{method} {url} → {text}"))

    def _failed(self, spec: Mapping[str, Any], code: str, message: str) -> dict[str, Any]:
        self._note(spec, None, f"not answered: {message}")
        return {"error": message, "code": code}

    async def __call__(self, spec: dict[str, Any]) -> dict[str, Any]:
        url = str(spec.get("url", ""))
        if "://" not in url:
            url = "http://" + url  # as Postman sends it
        headers = [(str(k), str(v)) for k, v in spec.get("headers") or []]
        try:
            kwargs: dict[str, Any] = {"headers": headers}
            if spec.get("multipart") is not None:
                kwargs["files"] = [(str(k), (None, str(v))) for k, v in spec["multipart"]]
            elif spec.get("body") is not None:
                kwargs["content"] = str(spec["body"]).encode()
            request = self.client.build_request(str(spec.get("method", "GET")).upper(), url, **kwargs)
            if "files" in kwargs:
                request.read()
        except Exception as error:  # an invalid URL, a header value that is not ASCII
            return self._failed(spec, "EINVAL", f"cannot build the request: {type(error).__name__}: {error}")
        try:
            response, elapsed_ms = await send(
                self.client,
                request,
                timeout_ms=self.timeout_ms,
                max_bytes=self.max_bytes,
                follow_redirects=True,  # as Postman's sendRequest
                pace=self.pace,
                limit_name="ORCHESTRA_MAX_RESPONSE_BYTES",
            )
        except httpx.HTTPError as error:
            message = describe_transport_error(error, str(request.url), self.timeout_ms)
            return self._failed(spec, _error_code(error), message)
        except EgressRefused as error:
            return self._failed(spec, "EGRESS_REFUSED", str(error))
        except ResponseTooLarge as error:
            return self._failed(spec, "ERESPONSE_TOO_LARGE", str(error))
        answer = _response_state(ResponseView.from_httpx(response, elapsed_ms))
        self._note(spec, response.status_code, f"{response.status_code} in {round(elapsed_ms)} ms")
        return {"response": answer}


def _error_code(error: httpx.HTTPError) -> str:
    """Node.js's code for a transport failure (what newman's callbacks see), as near as it can be told: from
    the operating system's error under it, else from the kind of failure."""
    names = {errno.ECONNREFUSED: "ECONNREFUSED", errno.ECONNRESET: "ECONNRESET", errno.ETIMEDOUT: "ETIMEDOUT"}
    names |= {errno.EHOSTUNREACH: "EHOSTUNREACH", errno.ENETUNREACH: "ENETUNREACH"}
    pending: list[BaseException | None] = [error]
    seen: set[int] = set()
    while pending:  # the causes, and the attempts of a group, under the error
        cause = pending.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in names:
            return names[cause.errno]
        pending += [cause.__cause__, cause.__context__, *getattr(cause, "exceptions", ())]
    if isinstance(error, httpx.TimeoutException):
        return "ETIMEDOUT"
    if "cannot resolve" in str(error):
        return "ENOTFOUND"
    if isinstance(error, httpx.RemoteProtocolError | httpx.ReadError):
        return "ECONNRESET"
    return "EREQUEST"


async def run_scripts(
    scripts: list[str],
    *,
    phase: str,
    step_name: str,
    variables: Mapping[str, Any],
    request: Mapping[str, Any],
    view: ResponseView | None = None,
    requests: ScriptRequests | None = None,
    scope: str | None = None,
) -> ScriptsOutcome:
    """Run ``scripts`` in order, each seeing the variables the ones before it set. ``requests``: sends
    their pm.sendRequest calls (none: a script that calls it ends in error). ``scope``: whose scripts they
    are (the tenant): script contexts are reused only within one."""
    outcome = ScriptsOutcome()
    current = _plain(dict(variables))
    label = "pre-request script" if phase == "prerequest" else "test script"
    exchange = {  # the same for every script of the step
        "request": _request_state(request),
        "response": _response_state(view) if view is not None else None,
    }
    for index, script in enumerate(scripts):
        state = {"phase": phase, "requestName": step_name, "variables": current, "data": {}, **exchange}
        result: ScriptResult = await POOL.run(script, state, send=requests, scope=scope)
        if requests is not None:
            outcome.checks.extend(requests.log)
            requests.log.clear()
        for test in result.tests:
            name = str(test.get("name", ""))[:200] or "unnamed test"
            passed = bool(test.get("passed"))
            message = "passed" if passed else str(test.get("error") or "failed")[:2000]
            checks = AssertionResult(f"{label} test", passed, None, None, message)
            outcome.checks.append(checks.named(name))
        if result.next_set:
            outcome.next_request = NextRequest(result.next_request)
        for name, value in result.changed.items():
            current[name] = value
            outcome.variables[name] = value
        for name in result.removed:
            current.pop(name, None)
            outcome.variables[name] = None
        if result.error:
            where = f"{label} {index + 1} of {len(scripts)}" if len(scripts) > 1 else label
            outcome.error = f"{where}: {result.error}"
            break
    return outcome
