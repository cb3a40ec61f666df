"""The run gauges of ``/metrics``, read from PostgreSQL when a scraper asks: what every API replica reports
is the database's state, not what it happened to see itself."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text

from orchestra.db import Database
from orchestra.kit import metrics

# Across tenants through an ``orchestra_sys_*`` function (migration 0015): names and counts only.
_GAUGES = text("SELECT environment, status, n FROM orchestra_sys_run_gauges()")


async def refresh(db: Database) -> None:
    """Set ``orchestra_runs_waiting`` and ``orchestra_runs_in_progress`` from the active runs (one query,
    over the partial indexes of active runs)."""
    waiting: Counter[str] = Counter()
    in_progress: Counter[str] = Counter()
    async with db.engine.connect() as conn:
        rows = (await conn.execute(_GAUGES)).all()
    for environment, status, count in rows:
        label = metrics.environment_label(environment)
        (in_progress if status == "IN_PROGRESS" else waiting)[label] += int(count)
    for gauge, counts in ((metrics.RUNS_WAITING, waiting), (metrics.RUNS_IN_PROGRESS, in_progress)):
        gauge.clear()
        for label, count in counts.items():
            gauge.labels(label).set(count)
