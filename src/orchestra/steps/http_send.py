"""The one way Orchestra sends a request to a SUT: test steps, test-data calls, clean-ups and sweeps all
send through ``send``.

Every request (and every redirect hop, which is followed here one at a time) is checked against the
current egress policy (kit/egress.py) before it waits for a request-rate slot or is sent; the guarded
transport checks again and checks the addresses of new connections. The body is read up to a limit, as
decoded bytes, so a gzip bomb is caught as it inflates.

Cookies the SUT sets are kept for the run that received them (``run_cookies``) and sent back with that
run's later requests to the same site, as a browser, Postman or newman keep them for one session; the client
that sends every run's requests keeps none of its own (kit/egress_http.py), so no cookie goes to another
run, project or tenant. A ``Cookie`` header a request writes itself is sent as written.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import httpx

from orchestra.kit import egress, metrics, tracing
from orchestra.kit.egress import EgressRefused

Pace = Callable[[], Awaitable[None]]  # waits for the request's turn in the SUT's request rate
MAX_REDIRECTS = 20
_cookies: ContextVar[httpx.Cookies | None] = ContextVar("orchestra_run_cookies", default=None)


@contextmanager
def run_cookies() -> Iterator[None]:
    """The cookie jar of one run: what its SUT sets while it runs, sent back by its later requests (each
    request's, each redirect hop's site) and forgotten when it ends."""
    token = _cookies.set(httpx.Cookies())
    try:
        yield
    finally:
        _cookies.reset(token)


class ResponseTooLarge(Exception):
    """The response body is larger than the limit; the message says which limit."""


async def send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    timeout_ms: float,
    max_bytes: int,
    follow_redirects: bool = False,
    pace: Pace | None = None,
    limit_name: str = "",
) -> tuple[httpx.Response, float]:
    """The response with its body read (at most ``max_bytes``), and its time in ms, the waits for
    request-rate slots excluded. Raises EgressRefused (the message names the hop), httpx.HTTPError for
    transport failures and ResponseTooLarge. ``limit_name``: the setting that sets ``max_bytes``, named in
    the error."""
    started = time.perf_counter()
    request.extensions["timeout"] = httpx.Timeout(timeout_ms / 1000).as_dict()
    tracing.inject(request.headers)  # traceparent of the step's span, when traces are on
    try:
        response, paced = await _open(client, request, follow_redirects, pace)
    except httpx.HTTPError:
        _observe(None, time.perf_counter() - started)
        raise
    started += paced
    _observe(response.status_code, time.perf_counter() - started)
    declared = response.headers.get("content-length", "")
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    if not encoded and declared.isdigit() and int(declared) <= max_bytes:
        await response.aread()  # the common case: a plain body of a declared, acceptable size
        return response, (time.perf_counter() - started) * 1000
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():  # decoded bytes: a gzip bomb is caught as it inflates
            size += len(chunk)
            if size > max_bytes:
                setting = f" ({limit_name})" if limit_name else ""
                raise ResponseTooLarge(f"response body is larger than {max_bytes} bytes{setting}")
            chunks.append(chunk)
    finally:
        await response.aclose()
    # A complete response over the decoded body; the original headers are kept for checks and records.
    plain = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    full = httpx.Response(
        status_code=response.status_code,
        headers=plain,
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
    )
    full.headers = response.headers
    return full, (time.perf_counter() - started) * 1000


def _observe(status_code: int | None, seconds: float) -> None:
    """``orchestra_sut_request_duration_seconds``: until the response's head (or the transport error)."""
    metrics.observe_sut_request(_current_environment(), status_code, seconds)


def _current_environment() -> str:
    try:
        return egress.current_policy().environment
    except EgressRefused:
        return ""


async def _open(
    client: httpx.AsyncClient, request: httpx.Request, follow_redirects: bool, pace: Pace | None
) -> tuple[httpx.Response, float]:
    """Send, following redirects hop by hop so that every hop is checked against the egress policy and
    waits for its request-rate slot; returns the final (streaming) response and the seconds spent waiting
    for slots."""
    paced, hops, timeout = 0.0, 0, request.extensions["timeout"]
    while True:
        _check_egress(request, hops)
        if pace is not None:
            waiting = time.perf_counter()
            await pace()
            paced += time.perf_counter() - waiting
        jar = _cookies.get()
        if jar:  # some kept: the ones for this site, when the request writes no Cookie header itself
            jar.set_cookie_header(request)
        try:
            response = await _send_one(client, request, follow_redirects)
        except EgressRefused as error:  # the transport's checks: the address of a new connection
            raise _refused(request.url, hops, error) from None
        if jar is not None and "set-cookie" in response.headers:
            jar.extract_cookies(response)
        if not follow_redirects or response.next_request is None:
            return response, paced
        request = response.next_request
        await response.aclose()
        hops += 1
        if hops > MAX_REDIRECTS:
            raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=request)
        request.extensions["timeout"] = timeout


async def _send_one(
    client: httpx.AsyncClient, request: httpx.Request, follow_redirects: bool
) -> httpx.Response:
    """One request, its response streaming. Followed redirects go through the client, which builds the next
    hop's request (``response.next_request``: method, body and headers as a redirect changes them). A request
    whose redirects are not followed goes straight to the client's transport: what the client adds around it
    (its redirect, auth and cookie handling, a stream wrapper that times the body, a log line) is done here
    or not needed (this client keeps no cookies, has no auth, and ``send`` times the response itself), and
    it cost about a quarter of a millisecond a request: a good part of a step's own work."""
    if follow_redirects:
        return await client.send(request, stream=True, follow_redirects=False)
    transport = client._transport_for_url(request.url)  # the client's choice (its mounts)
    try:
        response = await transport.handle_async_request(request)
    except httpx.RequestError as error:
        error.request = request  # as the client attaches it
        raise
    response.request = request
    return response


def _check_egress(request: httpx.Request, hop: int) -> None:
    """Other schemes than http(s) are left to httpx to refuse."""
    url = request.url
    if url.scheme in ("http", "https") and url.host:
        try:
            egress.current_policy().check_host(url.host)
        except EgressRefused as error:
            raise _refused(url, hop, error) from None


def _refused(url: httpx.URL, hop: int, error: EgressRefused) -> EgressRefused:
    what = f"redirect {hop} to" if hop else "request to"
    return EgressRefused(f"{what} {url} refused: {error.reason}")


def describe_transport_error(error: httpx.HTTPError, url: str, timeout_ms: float) -> str:
    """A transport failure (no response) as a user reads it in a step's error."""
    if isinstance(error, httpx.TimeoutException):
        return f"request to {url} timed out after {timeout_ms:g} ms ({type(error).__name__})"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect to {url}: {error or 'connection failed'}"
    return f"request to {url} failed: {type(error).__name__}: {error}"
