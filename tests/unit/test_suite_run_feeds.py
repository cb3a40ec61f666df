"""`orchestra run --server` streams at most MAX_STREAMS suite runs at once: each stream holds a connection
of the command's HTTP client, whose other requests must still find one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx

from orchestra.cli.suite_run_feeds import MAX_STREAMS, SuiteRunFeeds


class _Silent(httpx.AsyncByteStream):
    """An event stream that says one thing, then nothing until it is closed."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"event: status\ndata: {}\n\n"  # a run changed: the waiting command is woken
        await asyncio.Event().wait()


async def test_beyond_max_streams_suite_runs_are_read_on_the_commands_period() -> None:
    opened: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        opened.append(request.url.path)
        return httpx.Response(200, stream=_Silent(), headers={"content-type": "text/event-stream"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://orchestra.test")
    feeds = SuiteRunFeeds(client)
    few = [uuid.uuid4() for _ in range(3)]
    many = [uuid.uuid4() for _ in range(MAX_STREAMS + 8)]
    try:
        await feeds.wait(few, 0.05)
        assert feeds.streaming(few)
        await feeds.wait(many, 0.05)
        await asyncio.sleep(0.05)
        assert len(opened) == MAX_STREAMS  # 3 + the first MAX_STREAMS - 3 of the many
        assert not feeds.streaming(many)  # the rest: read on the command's own period
    finally:
        await feeds.close()
        await client.aclose()
