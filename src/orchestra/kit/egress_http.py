"""An httpx client that enforces the egress policy (``kit/egress.py``) on every request and connection.

**Hosts** are checked per request, before anything is sent (:class:`EgressTransport`), against the policy of
the request in flight (``egress.applying``); a request without a policy is refused.

**Addresses** are checked per connection, by the network backend that opens it
(:class:`GuardedNetworkBackend`): it resolves the host itself, checks every address the resolver returned,
and connects to one of exactly those addresses. Checking a name first and letting the connection resolve it
again would leave a gap in which a DNS answer with a short TTL can change (DNS rebinding); here the address
that was checked is the address connected to. TLS is unaffected: httpcore passes the host name to
``start_tls`` as ``server_hostname`` separately (``httpcore/_async/connection.py``), so SNI and certificate
verification use the name, and the Host header comes from the URL.

**Pooled connections.** httpcore keeps keep-alive connections per origin (scheme, host, port) and reuses
them without connecting again, so the address check of a reused connection is the one made when it was
opened, possibly under another run's policy. That is safe because the address check depends on one thing
only, ``allow_private``: connections of policies that allow private networks live in a pool of their own,
and the strict pool's backend refuses private addresses whatever the policy says. A connection opened under
any strict policy is therefore valid for every strict policy, and likewise for the permissive pool. Which
*hosts* a run may reach is checked on every request, reused connection or not. A connection, once open,
stays bound to the address that was checked; it is never re-resolved.

Proxies are never used (``trust_env=False``): a proxy would resolve and connect on our behalf, out of reach
of the address check.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlsplit

import httpcore
import httpx

from orchestra.kit import egress
from orchestra.kit.egress import EgressRefused

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
# An idle kept-alive connection is reused for at most this long. Servers close idle connections after their
# own keep-alive timeout (uvicorn, Node.js and Apache after 5 s, gunicorn after 2 s); a client that reuses one
# as the server closes it loses the request ("Server disconnected without sending a response"), which httpx's
# default of 5 s invites against every 5-second server. One second keeps back-to-back steps on one connection.
KEEPALIVE_EXPIRY_S = 1.0
DEFAULT_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_EXPIRY_S
)


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (IP literals and odd IPv4 forms included, which
    ``getaddrinfo`` turns into the address they mean), in its order of preference, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address against the current policy, then connects to a checked address.

    ``allow_private``: whether this backend's pool may connect to private addresses at all (the policy must
    allow them too). ``resolver``: for tests; by default :func:`system_resolve`, looked up at call time."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        policy = egress.current_policy()
        if policy.allow_private and not self.allow_private:  # the strict pool stays strict, whatever asks
            policy = dataclasses.replace(policy, allow_private=False)
        deadline = None if timeout is None else time.monotonic() + timeout
        addresses = await self._resolve(host, port, timeout)
        for address in addresses:  # every answer must pass: a mixed answer is a rebinding attempt
            policy.check_address(address, host)
        error: Exception | None = None
        for address in addresses:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=remaining,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as failure:
                error = failure
        assert error is not None  # the resolver returned at least one address
        raise error

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        resolve = self.resolver or system_resolve
        try:
            async with asyncio.timeout(timeout):
                addresses = list(await resolve(host, port))
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from None
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {error.strerror or error}") from None
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: no addresses")
        return addresses

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("Unix sockets are never allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _GuardedPool(httpx.AsyncHTTPTransport):
    """httpx's own transport (request/response conversion, exception mapping, limits, HTTP/2, TLS
    settings), with its connection pool rebuilt around a guarded backend."""

    def __init__(
        self,
        backend: GuardedNetworkBackend,
        *,
        limits: httpx.Limits,
        http2: bool,
        verify: ssl.SSLContext | bool,
        retries: int,
    ) -> None:
        super().__init__(verify=verify, trust_env=False, http2=http2, limits=limits, retries=retries)
        default = self._pool
        if type(default) is not httpcore.AsyncConnectionPool:  # httpx changed: do not run unguarded
            raise RuntimeError(f"unexpected httpx connection pool {type(default).__name__}")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=default._ssl_context,  # what httpx built from ``verify``, reused as is
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            retries=retries,
            network_backend=backend,
        )


class EgressTransport(httpx.AsyncBaseTransport):
    """Checks each request's host against the current policy, then sends it through the pool of its kind
    (strict, or allowing private networks; see the module docstring) and of its scheme: plain HTTP pools
    never open TLS, so a process that sends only plain HTTP never loads the CA certificates (tens of
    milliseconds). ``limits`` apply to each pool."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        http2: bool = False,
        verify: bool = True,
        retries: int = 0,
        resolver: Resolver | None = None,
    ) -> None:
        self._limits, self._http2, self._verify, self._retries = limits, http2, verify, retries
        self._resolver = resolver
        # Made at their first request; the TLS pools share one context, made at the first HTTPS request.
        self._ssl_context: ssl.SSLContext | None = None
        self._pools: dict[tuple[bool, bool], _GuardedPool] = {}  # by (allow_private, tls)

    def _tls_context(self, tls: bool) -> ssl.SSLContext:
        if not tls:
            # A plain HTTP pool's: never used for a handshake (HTTPS requests go to the TLS pools), and one
            # that would fail (no CA is trusted) rather than connect unverified.
            return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(verify=self._verify, trust_env=False)
        return self._ssl_context

    def _pool(self, allow_private: bool, tls: bool) -> _GuardedPool:
        pool = self._pools.get((allow_private, tls))
        if pool is None:
            backend = GuardedNetworkBackend(allow_private=allow_private, resolver=self._resolver)
            pool = _GuardedPool(
                backend,
                limits=self._limits,
                http2=self._http2,
                verify=self._tls_context(tls),
                retries=self._retries,
            )
            self._pools[allow_private, tls] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy = egress.current_policy()
        if request.url.scheme in ("http", "https") and request.url.host:
            policy.check_host(request.url.host)
        pool = self._pool(policy.allow_private, tls=request.url.scheme != "http")
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        failed: list[Exception] = []
        for pool in pools:  # each one closed, whatever the others do
            try:
                await pool.aclose()
            except Exception as error:
                failed.append(error)
        if failed:
            raise failed[0]


def guarded_client(
    *, limits: httpx.Limits = DEFAULT_LIMITS, http2: bool = False, resolver: Resolver | None = None
) -> httpx.AsyncClient:
    """An AsyncClient for requests made on behalf of test definitions: egress-guarded, no proxies, no
    environment-supplied settings, no cookies kept (one client serves every run and tenant: a run keeps
    its own, steps/http_send.py). Send within ``egress.applying(policy)``."""
    transport = EgressTransport(limits=limits, http2=http2, resolver=resolver)
    keeps_none = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(transport=transport, trust_env=False, cookies=keeps_none)


async def points_at_private_network(url: str, resolver: Resolver | None = None) -> bool:
    """Whether the URL's host is loopback or private: by itself (``localhost``, ``127.0.0.1``, ``10.1.2.3``)
    or by every address it resolves to here (e.g. a container name such as ``http://sut:8080``)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if not host:
        return False
    if egress.is_private_literal(host):
        return True
    try:
        addresses = await (resolver or system_resolve)(host, port)
    except OSError:
        return False
    verdicts = [egress.classify(egress.parse_address(address)) for address in addresses]
    return bool(verdicts) and all(verdict is not None and verdict[0] == "private" for verdict in verdicts)
