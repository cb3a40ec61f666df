"""Property tests of the admission logic over random workloads (hypothesis)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.runs.queue import AGING_SECONDS_PER_PRIORITY
from orchestra.scheduler.fair_share import Active, Candidate, Limits, blocking_limit, choose

TENANTS = [uuid.UUID(int=i + 1) for i in range(4)]
PROJECTS = [uuid.UUID(int=100 + i) for i in range(3)]
ENVIRONMENTS = [uuid.UUID(int=200 + i) for i in range(3)]
SUITES = [uuid.UUID(int=300 + i) for i in range(3)]


@dataclass
class Run:
    candidate: Candidate
    duration: int
    arrived: int
    priority: int
    admitted_at: int | None = None


limit = st.one_of(st.none(), st.integers(min_value=1, max_value=6))


@st.composite
def limits(draw: st.DrawFn) -> Limits:
    return Limits(
        global_max=draw(st.integers(min_value=1, max_value=12)),
        tenant_max={t: draw(limit) for t in TENANTS},
        tenant_weight={t: draw(st.integers(min_value=1, max_value=4)) for t in TENANTS},
        project_max={p: draw(limit) for p in PROJECTS},
        environment_max={e: draw(limit) for e in ENVIRONMENTS},
        suite_run_max={s: draw(limit) for s in SUITES},
    )


@st.composite
def run_specs(draw: st.DrawFn) -> tuple[int, int, int, int, int | None, int, int]:
    return (
        draw(st.integers(0, len(TENANTS) - 1)),
        draw(st.integers(0, len(PROJECTS) - 1)),
        draw(st.integers(0, len(ENVIRONMENTS) - 1)),
        draw(st.sampled_from([0, 100, 200])),
        draw(st.one_of(st.none(), st.integers(0, len(SUITES) - 1))),
        draw(st.integers(1, 5)),  # duration in ticks
        draw(st.integers(0, 30)),  # arrival tick
    )


def make_run(spec: tuple[int, int, int, int, int | None, int, int], index: int) -> Run:
    tenant, project, environment, priority, suite, duration, arrived = spec
    key = arrived * 1.0 - priority * AGING_SECONDS_PER_PRIORITY / 10 + index * 1e-6
    candidate = Candidate(
        uuid.UUID(int=10_000 + index),
        TENANTS[tenant],
        PROJECTS[project],
        ENVIRONMENTS[environment],
        SUITES[suite] if suite is not None else None,
        key,
    )
    return Run(candidate, duration, arrived, priority)


def check_no_limit_exceeded(active: Active, lim: Limits) -> None:
    assert active.total <= lim.global_max
    for maxima, counts in (
        (lim.tenant_max, active.tenant),
        (lim.project_max, active.project),
        (lim.environment_max, active.environment),
        (lim.suite_run_max, active.suite_run),
    ):
        for key, count in counts.items():
            bound = maxima.get(key)
            assert bound is None or count <= bound


def simulate(runs: list[Run], lim: Limits, ticks: int, batch: int = 5) -> None:
    """Discrete time: runs arrive, the scheduler passes once per tick, admitted runs hold a slot for their
    duration. Checks the invariants after every pass."""
    running: list[tuple[int, Run]] = []
    for tick in range(ticks):
        running = [(end, run) for end, run in running if end > tick]
        active = Active()
        for _, run in running:
            active.add(run.candidate)
        pending = [r for r in runs if r.arrived <= tick and r.admitted_at is None]
        before = Active(
            active.total,
            Counter(active.tenant),
            Counter(active.project),
            Counter(active.environment),
            Counter(active.suite_run),
        )
        admitted = choose([r.candidate for r in pending], lim, active, batch)
        check_no_limit_exceeded(active, lim)
        chosen = {c.id for c in admitted}
        # Queue order within a tenant: a run passed over for a later one of the same tenant was blocked.
        for run in pending:
            if run.candidate.id in chosen:
                continue
            later = [
                c
                for c in admitted
                if c.tenant_id == run.candidate.tenant_id and c.queue_key > run.candidate.queue_key
            ]
            if later:
                assert (
                    blocking_limit(run.candidate, lim, active) is not None
                    or blocking_limit(run.candidate, lim, before) is not None
                )
        for run in pending:
            if run.candidate.id in chosen:
                run.admitted_at = tick
                running.append((tick + run.duration, run))


@settings(max_examples=150, deadline=None)
@given(lim=limits(), specs=st.lists(run_specs(), min_size=1, max_size=60))
def test_no_limit_is_exceeded_and_tenant_order_holds(
    lim: Limits, specs: list[tuple[int, int, int, int, int | None, int, int]]
) -> None:
    runs = [make_run(spec, index) for index, spec in enumerate(specs)]
    simulate(runs, lim, ticks=60)


@settings(max_examples=60, deadline=None)
@given(
    global_max=st.integers(min_value=1, max_value=6),
    weights=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    priorities=st.lists(st.sampled_from([0, 100, 200]), min_size=40, max_size=40),
)
def test_continuous_load_starves_nobody(global_max: int, weights: list[int], priorities: list[int]) -> None:
    """New high-priority work keeps arriving, yet every run is admitted within a bounded wait."""
    lim = Limits(global_max=global_max, tenant_weight=dict(zip(TENANTS, weights, strict=False)))
    runs = []
    for index, priority in enumerate(priorities):
        tenant = TENANTS[index % len(weights)]
        key = index * 1.0 - priority * 0.5  # aging: one priority point = half a tick here
        runs.append(
            Run(
                Candidate(uuid.UUID(int=50_000 + index), tenant, PROJECTS[0], ENVIRONMENTS[0], None, key),
                2,
                index,
                priority,
            )
        )
    # Arrivals: one run per tick, each holding a slot for 2 ticks, so load stays high.
    simulate(runs, lim, ticks=400, batch=global_max)
    assert all(run.admitted_at is not None for run in runs)


@settings(max_examples=30, deadline=None)
@given(weights=st.lists(st.integers(1, 4), min_size=2, max_size=4), global_max=st.integers(6, 24))
def test_saturated_tenants_share_slots_by_weight(weights: list[int], global_max: int) -> None:
    """Every tenant always has work; over time each tenant's slot-time is proportional to its weight."""
    tenants = TENANTS[: len(weights)]
    lim = Limits(global_max=global_max, tenant_weight=dict(zip(tenants, weights, strict=True)))
    backlog = {
        t: [Candidate(uuid.uuid4(), t, PROJECTS[0], ENVIRONMENTS[0], None, float(i)) for i in range(2000)]
        for t in tenants
    }
    running: list[tuple[int, Candidate]] = []
    usage: Counter[uuid.UUID] = Counter()
    for tick in range(300):
        running = [(end, c) for end, c in running if end > tick]
        active = Active()
        for _, c in running:
            active.add(c)
        heads = [c for t in tenants for c in backlog[t][:global_max]]
        for c in choose(heads, lim, active, global_max):
            backlog[c.tenant_id].remove(c)
            running.append((tick + 3, c))
        for _, c in running:
            usage[c.tenant_id] += 1
    # Stated tolerance: on average over time each tenant holds its weighted share of the slots to within
    # one slot (slots are whole runs, so e.g. 7 slots cannot be split 1:2 exactly).
    total_weight = sum(weights)
    ticks = 300
    for tenant, weight in zip(tenants, weights, strict=True):
        share = global_max * weight / total_weight
        assert abs(usage[tenant] / ticks - share) <= 1.0, (usage, share)


@settings(max_examples=40, deadline=None)
@given(priorities=st.lists(st.sampled_from([0, 100, 200]), min_size=300, max_size=300))
def test_low_priority_waits_a_bounded_time_while_work_keeps_arriving(priorities: list[int]) -> None:
    """One run arrives every tick for the whole test, the platform is exactly saturated, and high
    priorities dominate: aging still admits every run within a bounded wait."""
    lim = Limits(global_max=2)
    runs = [
        Run(
            Candidate(
                uuid.UUID(int=90_000 + index), TENANTS[0], PROJECTS[0], ENVIRONMENTS[0], None, index - p * 0.5
            ),
            2,
            index,
            p,
        )
        for index, p in enumerate(priorities)
    ]
    simulate(runs, lim, ticks=300, batch=2)
    waits = [run.admitted_at - run.arrived for run in runs[:200] if run.admitted_at is not None]
    assert len(waits) == 200  # everyone who arrived in the first 200 ticks got in
    assert max(waits) <= 100 + 2  # at most the aging span of the widest priority gap (200 * 0.5) and a slot
