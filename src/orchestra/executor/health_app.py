"""Health endpoints of a stand-alone executor process, for orchestrators (liveness and readiness).

``GET /health/live`` (the process) and ``GET /health/ready`` (its dependencies; 503 with the failing checks),
each a small JSON document with the executor's owner id, and ``GET /metrics``, the process's Prometheus
metrics (with ``ORCHESTRA_METRICS_TOKEN`` set, only for a bearer of that token). They are served by a
minimal HTTP/1.1 responder on asyncio streams rather than by an ASGI framework and server: three fixed
routes do not justify keeping those in the memory of every executor. One request per connection, read
within a time limit and a size limit.

The server takes the process's readiness check and the executor's owner id rather than the runtime, so the
executor package does not import the wiring that builds it (runtime.py). It may listen before they exist
(the process waits for the database first): it is then live, and not ready ("starting").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

import structlog

from orchestra.kit import metrics

log = structlog.get_logger(__name__)

Readiness = Callable[[], Awaitable[dict[str, str]]]

_MAX_REQUEST_BYTES = 8192
_READ_TIMEOUT_S = 5.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


async def _starting() -> dict[str, str]:
    return {"executor": "starting"}


class HealthServer:
    def __init__(self, *, metrics_token: str | None = None) -> None:
        self._metrics_token = metrics_token
        self._readiness: Readiness = _starting
        self._owner = ""
        self._server: asyncio.Server | None = None

    def attach(self, readiness: Readiness, owner: str) -> None:
        """``readiness``: each dependency of the process and whether it is usable ("ok" when it is);
        ``owner``: the executor's id, shown so an orchestrator can tell the incarnations apart."""
        self._readiness = readiness
        self._owner = owner

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._serve, host, port, limit=_MAX_REQUEST_BYTES)

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when started on port 0)."""
        assert self._server is not None, "not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def answer(self, method: str, path: str) -> tuple[int, dict[str, object]]:
        """The status and JSON body for a request line's method and path."""
        route = path.split("?", 1)[0]
        if route not in ("/health/live", "/health/ready"):
            return 404, {"detail": "not found"}
        if method not in ("GET", "HEAD"):
            return 405, {"detail": "method not allowed"}
        if route == "/health/live":
            return 200, {"status": "ok", "owner": self._owner}
        checks = await self._readiness()
        healthy = all(value == "ok" for value in checks.values())
        body: dict[str, object] = {
            "status": "ok" if healthy else "unavailable",
            "checks": checks,
            "owner": self._owner,
        }
        return (200 if healthy else 503), body

    def scrape(self, authorization: str | None) -> tuple[int, bytes, str]:
        """``/metrics``: the status, body and content type (401 without the configured token)."""
        status = metrics.scrape_status(authorization, self._metrics_token, open_without_token=True)
        if status != 200:
            return (
                status,
                json.dumps({"detail": "a valid bearer token is required"}).encode(),
                "application/json",
            )
        body, content_type = metrics.exposition()
        return 200, body, content_type

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status: int
        body: dict[str, object]
        try:
            try:
                async with asyncio.timeout(_READ_TIMEOUT_S):
                    head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ")
            except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                status, body = 400, {"detail": "bad request"}
                method = "GET"  # a body to say so
                path = ""
            else:
                status, body = await self.answer(method, path)
            content_type = "application/json"
            payload = json.dumps(body).encode()
            if path.split("?", 1)[0] == "/metrics" and method in ("GET", "HEAD"):
                status, payload, content_type = self.scrape(_header(lines[1:], "authorization"))
            writer.write(
                (
                    f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
                    f"Content-Type: {content_type}\r\n"
                    f"Content-Length: {len(payload)}\r\n"
                    "Connection: close\r\n\r\n"
                ).encode("latin-1")
                + (payload if method != "HEAD" else b"")
            )
            await writer.drain()
        except (ConnectionError, OSError):
            pass  # the prober went away
        except Exception:
            log.exception("executor.health_request_failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


def _header(lines: list[str], name: str) -> str | None:
    """The value of the header ``name`` (lower case) among a request's header lines."""
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name:
            return value.strip()
    return None
