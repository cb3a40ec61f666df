"""The run state machine: the transitions every component performs are the ones run_states.py allows."""

from __future__ import annotations

import pytest

from orchestra.models.run_states import (
    ACTIVE,
    TERMINAL,
    TRANSITIONS,
    RunStatus,
    can_transition,
    sources_of,
    suite_status,
)

S = RunStatus

# What each component does (scheduler admission and reaper, executor lease/hand-back/verdict, cancel).
PERFORMED = [
    (S.PENDING, S.QUEUED),  # admission
    (S.QUEUED, S.IN_PROGRESS),  # lease
    (S.IN_PROGRESS, S.QUEUED),  # reaper (expired lease) and graceful hand-back
    (S.IN_PROGRESS, S.ERROR),  # reaper after the last attempt, internal error
    *[(S.IN_PROGRESS, terminal) for terminal in sorted(TERMINAL)],  # the executor's verdict
    (S.PENDING, S.CANCELLED),  # cancel before it started
    (S.QUEUED, S.CANCELLED),
]


@pytest.mark.parametrize(("source", "target"), PERFORMED)
def test_every_performed_transition_is_allowed(source: RunStatus, target: RunStatus) -> None:
    assert can_transition(source, target)


def test_terminal_statuses_are_final_and_nothing_goes_back_to_pending() -> None:
    assert TERMINAL == {S.PASSED, S.FAILED, S.ERROR, S.CANCELLED, S.TIMED_OUT}
    assert ACTIVE == {S.QUEUED, S.IN_PROGRESS}
    for status in TERMINAL:
        assert TRANSITIONS[status] == frozenset()
    assert sources_of(S.PENDING) == frozenset()
    assert not can_transition(S.PENDING, S.IN_PROGRESS)  # never executed without admission and a lease
    assert not can_transition(S.QUEUED, S.PASSED)


def test_sources_of_match_the_sql_guards() -> None:
    assert sources_of(S.IN_PROGRESS) == {S.QUEUED}  # the lease UPDATE: WHERE status = 'QUEUED'
    assert sources_of(S.CANCELLED) == {S.PENDING, S.QUEUED, S.IN_PROGRESS}
    assert sources_of(S.QUEUED) == {S.PENDING, S.IN_PROGRESS}


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], S.PASSED),
        ([S.PASSED, S.PASSED], S.PASSED),
        ([S.PENDING, S.PENDING], S.PENDING),
        ([S.PENDING, S.QUEUED], S.QUEUED),
        ([S.PASSED, S.PENDING], S.IN_PROGRESS),
        ([S.IN_PROGRESS, S.FAILED], S.IN_PROGRESS),
        ([S.PASSED, S.FAILED], S.FAILED),
        ([S.CANCELLED, S.PASSED], S.CANCELLED),
        ([S.FAILED, S.TIMED_OUT], S.TIMED_OUT),
        ([S.TIMED_OUT, S.ERROR, S.FAILED], S.ERROR),
    ],
)
def test_suite_status_derives_from_its_runs(statuses: list[RunStatus], expected: RunStatus) -> None:
    assert suite_status(statuses) == expected
