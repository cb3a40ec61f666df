"""The run state machine: every status a run can have and every move between them, in one table.

It lives below the models (``models/run.py`` stores ``RunStatus``) so that the bottom layer depends on no
feature, and every component that moves a run — scheduler, executor, API — reads its moves from here:
the SQL that performs a transition builds its ``WHERE status ...`` guard and its target status from
``TRANSITIONS[operation]``, never from literals of its own.

The table, by the operation that performs each move:

=================  ==========================================  ===============  ===========================
operation          performed by                                from             to
=================  ==========================================  ===============  ===========================
admit              scheduler admission pass                    PENDING          QUEUED
lease              executor, taking a run (fencing token + 1)  QUEUED           IN_PROGRESS
finish             executor, writing the verdict               IN_PROGRESS      PASSED, FAILED, ERROR,
                                                                                CANCELLED, TIMED_OUT
hand_back          executor shutting down gracefully           IN_PROGRESS      QUEUED
requeue_expired    scheduler's reaper, lease expired,          IN_PROGRESS      QUEUED (attempt + 1)
                   attempts left
fail_expired       scheduler's reaper, lease expired,          IN_PROGRESS      ERROR
                   after the last attempt
requeue_orphaned   scheduler's reaper, the holder's process    IN_PROGRESS      QUEUED (attempt + 1)
                   ended (its presence lock is free),
                   attempts left
fail_orphaned      scheduler's reaper, the holder's process    IN_PROGRESS      ERROR
                   ended, after the last attempt
cancel             API, a run that has not started             PENDING, QUEUED  CANCELLED
=================  ==========================================  ===============  ===========================

Nothing leaves a terminal status and nothing returns to PENDING. Cancelling an IN_PROGRESS run only flags
it; its executor ends it CANCELLED through ``finish`` at its next step commit or heartbeat.

An orphaned run is one whose lease has not expired but whose holder is gone: every executor holds a
presence lock (executor/presence.py) on a database session of its own while its process lives, and the
run records the lock's key, so the reaper sees a killed executor's runs at its next pass instead of a
lease later. Its moves are those of an expired lease, fenced the same way.

``admit`` and the reaper's four moves cross tenants, so they are SECURITY DEFINER functions
(``orchestra_sys_mark_queued``, ``orchestra_sys_reap_expired``) created by migration 0006 (the reaper's
replaced by 0011). A migration is history — an existing database never runs it again — so their SQL is
not generated from this table; tests/integration/test_run_transitions.py drives the installed functions
(and every other operation) from every status and fails when what PostgreSQL does differs from this
table. Changing one of those moves means changing the table and adding a migration that replaces the
function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, get_args


class RunStatus(StrEnum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    PASSED = "PASSED"
    FAILED = "FAILED"
    ERROR = "ERROR"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"


TERMINAL: frozenset[RunStatus] = frozenset(
    {RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED, RunStatus.TIMED_OUT}
)
# What counts against the admission limits: admitted and not yet ended.
ACTIVE: frozenset[RunStatus] = frozenset({RunStatus.QUEUED, RunStatus.IN_PROGRESS})

Operation = Literal[
    "admit",
    "lease",
    "finish",
    "hand_back",
    "requeue_expired",
    "fail_expired",
    "requeue_orphaned",
    "fail_orphaned",
    "cancel",
]
OPERATIONS: tuple[Operation, ...] = get_args(Operation)


@dataclass(frozen=True, slots=True)
class Transition:
    """One operation's moves: from any of ``sources`` to one of ``targets`` (the operation picks which)."""

    performed_by: str
    sources: frozenset[RunStatus]
    targets: frozenset[RunStatus]

    @property
    def target(self) -> RunStatus:
        """The status this operation moves to; only for operations with exactly one."""
        if len(self.targets) != 1:
            raise ValueError(f"this operation has {len(self.targets)} targets, not one")
        return next(iter(self.targets))

    @property
    def pairs(self) -> frozenset[tuple[RunStatus, RunStatus]]:
        return frozenset((source, target) for source in self.sources for target in self.targets)


def _move(performed_by: str, sources: Iterable[RunStatus], targets: Iterable[RunStatus]) -> Transition:
    return Transition(performed_by, frozenset(sources), frozenset(targets))


TRANSITIONS: Mapping[Operation, Transition] = MappingProxyType(
    {
        "admit": _move("scheduler admission pass", [RunStatus.PENDING], [RunStatus.QUEUED]),
        "lease": _move("executor taking a run", [RunStatus.QUEUED], [RunStatus.IN_PROGRESS]),
        "finish": _move("executor writing the verdict", [RunStatus.IN_PROGRESS], TERMINAL),
        "hand_back": _move("executor shutting down", [RunStatus.IN_PROGRESS], [RunStatus.QUEUED]),
        "requeue_expired": _move("reaper, attempts left", [RunStatus.IN_PROGRESS], [RunStatus.QUEUED]),
        "fail_expired": _move("reaper, last attempt", [RunStatus.IN_PROGRESS], [RunStatus.ERROR]),
        "requeue_orphaned": _move(
            "reaper, holder ended, attempts left", [RunStatus.IN_PROGRESS], [RunStatus.QUEUED]
        ),
        "fail_orphaned": _move(
            "reaper, holder ended, last attempt", [RunStatus.IN_PROGRESS], [RunStatus.ERROR]
        ),
        "cancel": _move("API, run not started", [RunStatus.PENDING, RunStatus.QUEUED], [RunStatus.CANCELLED]),
    }
)

# Every (from, to) pair some operation performs.
ALLOWED: frozenset[tuple[RunStatus, RunStatus]] = frozenset(
    pair for transition in TRANSITIONS.values() for pair in transition.pairs
)


def can_transition(source: RunStatus, target: RunStatus) -> bool:
    return (source, target) in ALLOWED


def sources_of(target: RunStatus) -> frozenset[RunStatus]:
    """Statuses from which some operation moves a run to ``target``."""
    return frozenset(source for source, to in ALLOWED if to == target)


def sql_status_in(statuses: Iterable[RunStatus], column: str = "status") -> str:
    """A SQL condition ``column`` is one of ``statuses``, for statements written as text.

    A single status renders as ``status = 'QUEUED'``, the very text of the partial indexes' predicates, so
    the planner matches them as before; several render as ``status IN (...)`` in declaration order (stable
    statement text). The values are the enum's own, never input, so inlining them is safe.
    """
    chosen = frozenset(statuses)
    if not chosen:
        raise ValueError("no statuses: the condition would match nothing")
    values = [f"'{status.value}'" for status in RunStatus if status in chosen]
    if len(values) == 1:
        return f"{column} = {values[0]}"
    return f"{column} IN ({', '.join(values)})"


def suite_status(statuses: list[RunStatus]) -> RunStatus:
    """A suite run's status, derived from its runs' statuses (never stored, so it cannot drift)."""
    if not statuses:
        return RunStatus.PASSED
    if any(status not in TERMINAL for status in statuses):
        if all(status == RunStatus.PENDING for status in statuses):
            return RunStatus.PENDING
        if all(status in (RunStatus.PENDING, RunStatus.QUEUED) for status in statuses):
            return RunStatus.QUEUED
        return RunStatus.IN_PROGRESS
    for worst in (RunStatus.ERROR, RunStatus.TIMED_OUT, RunStatus.FAILED, RunStatus.CANCELLED):
        if worst in statuses:
            return worst
    return RunStatus.PASSED
