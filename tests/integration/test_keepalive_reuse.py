"""The SUT client never sends a request on a kept-alive connection that a server may just be closing.

A server closes an idle connection after its keep-alive timeout (uvicorn after 5 s, gunicorn after 2 s); a
request written as it does so is lost ("Server disconnected without sending a response") and the step would
end in ERROR for nothing. The server here answers a request on a connection idle for more than 1.5 s by
closing it unanswered, as a server whose keep-alive timer fires at that moment does; the client must have
opened a new connection by then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy
from orchestra.kit.egress_http import KEEPALIVE_EXPIRY_S, guarded_client

SERVER_IDLE_S = 1.5


@pytest.fixture
async def closing_server() -> AsyncIterator[tuple[str, list[str]]]:
    events: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered_at: float | None = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                if answered_at is not None and time.monotonic() - answered_at > SERVER_IDLE_S:
                    events.append("dropped a request on an idle connection")
                    break
                events.append("answered" if answered_at is None else "answered on a kept-alive connection")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
                await writer.drain()
                answered_at = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", events


async def test_a_connection_idle_longer_than_the_expiry_is_not_reused(
    closing_server: tuple[str, list[str]],
) -> None:
    url, events = closing_server
    assert KEEPALIVE_EXPIRY_S < SERVER_IDLE_S
    policy = EgressPolicy.for_environment(url, [], allow_private=True, environment="keep-alive")
    async with guarded_client() as client:
        with egress.applying(policy):
            first = await client.get(f"{url}/a")
            again = await client.get(f"{url}/b")  # at once: the same connection
            await asyncio.sleep(SERVER_IDLE_S + 0.3)
            later = await client.get(f"{url}/c")  # the old connection has expired: a new one
    assert [first.status_code, again.status_code, later.status_code] == [200, 200, 200]
    assert events == ["answered", "answered on a kept-alive connection", "answered"]


async def test_with_httpx_s_default_expiry_the_request_would_be_lost(
    closing_server: tuple[str, list[str]],
) -> None:
    """The failure the expiry prevents, shown with a plain client that keeps connections for 5 s."""
    url, events = closing_server
    async with httpx.AsyncClient() as client:
        await client.get(f"{url}/a")
        await asyncio.sleep(SERVER_IDLE_S + 0.3)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await client.get(f"{url}/b")
    assert events == ["answered", "dropped a request on an idle connection"]
