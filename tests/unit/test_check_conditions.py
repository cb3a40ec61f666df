"""``if:`` on a check (the list form of ``expect.json``): a check whose condition is false is not evaluated
and is reported as skipped with the condition; a condition that is not a boolean is the step's error."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from orchestra.definitions.loader import DefinitionError, parse_document
from orchestra.definitions.testcase_model import Expect, TestCaseDefinition
from orchestra.steps.expectations import all_passed, evaluate, render_expect
from orchestra.steps.flow_control import FlowError
from orchestra.steps.response import ResponseView
from orchestra.steps.templating import TemplateError

VIEW = ResponseView(200, {"Content-Type": "application/json"}, json.dumps({"role": "user", "n": 2}), 3.0)


def checked(expect: dict[str, Any], variables: dict[str, Any], status: int = 200) -> list[dict[str, Any]]:
    view = ResponseView(status, VIEW.headers, VIEW.text, VIEW.elapsed_ms)
    rendered = render_expect(Expect.model_validate(expect), {**variables, "vars": variables})
    return [result.to_dict() for result in evaluate(rendered, view)]


def test_a_check_whose_condition_is_false_is_skipped_with_the_condition() -> None:
    expect = {
        "json": [
            {"path": "$.role", "equals": "admin", "if": "{{ expect_admin }}", "name": "admin role"},
            {"path": "$.role", "equals": "user", "if": "{{ not expect_admin }}"},
            {"path": "$.n", "equals": 2},
        ]
    }
    admin, user, count = checked(expect, {"expect_admin": False})
    assert admin["outcome"] == "skipped"
    assert admin["passed"] is False
    assert admin["reason"] == "if {{ expect_admin }}: false"
    assert admin["name"] == "admin role"
    assert admin["message"] == "[admin role] $.role: skipped (if {{ expect_admin }}: false)"
    assert user["outcome"] == "passed"
    assert count["outcome"] == "passed"
    flipped = checked(expect, {"expect_admin": True})
    assert [check["outcome"] for check in flipped] == ["failed", "skipped", "passed"]


def test_literal_conditions_and_texts_true_and_false() -> None:
    expect = {
        "json": [
            {"path": "$.n", "equals": 3, "if": False},
            {"path": "$.n", "equals": 2, "if": True},
            {"path": "$.n", "equals": 3, "if": "FALSE"},
            {"path": "$.n", "equals": 2, "if": "{{ 'true' }}"},
        ]
    }
    outcomes = [check["outcome"] for check in checked(expect, {})]
    assert outcomes == ["skipped", "passed", "skipped", "passed"]
    assert checked(expect, {})[0]["reason"] == "if false: false"


def test_operands_of_a_skipped_check_are_not_rendered() -> None:
    expect = {"json": [{"path": "$.n", "equals": "{{ missing.value }}", "if": "{{ missing is defined }}"}]}
    (only,) = checked(expect, {})
    assert only["outcome"] == "skipped"


def test_the_condition_wins_over_the_status_gate_reason() -> None:
    expect = {"status": 201, "json": [{"path": "$.n", "equals": 2, "if": False}, {"path": "$.n", "gt": 0}]}
    _, conditioned, gated = checked(expect, {})
    assert conditioned["reason"] == "if false: false"
    assert gated["reason"] == "status check failed"


def test_a_condition_that_is_not_a_boolean_is_an_error_naming_the_check() -> None:
    expect = Expect.model_validate({"json": [{"path": "$.n", "equals": 2, "if": "{{ role }}"}]})
    with pytest.raises(FlowError) as caught:
        render_expect(expect, {"role": "admin"})
    assert str(caught.value) == (
        "expect.json $.n: if '{{ role }}' rendered to 'admin' (str); a condition must be true or false"
    )
    with pytest.raises(TemplateError) as undefined:
        render_expect(expect, {})
    assert "expect.json $.n if: 'role' is undefined" in str(undefined.value)


@pytest.mark.parametrize(
    ("check", "said"),
    [
        ("{path: $.n, equals: 2, if: maybe}", "if is true, false or a template, got 'maybe'"),
        ("{path: $.n, equals: 2, if: 1}", "if"),
        ("{path: $.n, equals: 2, if: [true]}", "if"),
        ("{path: $.n, if: true}", "a json check needs at least one of"),
        ("{path: $.n, equals: 2, iff: true}", "unknown key 'iff' (did you mean 'if'?)"),
    ],
)
def test_bad_conditions_are_refused_when_loaded(check: str, said: str) -> None:
    text = f"""
        name: t
        steps:
          - request: {{url: /x}}
            expect:
              json:
                - {check}
    """
    with pytest.raises(DefinitionError) as caught:
        parse_document(textwrap.dedent(text), "t.yaml")
    assert said in str(caught.value)
    assert "t.yaml:7:" in str(caught.value)


def test_a_condition_keeps_its_place_when_stored_and_read_back() -> None:
    text = """
        name: t
        steps:
          - request: {url: /x}
            expect:
              json:
                - {path: $.n, if: "{{ strict }}", equals: 2}
    """
    definition = parse_document(textwrap.dedent(text), "t.yaml")
    assert isinstance(definition, TestCaseDefinition)
    stored = definition.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert stored["steps"][0]["expect"]["json"] == [{"path": "$.n", "if": "{{ strict }}", "equals": 2}]
    assert TestCaseDefinition.model_validate(stored) == definition


def test_a_skipped_check_does_not_fail_its_step() -> None:
    expect = Expect.model_validate({"status": 200, "json": [{"path": "$.n", "equals": 9, "if": False}]})
    assert all_passed(evaluate(render_expect(expect, {}), VIEW))
    gated = Expect.model_validate({"status": 201, "json": [{"path": "$.n", "equals": 2}]})
    assert not all_passed(evaluate(gated, VIEW))  # the gate skips the body checks; the status failed
