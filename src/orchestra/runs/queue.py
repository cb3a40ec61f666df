"""Queue order of PENDING runs: priority first, with aging, as one number the database can index.

A run's key is its creation time (epoch seconds) minus its priority times ``AGING_SECONDS_PER_PRIORITY``;
lower keys go first. Comparing keys is the same as comparing ``priority + waited / AGING`` at any moment, so
a run that has waited long enough passes newer runs of higher priority, and nothing waits forever.
"""

from __future__ import annotations

import time

# One priority point is worth this much waiting: a scheduled run (priority 0) that has waited 200 times 10 s =
# 33 minutes goes before a new CI run (priority 200).
AGING_SECONDS_PER_PRIORITY = 10.0
QUEUE_STEP = 1e-6  # seconds between the queue keys of a suite run's runs: their order, and no real wait


def queue_key(priority: int, created_at: float | None = None) -> float:
    created = time.time() if created_at is None else created_at
    return created - priority * AGING_SECONDS_PER_PRIORITY
