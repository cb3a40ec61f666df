from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import Protocol


class Delivery(Protocol):
    run_id: uuid.UUID

    async def ack(self) -> None: ...


class Broker(Protocol):
    async def publish(self, run_ids: Sequence[uuid.UUID]) -> None:
        """Send one message per run id. Called only after the transaction that queued them committed."""

    def deliveries(self) -> AsyncGenerator[Delivery, None]:
        """Messages for this consumer; each must be acked once the lease attempt is decided."""

    async def is_healthy(self) -> bool:
        """Reachable and able to publish and consume (for readiness endpoints)."""

    async def close(self) -> None: ...
