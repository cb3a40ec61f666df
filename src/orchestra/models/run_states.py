"""The run state machine: the one place where run status transitions are defined.

PENDING --scheduler--> QUEUED --executor lease--> IN_PROGRESS
IN_PROGRESS --> PASSED | FAILED | ERROR | CANCELLED | TIMED_OUT
IN_PROGRESS --lease expired (reaper) or handed back--> QUEUED; after the last attempt --> ERROR.
"""

from __future__ import annotations

from enum import StrEnum


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
ACTIVE: frozenset[RunStatus] = frozenset({RunStatus.QUEUED, RunStatus.IN_PROGRESS})

TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.PENDING: frozenset({RunStatus.QUEUED, RunStatus.CANCELLED}),
    RunStatus.QUEUED: frozenset({RunStatus.IN_PROGRESS, RunStatus.CANCELLED}),
    RunStatus.IN_PROGRESS: frozenset(
        {RunStatus.QUEUED, *TERMINAL}  # QUEUED: lease lost or handed back; resumes elsewhere
    ),
    **{status: frozenset() for status in TERMINAL},
}


def can_transition(source: RunStatus, target: RunStatus) -> bool:
    return target in TRANSITIONS[source]


def sources_of(target: RunStatus) -> frozenset[RunStatus]:
    """Statuses a run may be in for a move to ``target``; SQL updates use this in their WHERE clause."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


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
