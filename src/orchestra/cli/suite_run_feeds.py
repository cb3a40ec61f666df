"""A server's suite-run event streams (``GET /suite-runs/{id}/events``) as one signal, "a run may have
changed", for ``orchestra run --server``: it reads the suite runs again when one of their runs changes
status (the server pushes it, woken by PostgreSQL), not every half second.

A stream that cannot be opened or breaks is not retried: the command falls back to reading on its own
period, as it did before the streams existed, and a stream that ends (its suite run did) wakes it at once.
At most ``MAX_STREAMS`` are open at once (each holds a connection of the command's HTTP client, which its
other requests need too): beyond that, the command reads on its own period.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import httpx

# While every followed suite run is streamed: the longest the command waits without being told of a change
# (a safety period; the server's keep-alives come every ORCHESTRA_LIVE_SAFETY_S, 10 s by default).
STREAMED_WAIT_S = 10.0
_STREAM_TIMEOUT = httpx.Timeout(30.0, read=None)  # a stream is silent for as long as nothing changes
MAX_STREAMS = 32  # well within the client's 100 connections


class SuiteRunFeeds:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._changed = asyncio.Event()
        self._readers: dict[uuid.UUID, asyncio.Task[None]] = {}

    def streaming(self, suite_run_ids: Sequence[uuid.UUID]) -> bool:
        return all(
            suite_run_id in self._readers and not self._readers[suite_run_id].done()
            for suite_run_id in suite_run_ids
        )

    async def wait(self, suite_run_ids: Sequence[uuid.UUID], timeout_s: float) -> None:
        """Until a run of these suite runs may have changed: at once when a stream says so, else after
        ``timeout_s`` (``STREAMED_WAIT_S`` at least while all of them are streamed)."""
        for suite_run_id in suite_run_ids:
            if suite_run_id not in self._readers and self._open() < MAX_STREAMS:
                self._readers[suite_run_id] = asyncio.create_task(
                    self._read(suite_run_id), name=f"suite run {suite_run_id} events"
                )
        limit = max(timeout_s, STREAMED_WAIT_S) if self.streaming(suite_run_ids) else timeout_s
        try:
            await asyncio.wait_for(self._changed.wait(), limit)
        except TimeoutError:
            pass
        self._changed.clear()

    def _open(self) -> int:
        return sum(not reader.done() for reader in self._readers.values())

    async def _read(self, suite_run_id: uuid.UUID) -> None:
        try:
            path = f"/suite-runs/{suite_run_id}/events"
            async with self._client.stream("GET", path, timeout=_STREAM_TIMEOUT) as response:
                if response.status_code != 200:
                    return
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        self._changed.set()
        except httpx.HTTPError:
            return
        finally:
            self._changed.set()  # ended or broken: read now (and from here on, on the command's own period)

    async def close(self) -> None:
        for reader in self._readers.values():
            reader.cancel()
        await asyncio.gather(*self._readers.values(), return_exceptions=True)
        self._readers.clear()
