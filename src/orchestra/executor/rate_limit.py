"""Request rate per environment, shared by every executor: slots reserved in PostgreSQL (GCRA-style).

Each environment with a rate has one row in ``environment_rate_slots`` holding ``next_at``: the end of the
last slot handed out. A request reserves the slot after it in one statement (an upsert, atomic under the
row lock), then sleeps until its slot starts. Since every executor reserves from the same row, the slots are
spaced by ``1 / per_second`` across all processes. An environment left idle starts again at once: the
reservation begins no earlier than now, so no credit builds up.

The slot times come from the database clock; each executor sleeps on its own clock after the round trip, so
jitter (a reply that arrives late, an event loop that wakes late) can bring two requests closer than the
interval: in any one-second window at most one request more than the rate may arrive. Kept simple on
purpose; a request is never sent before its slot.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from orchestra.db import tenant_connection
from orchestra.kit import metrics

# The slowest pace honoured: one request a day (a longer interval would be no different in practice).
MAX_INTERVAL_S = 86_400.0

# clock_timestamp(), not now(): after waiting for the row lock of a concurrent reservation, the time used
# is the time the reservation is actually made.
_RESERVE = text(
    """
    INSERT INTO environment_rate_slots AS slot (tenant_id, environment_id, next_at)
    VALUES (:tenant_id, :environment_id,
        clock_timestamp() + make_interval(secs => CAST(:interval_s AS double precision)))
    ON CONFLICT (environment_id) DO UPDATE
        SET next_at = greatest(slot.next_at, clock_timestamp())
            + make_interval(secs => CAST(:interval_s AS double precision))
    RETURNING CAST(extract(epoch FROM slot.next_at - clock_timestamp()) AS double precision)
        - CAST(:interval_s AS double precision)
    """
)


class RequestPacer:
    """Spaces the HTTP requests to each rate-limited environment, across all executors."""

    def __init__(self, engine: AsyncEngine) -> None:
        # One statement in autocommit: one round trip, atomic by itself (like the LeaseStore's writes).
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def reserve(self, tenant_id: uuid.UUID, environment_id: uuid.UUID, per_second: float) -> float:
        """Reserve the environment's next request slot; the seconds until it starts (0: now)."""
        interval_s = min(1.0 / per_second, MAX_INTERVAL_S)
        async with tenant_connection(self._engine, tenant_id) as conn:
            params = {"tenant_id": tenant_id, "environment_id": environment_id, "interval_s": interval_s}
            wait = float((await conn.execute(_RESERVE, params)).scalar_one())
        return max(0.0, wait)

    async def wait_turn(self, tenant_id: uuid.UUID, environment_id: uuid.UUID, per_second: float) -> float:
        """Reserve the next slot and sleep until it starts; the seconds waited."""
        wait = await self.reserve(tenant_id, environment_id, per_second)
        if wait > 0:
            metrics.RATE_LIMITED_WAITS.inc()
            metrics.RATE_LIMITED_WAIT_SECONDS.inc(wait)
            await asyncio.sleep(wait)
        return wait
