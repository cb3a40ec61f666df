"""In-process broker of embedded mode: an asyncio queue. Losing it loses nothing (runs are re-published)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class MemoryDelivery:
    run_id: uuid.UUID

    async def ack(self) -> None:
        return None


class InProcessBroker:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[uuid.UUID | None] = asyncio.Queue()
        self._closed = False

    async def publish(self, run_ids: Sequence[uuid.UUID]) -> None:
        for run_id in run_ids:
            self._queue.put_nowait(run_id)

    async def deliveries(self) -> AsyncGenerator[MemoryDelivery, None]:
        while True:
            run_id = await self._queue.get()
            if run_id is None:
                return
            yield MemoryDelivery(run_id)

    async def is_healthy(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)
