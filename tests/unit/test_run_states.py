"""The run transition table's shape, and the inventory of the code that writes a run's status.

What each of those writes does, from every status, is held to the table against PostgreSQL by
tests/integration/test_run_transitions.py; the inventory here makes sure no new write escapes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import orchestra
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
        *[(S.IN_PROGRESS, terminal) for terminal in TERMINAL],  # finish (ERROR also: fail_expired/orphaned)
        (S.IN_PROGRESS, S.QUEUED),  # hand_back, requeue_expired, requeue_orphaned
        (S.PENDING, S.CANCELLED),  # cancel
        (S.QUEUED, S.CANCELLED),
    }
    assert TRANSITIONS["finish"].targets == TERMINAL
    assert TRANSITIONS["fail_expired"].target == S.ERROR
    # A killed executor's runs move exactly as an expired lease's do, only sooner.
    assert TRANSITIONS["requeue_orphaned"].pairs == TRANSITIONS["requeue_expired"].pairs
    assert TRANSITIONS["fail_orphaned"].pairs == TRANSITIONS["fail_expired"].pairs


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


SRC = Path(orchestra.__file__).parent
# Every statement of the code base that writes test_runs.status, counted by file. Each one is an operation
# of the table and is driven from every status by tests/integration/test_run_transitions.py; a new one
# belongs there too (and, if it is a new move, in TRANSITIONS).
STATUS_WRITERS = {
    "executor/lease.py": 3,  # lease, finish, hand_back
    "runs/repository.py": 1,  # cancel
    "migrations/versions/2026_11_28_0006_row_level_security.py": 2,  # admit; requeue_expired + fail_expired
    # the reaper replaced: requeue/fail_expired + requeue/fail_orphaned; 0006's body again for the downgrade
    "migrations/versions/2026_11_28_0011_executor_presence.py": 2,
}
_SQL_SET = re.compile(r"UPDATE\s+test_runs\s+SET\b(.*?)\bWHERE\b", re.S | re.I)
_SETS_STATUS = re.compile(r"(?<![\w.])status\s*=(?!=)")
_ORM_UPDATE = "update(TestRun)"
_ORM_ASSIGN = re.compile(r"\.status\s*=\s*RunStatus\.")


def _balanced(source: str, start: int) -> str:
    """The text of the parenthesised group opening at or after ``start``."""
    opening = source.index("(", start)
    depth = 0
    for index in range(opening, len(source)):
        depth += {"(": 1, ")": -1}.get(source[index], 0)
        if depth == 0:
            return source[opening : index + 1]
    return source[opening:]


def _status_writes(source: str) -> int:
    count = sum(1 for match in _SQL_SET.finditer(source) if _SETS_STATUS.search(match.group(1)))
    position = source.find(_ORM_UPDATE)
    while position != -1:
        values = source.find(".values", position)
        if values != -1 and re.search(r"\bstatus\s*=(?!=)", _balanced(source, values)):
            count += 1
        position = source.find(_ORM_UPDATE, position + 1)
    return count + len(_ORM_ASSIGN.findall(source))


def test_every_write_of_a_run_status_is_one_the_transition_test_drives() -> None:
    found = {
        path.relative_to(SRC).as_posix(): writes
        for path in sorted(SRC.rglob("*.py"))
        if (writes := _status_writes(path.read_text(encoding="utf-8")))
    }
    assert found == STATUS_WRITERS, (
        "a write of test_runs.status came or went: it is an operation of TRANSITIONS, driven from every "
        "status in tests/integration/test_run_transitions.py"
    )


def test_the_inventory_sees_each_kind_of_write() -> None:
    assert _status_writes("UPDATE test_runs SET queued_at = now(), status = 'X' WHERE id = :id") == 1
    assert _status_writes("UPDATE test_runs SET status_reason = 'x' WHERE status = 'QUEUED'") == 0
    assert _status_writes("update(TestRun).where(TestRun.id == x).values(status=RunStatus.ERROR)") == 1
    assert _status_writes("update(TestRun).values(cancel_requested=True)") == 0
    assert _status_writes("run.status = RunStatus.ERROR") == 1
