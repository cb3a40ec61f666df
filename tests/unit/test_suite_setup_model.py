"""A suite's setup and teardown: the keys, their bad input, and how their steps are planned and scoped."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.definitions.loader import DefinitionError, validate_suite_data, validate_test_case_data
from orchestra.executor.plan import compile_plan
from orchestra.executor.suite_shared import SuiteShared
from orchestra.models.run_states import RunStatus
from orchestra.runs.suite_phases import phase_definition
from orchestra.steps.templating import build_scope

LOGIN = {"request": {"method": "POST", "url": "/auth/token"}, "capture": {"token": "$.access_token"}}


def test_a_suite_without_setup_keeps_its_meaning() -> None:
    suite = validate_suite_data({"suite": "s", "tests": ["a"]})
    assert (suite.setup, suite.teardown) == ([], [])
    assert "setup" not in suite.model_dump(exclude_unset=True)


def test_setup_and_teardown_take_the_step_language_of_a_test_case() -> None:
    suite = validate_suite_data(
        {"suite": "s", "tests": ["a"], "setup": [LOGIN], "teardown": [{"set": {"done": "yes"}}]}
    )
    assert len(suite.setup) == 1
    assert len(suite.teardown) == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"setup": "login"},
        {"setup": [{"request": {"method": "POST"}}]},
        {"setup": [{"nothing": 1}]},
        {"teardown": [{"sleep": {"duration_ms": -1}}]},
        {"teardown": {"request": {"method": "GET", "url": "/x"}}},
    ],
)
def test_bad_setup_or_teardown_is_refused_with_its_place(bad: dict[str, Any]) -> None:
    with pytest.raises(DefinitionError) as error:
        validate_suite_data({"suite": "s", "tests": ["a"], **bad})
    key = next(iter(bad))
    assert any(key in str(issue) for issue in error.value.issues)


def test_a_suite_teardown_runs_every_step_as_teardown_and_a_setup_as_steps() -> None:
    steps = [LOGIN, {"set": {"x": "1"}}]
    setup = compile_plan(validate_test_case_data(phase_definition("setup", steps)), suite_phase="setup")
    teardown = compile_plan(
        validate_test_case_data(phase_definition("teardown", steps)), suite_phase="teardown"
    )
    assert [step.phase for step in setup.steps] == ["main", "main"]
    assert [step.phase for step in teardown.steps] == ["teardown", "teardown"]


def test_suite_values_are_in_scope_only_when_given() -> None:
    assert build_scope(base_url="http://x", variables={"suite": "mine"})["suite"] == "mine"
    scope = build_scope(base_url="http://x", variables={"suite": "mine"}, suite={"token": "t"})
    assert scope["suite"] == {"token": "t"}


def test_a_failed_setup_blocks_the_tests_not_the_teardown() -> None:
    failed = {"setup_status": RunStatus.FAILED, "setup_reason": "step 'login': status 401"}
    assert SuiteShared(None, **failed).blocked() == ("suite setup failed (FAILED): step 'login': status 401")
    assert SuiteShared("teardown", **failed).blocked() is None
    assert SuiteShared(None, setup_status=RunStatus.PASSED).blocked() is None
    assert SuiteShared("setup").keeps_sealed
    assert not SuiteShared(None).keeps_sealed
