"""The run transition table's shape: the documented life of a run, nothing leaves a terminal status."""

from __future__ import annotations

import pytest

from orchestra.models.run_states import (
    ACTIVE,
    ALLOWED,
    OPERATIONS,
    TERMINAL,
    TRANSITIONS,
    RunStatus,
    can_transition,
    sources_of,
    sql_status_in,
    suite_status,
)

S = RunStatus


def test_every_operation_has_its_moves() -> None:
    assert set(TRANSITIONS) == set(OPERATIONS)
    for operation, transition in TRANSITIONS.items():
        assert transition.sources, operation
        assert transition.targets, operation
        assert not transition.sources & TERMINAL, f"{operation} leaves a terminal status"
        assert S.PENDING not in transition.targets, f"{operation} goes back to PENDING"


def test_the_table_is_the_documented_life_of_a_run() -> None:
    """ARCHITECTURE.md's diagram, pair by pair: a change here is a change of the contract."""
    assert ALLOWED == {
        (S.PENDING, S.QUEUED),  # admit
        (S.QUEUED, S.IN_PROGRESS),  # lease
        *[(S.IN_PROGRESS, terminal) for terminal in TERMINAL],  # finish (ERROR also: fail_expired)
        (S.IN_PROGRESS, S.QUEUED),  # hand_back, requeue_expired
        (S.PENDING, S.CANCELLED),  # cancel
        (S.QUEUED, S.CANCELLED),
    }
    assert TRANSITIONS["finish"].targets == TERMINAL
    assert TRANSITIONS["fail_expired"].target == S.ERROR


def test_terminal_statuses_are_final_and_nothing_goes_back_to_pending() -> None:
    assert TERMINAL == {S.PASSED, S.FAILED, S.ERROR, S.CANCELLED, S.TIMED_OUT}
    assert ACTIVE == {S.QUEUED, S.IN_PROGRESS}
    for status in TERMINAL:
        assert not any(can_transition(status, target) for target in S)
    assert sources_of(S.PENDING) == frozenset()
    assert not can_transition(S.PENDING, S.IN_PROGRESS)  # never executed without admission and a lease
    assert not can_transition(S.QUEUED, S.PASSED)


def test_sources_of_match_the_sql_guards() -> None:
    assert sources_of(S.IN_PROGRESS) == {S.QUEUED}  # the lease UPDATE: WHERE status = 'QUEUED'
    assert sources_of(S.CANCELLED) == {S.PENDING, S.QUEUED, S.IN_PROGRESS}
    assert sources_of(S.QUEUED) == {S.PENDING, S.IN_PROGRESS}


def test_a_single_target_is_asked_only_of_single_target_operations() -> None:
    assert TRANSITIONS["lease"].target == S.IN_PROGRESS
    with pytest.raises(ValueError, match="5 targets"):
        _ = TRANSITIONS["finish"].target


def test_sql_conditions_render_like_the_partial_indexes() -> None:
    """One status renders as the partial indexes' own predicate text; several in declaration order."""
    assert sql_status_in([S.QUEUED]) == "status = 'QUEUED'"
    assert sql_status_in({S.QUEUED, S.PENDING}, column="r.status") == "r.status IN ('PENDING', 'QUEUED')"
    with pytest.raises(ValueError, match="no statuses"):
        sql_status_in([])


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
