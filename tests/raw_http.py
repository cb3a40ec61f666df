"""A real HTTP server on 127.0.0.1 whose answers a test writes byte by byte (what a framework would not send:
gzip bombs, odd cookies), on a free port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_http_server(answer: Answer) -> AsyncIterator[str]:
    """Serves ``answer`` for each connection; yields the server's base URL."""
    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()
