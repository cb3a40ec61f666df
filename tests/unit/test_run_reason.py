"""A passed run's reason counts the step records written, loops' passes and skipped steps included."""

import pytest

from orchestra.executor.run_execution import passed_reason


@pytest.mark.parametrize(
    ("passed", "skipped", "reason"),
    [
        (1, 0, "1 step passed"),
        (2, 0, "all 2 steps passed"),
        (501, 0, "all 501 steps passed"),  # a repeat: 500 step and one more
        (3, 2, "all 3 steps passed, 2 skipped"),
        (0, 1, "0 steps passed, 1 skipped"),
    ],
)
def test_a_passed_reason_counts_what_ran(passed: int, skipped: int, reason: str) -> None:
    assert passed_reason(passed, skipped) == reason
