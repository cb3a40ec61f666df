"""Named checks (the list form of ``expect.json``), status gating, and ``on_failure`` / ``on_error``."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from typing import Any

import pytest

from orchestra.ai_tools.evidence import EvidenceStep, failed_expectations
from orchestra.definitions.loader import DefinitionError, parse_document
from orchestra.definitions.testcase_model import Expect, JsonPathCheck, TestCaseDefinition
from orchestra.executor.run_execution import _graver
from orchestra.models.run_states import RunStatus
from orchestra.runs.reports import step_lines
from orchestra.runs.schemas import StepResultOut
from orchestra.steps.expectations import STATUS_FAILED, all_passed, evaluate, render_expect
from orchestra.steps.outcome import StepOutcome, is_failed_check
from orchestra.steps.response import ResponseView
from orchestra.steps.templating import TemplateError

BODY = {"id": 5, "tags": ["a", "b", "c"]}


def response(status: int = 200, body: Any = None, content_type: str = "application/json") -> ResponseView:
    text = json.dumps(BODY if body is None else body) if content_type == "application/json" else str(body)
    return ResponseView(status, {"Content-Type": content_type, "X-Trace": "t1"}, text, 5.0)


def checks(expect: dict[str, Any], view: ResponseView, **options: bool) -> list[dict[str, Any]]:
    return [result.to_dict() for result in evaluate(Expect.model_validate(expect), view, **options)]


def parse(text: str) -> TestCaseDefinition:
    definition = parse_document(textwrap.dedent(text), "t.yaml")
    assert isinstance(definition, TestCaseDefinition)
    return definition


def problems(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_document(textwrap.dedent(text), "t.yaml")
    return [str(issue) for issue in caught.value.issues]


# --- named checks: the list form of expect.json ---------------------------------------------------------


def test_two_checks_on_one_path_are_reported_apart_under_their_names() -> None:
    expect = {
        "json": [
            {"path": "$.tags", "contains": "a"},
            {"path": "$.tags", "length": 2, "name": "two tags"},
        ]
    }
    first, second = checks(expect, response())
    assert first == {
        "check": "json $.tags",
        "passed": True,
        "outcome": "passed",
        "expected": {"contains": "a"},
        "actual": ["a", "b", "c"],
        "message": "$.tags: expected to contain 'a', got ['a', 'b', 'c']",
    }
    assert second["name"] == "two tags"
    assert second["outcome"] == "failed"
    assert second["message"] == "[two tags] $.tags: expected length 2, got 3"


def test_the_list_form_checks_like_the_mapping_form() -> None:
    as_mapping = checks({"json": {"$.id": {"gt": 1, "lt": 3}, "$.missing": {"exists": False}}}, response())
    as_list = checks(
        {"json": [{"path": "$.id", "gt": 1, "lt": 3}, {"path": "$.missing", "exists": False}]}, response()
    )
    assert as_list == as_mapping
    assert [check["passed"] for check in as_list] == [False, True]


def test_a_named_check_that_matches_nothing_says_so_under_its_name() -> None:
    (result,) = checks({"json": [{"path": "$.nope", "equals": 1, "name": "has nope"}]}, response())
    assert result["message"] == "[has nope] $.nope: expected 1, but the path matched nothing"


def test_the_mapping_form_keeps_its_meaning_and_a_matcher_like_name_key_stays_a_literal() -> None:
    expect = Expect.model_validate({"json": {"$.meta": {"name": "x"}}})
    assert expect.json_checks() == [("$.meta", {"name": "x"}, None, None)]
    (result,) = checks({"json": {"$.meta": {"name": "x"}}}, response(body={"meta": {"name": "x"}}))
    assert result["passed"]
    assert "name" not in result


def test_templates_in_list_form_operands_are_rendered_and_keep_path_and_name() -> None:
    expect = Expect.model_validate(
        {"json": [{"path": "$.id", "equals": "{{ wanted }}", "name": "the id"}, {"path": "$.id", "gt": 1}]}
    )
    rendered = render_expect(expect, {"wanted": 5})
    assert isinstance(rendered.json_paths, list)
    assert rendered.json_paths[0] == JsonPathCheck(path="$.id", equals=5, name="the id")
    assert rendered.json_paths[1] is expect.json_paths[1]  # nothing to render: the same check
    assert all_passed(evaluate(rendered, response()))
    broken = Expect.model_validate({"json": [{"path": "$.id", "equals": "{{ nope }}"}]})
    with pytest.raises(TemplateError, match=r"expect.json \$.id"):
        render_expect(broken, {})


def test_a_rendered_list_form_operand_is_checked_again() -> None:
    expect = Expect.model_validate({"json": [{"path": "$.tags", "length": "{{ size }}"}]})
    with pytest.raises(TemplateError, match="non-negative integer"):
        render_expect(expect, {"size": -1})


# --- status gating ---------------------------------------------------------------------------------------


GATED = {
    "status": 200,
    "headers": {"X-Trace": "t1"},
    "json": [{"path": "$.id", "equals": 5, "name": "the id"}],
    "schema": {"type": "object", "required": ["id"]},
    "body": {"contains": "id"},
    "max_ms": 1000,
}


def test_a_failed_status_skips_the_body_checks_with_the_reason() -> None:
    results = checks(GATED, response(500, "<h1>oops</h1>", "text/html"))
    assert [(result["check"], result["outcome"]) for result in results] == [
        ("status", "failed"),
        ("header X-Trace", "passed"),
        ("json $.id", "skipped"),
        ("schema", "skipped"),
        ("body", "skipped"),
        ("max_ms", "passed"),
    ]
    skipped = results[2]
    assert skipped["reason"] == STATUS_FAILED
    assert skipped["passed"] is False
    assert skipped["name"] == "the id"
    assert skipped["message"] == "[the id] $.id: skipped (status check failed)"
    assert results[3]["message"] == "schema: skipped (status check failed)"


def test_without_gating_every_check_is_evaluated() -> None:
    results = checks(GATED, response(500, "<h1>oops</h1>", "text/html"), status_gates=False)
    assert [result["outcome"] for result in results] == [
        "failed",
        "passed",
        "failed",
        "failed",
        "failed",
        "passed",
    ]
    assert "not JSON" in results[2]["message"]


def test_a_passed_status_or_no_status_check_gates_nothing() -> None:
    assert all(result["outcome"] == "passed" for result in checks(GATED, response(200)))
    no_status = {key: value for key, value in GATED.items() if key != "status"}
    results = checks(no_status, response(500, "<h1>oops</h1>", "text/html"))
    assert "skipped" not in [result["outcome"] for result in results]


def test_gating_does_not_change_the_verdict_nor_the_first_problem() -> None:
    view = response(404, {"detail": "no"})
    for gates in (True, False):
        results = evaluate(Expect.model_validate(GATED), view, status_gates=gates)
        outcome = StepOutcome("failed", assertions=[result.to_dict() for result in results])
        assert not all_passed(results)
        assert outcome.first_problem == "status: expected 200, got 404"


# --- what reports make of skipped and named checks ---------------------------------------------------------


def test_reports_list_failed_and_skipped_checks_with_their_names() -> None:
    assertions = checks(GATED, response(500, "<h1>oops</h1>", "text/html"))
    step = StepResultOut(
        seq=0, phase="main", name="read", status="failed", attempts=1, request=None,
        response={"status": 500, "elapsed_ms": 5.0}, assertions=assertions, error=None,
        started_at=datetime.now(UTC), duration_ms=5.0,
    )  # fmt: skip
    assert step_lines([step]) == [
        "[failed] main/read (5 ms)",
        "    -> HTTP 500 in 5.0 ms",
        "    FAILED status: expected 200, got 500",
        "    SKIPPED [the id] $.id: skipped (status check failed)",
        "    SKIPPED schema: skipped (status check failed)",
        "    SKIPPED body: skipped (status check failed)",
    ]


def test_a_skipped_check_is_not_a_failed_one() -> None:
    failed, skipped = (checks(GATED, response(500, "x", "text/html"))[index] for index in (0, 2))
    assert is_failed_check(failed)
    assert not is_failed_check(skipped)
    assert not is_failed_check({"check": "status", "passed": True})
    assert is_failed_check({"check": "status", "passed": False})  # stored before outcomes were kept
    evidence = EvidenceStep(seq=0, name="read", phase="main", status="failed", assertions=[failed, skipped])
    assert failed_expectations(evidence) == [failed]
    assert StepOutcome("failed", assertions=[skipped, failed]).first_problem == failed["message"]


# --- on_failure / on_error / status_gates: defaults and a step's own ----------------------------------------


def test_defaults_keep_the_old_meaning() -> None:
    definition = parse("""
        name: t
        steps:
          - request: {url: x}
          - set: {a: 1}
        """)
    assert (definition.on_failure, definition.on_error, definition.status_gates) == ("stop", "stop", True)
    assert definition.policy_of(definition.steps[0]) == ("stop", "stop", True)


def test_a_step_option_overrides_the_test_default() -> None:
    definition = parse("""
        name: t
        on_failure: continue
        on_error: continue
        status_gates: false
        steps:
          - request: {url: x}
          - request: {url: x}
            on_failure: stop
            on_error: stop
            status_gates: true
          - request: {url: x}
            status_gates: false
          - sleep: 1
        """)
    policies = [definition.policy_of(step) for step in definition.steps]
    assert policies == [
        ("continue", "continue", False),
        ("stop", "stop", True),
        ("continue", "continue", False),
        ("continue", "continue", False),
    ]


def test_the_graver_problem_makes_the_verdict_and_the_earlier_wins_a_tie() -> None:
    failed = {"status": RunStatus.FAILED, "reason": "first"}
    failed_later = {"status": RunStatus.FAILED, "reason": "later"}
    error = {"status": RunStatus.ERROR, "reason": "error"}
    cancelled = {"status": RunStatus.CANCELLED, "reason": "cancelled"}
    assert _graver(None, None) is None
    assert _graver(failed, None) is failed
    assert _graver(None, error) is error
    assert _graver(failed, failed_later) is failed
    assert _graver(failed, error) is error
    assert _graver(error, failed) is error
    assert _graver(error, cancelled) is cancelled


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: t\non_failure: go\nsteps: [{sleep: 1}]\n",
            "t.yaml:2:13: on_failure: Input should be 'continue' or 'stop', got 'go'",
        ),
        (
            "name: t\non_error: [stop]\nsteps: [{sleep: 1}]\n",
            "t.yaml:2:11: on_error: Input should be 'continue' or 'stop', got a list",
        ),
        (
            "name: t\nstatus_gates: 'yes'\nsteps: [{sleep: 1}]\n",
            "t.yaml:2:15: status_gates: Input should be a valid boolean, got 'yes'",
        ),
        (
            "name: t\nsteps:\n  - request: {url: x}\n    status_gates: 1\n",
            "t.yaml:4:19: steps[0].status_gates: Input should be a valid boolean, got 1",
        ),
        (
            "name: t\nsteps:\n  - request: {url: x}\n    on_failure: true\n",
            "t.yaml:4:17: steps[0].on_failure: Input should be 'continue' or 'stop', got true",
        ),
        (
            "name: t\non_failur: continue\nsteps: [{sleep: 1}]\n",
            "t.yaml:2:1: unknown key 'on_failur' (did you mean 'on_failure'?)",
        ),
        (
            "name: t\nsteps:\n  - request: {url: x}\n    on_eror: continue\n",
            "t.yaml:4:5: steps[0]: unknown key 'on_eror' (did you mean 'on_error'?)",
        ),
        (
            "name: t\nsteps:\n  - request: {url: x}\n    status_gate: false\n",
            "t.yaml:4:5: steps[0]: unknown key 'status_gate' (did you mean 'status_gates'?)",
        ),
        (
            "name: t\nsteps:\n  - sleep: 1\n    on_failure: continue\n",
            "t.yaml:4:5: steps[0]: unknown key 'on_failure' (allowed: if, for_each, repeat, as, name, sleep)",
        ),
    ],
)
def test_bad_policy_options_are_refused_at_their_place(text: str, expected: str) -> None:
    assert problems(text) == [expected]


LIST_STEP = "name: t\nsteps:\n  - request: {url: x}\n    expect:\n      json:\n"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "{contains: a}",
            [
                "t.yaml:6:11: steps[0].expect.json[0]: missing required key 'path'",
            ],
        ),
        (
            "{path: $.a}",
            [
                "t.yaml:6:11: steps[0].expect.json[0]: a json check needs at least one of: equals, "
                "not_equals, contains, not_contains, matches, exists, type, length, gt, gte, lt, lte, one_of"
            ],
        ),
        (
            "{path: $.a, name: x}",
            [
                "t.yaml:6:11: steps[0].expect.json[0]: a json check needs at least one of: equals, "
                "not_equals, contains, not_contains, matches, exists, type, length, gt, gte, lt, lte, one_of"
            ],
        ),
        (
            "{path: '$.a[', equals: 1}",
            [
                "t.yaml:6:18: steps[0].expect.json[0].path: invalid JSONPath '$.a[': Parse error near the "
                "end of string!"
            ],
        ),
        (
            "{path: $.a, equals: 1, name: ''}",
            ["t.yaml:6:40: steps[0].expect.json[0].name: String should have at least 1 character, got ''"],
        ),
        (
            "{path: $.a, equals: 1, name: [x]}",
            ["t.yaml:6:40: steps[0].expect.json[0].name: Input should be a valid string, got a list"],
        ),
        (
            "{path: $.a, equals: 1, nme: x}",
            ["t.yaml:6:34: steps[0].expect.json[0]: unknown key 'nme' (did you mean 'name'?)"],
        ),
        (
            "{path: $.a, lenght: 2}",
            ["t.yaml:6:23: steps[0].expect.json[0]: unknown key 'lenght' (did you mean 'length'?)"],
        ),
        (
            "{path: $.a, type: float}",
            [
                "t.yaml:6:29: steps[0].expect.json[0].type: Input should be 'string', 'number', "
                "'integer', 'boolean', 'object', 'array' or 'null', got 'float'"
            ],
        ),
        ("$.a", ["t.yaml:6:11: steps[0].expect.json[0]: Input should be a mapping, got '$.a'"]),
    ],
)
def test_bad_list_form_checks_are_refused_at_their_place(item: str, expected: list[str]) -> None:
    assert problems(f"{LIST_STEP}        - {item}\n") == expected


def test_json_that_is_neither_a_mapping_nor_a_list_is_refused() -> None:
    assert problems("name: t\nsteps: [{request: {url: x}, expect: {json: 5}}]\n") == [
        "t.yaml:2:44: steps[0].expect.json: json is a mapping of JSONPath to expected value, or a list "
        "of checks with a path"
    ]
