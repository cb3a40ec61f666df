"""Which PENDING runs to admit in one pass: pure logic, no I/O (admission.py feeds it from PostgreSQL).

Every limit that applies must have room (global, tenant, project, environment, suite run). Within a tenant
runs go in queue order (priority with aging, see runs/queue.py). Across tenants the next slot goes to the
tenant with the smallest share of active runs per unit of weight, so under saturation each tenant with
pending work holds slots in proportion to its weight.
"""

from __future__ import annotations

import heapq
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Candidate:
    id: uuid.UUID
    tenant_id: uuid.UUID
    project_id: uuid.UUID
    environment_id: uuid.UUID
    suite_run_id: uuid.UUID | None
    queue_key: float


@dataclass
class Limits:
    """Limits by level; a key missing from a mapping (or None) means no limit there."""

    global_max: int
    tenant_max: Mapping[uuid.UUID, int | None] = field(default_factory=dict)
    tenant_weight: Mapping[uuid.UUID, int] = field(default_factory=dict)
    project_max: Mapping[uuid.UUID, int | None] = field(default_factory=dict)
    environment_max: Mapping[uuid.UUID, int | None] = field(default_factory=dict)
    suite_run_max: Mapping[uuid.UUID, int | None] = field(default_factory=dict)

    def weight(self, tenant_id: uuid.UUID) -> int:
        return max(1, self.tenant_weight.get(tenant_id, 1))


@dataclass
class Active:
    """Runs QUEUED or IN_PROGRESS (counted from the run rows), by level."""

    total: int = 0
    tenant: Counter[uuid.UUID] = field(default_factory=Counter)
    project: Counter[uuid.UUID] = field(default_factory=Counter)
    environment: Counter[uuid.UUID] = field(default_factory=Counter)
    suite_run: Counter[uuid.UUID] = field(default_factory=Counter)

    def add(self, run: Candidate) -> None:
        self.total += 1
        self.tenant[run.tenant_id] += 1
        self.project[run.project_id] += 1
        self.environment[run.environment_id] += 1
        if run.suite_run_id is not None:
            self.suite_run[run.suite_run_id] += 1


def blocking_limit(run: Candidate, limits: Limits, active: Active) -> tuple[str, str, int, int] | None:
    """The first limit without room for ``run``: (level, which, active, limit); None when all have room."""
    if active.total >= limits.global_max:
        return "global", "platform", active.total, limits.global_max
    checks: list[tuple[str, uuid.UUID | None, Mapping[uuid.UUID, int | None], Counter[uuid.UUID]]] = [
        ("tenant", run.tenant_id, limits.tenant_max, active.tenant),
        ("project", run.project_id, limits.project_max, active.project),
        ("environment", run.environment_id, limits.environment_max, active.environment),
        ("suite run", run.suite_run_id, limits.suite_run_max, active.suite_run),
    ]
    for level, key, maxima, counts in checks:
        if key is None:
            continue
        limit = maxima.get(key)
        if limit is not None and counts[key] >= limit:
            return level, str(key), counts[key], limit
    return None


def choose(candidates: Iterable[Candidate], limits: Limits, active: Active, batch: int) -> list[Candidate]:
    """Admit up to ``batch`` runs. ``candidates`` may hold several per tenant in any order; ``active`` is
    updated with what was admitted."""
    queues: dict[uuid.UUID, list[Candidate]] = {}
    for run in candidates:
        queues.setdefault(run.tenant_id, []).append(run)
    for queue in queues.values():
        queue.sort(key=lambda run: run.queue_key, reverse=True)  # pop() takes the head

    # Tenants by the share they would have with one more slot (Sainte-Lague: (active + 1/2) / weight, the
    # most proportional rounding of slots to weights), then by their oldest waiting run.
    def share(tenant: uuid.UUID) -> float:
        return (active.tenant[tenant] + 0.5) / limits.weight(tenant)

    heap = [(share(tenant), queue[-1].queue_key, tenant) for tenant, queue in queues.items()]
    heapq.heapify(heap)
    admitted: list[Candidate] = []
    while heap and len(admitted) < batch and active.total < limits.global_max:
        _, _, tenant = heapq.heappop(heap)
        queue = queues[tenant]
        while queue:
            run = queue.pop()
            if blocking_limit(run, limits, active) is None:
                active.add(run)
                admitted.append(run)
                break
        tenant_limit = limits.tenant_max.get(tenant)
        if queue and (tenant_limit is None or active.tenant[tenant] < tenant_limit):
            heapq.heappush(heap, (share(tenant), queue[-1].queue_key, tenant))
    return admitted
