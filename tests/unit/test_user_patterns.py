"""Patterns written by test authors run in linear time: no input can make a check backtrack for seconds."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from pydantic import ValidationError

from orchestra.definitions.testcase_model import Expect
from orchestra.kit.user_patterns import PatternError, check_pattern, schema_problems, search
from orchestra.steps.expectations import evaluate
from orchestra.steps.response import ResponseView

EVIL = "^(a+)+$"
HOSTILE_TEXT = "a" * 28 + "!"  # 12.8 s with Python's re, doubling with every further 'a'


def json_response(body: Any) -> ResponseView:
    return ResponseView(200, {"Content-Type": "application/json"}, json.dumps(body), 12.0)


def test_a_catastrophic_pattern_is_matched_in_linear_time() -> None:
    started = time.perf_counter()
    assert not search(EVIL, HOSTILE_TEXT)
    assert not search(EVIL, "a" * 1_000_000 + "!")
    assert time.perf_counter() - started < 1


def test_matches_with_a_catastrophic_pattern_fails_quickly() -> None:
    expect = Expect.model_validate({"json": {"$.name": {"matches": EVIL}}})
    started = time.perf_counter()
    [result] = evaluate(expect, json_response({"name": HOSTILE_TEXT}))
    assert not result.passed
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "pattern": EVIL},
        {"type": "object", "patternProperties": {EVIL: {"type": "integer"}}},
        {"type": "object", "patternProperties": {EVIL: {}}, "additionalProperties": False},
    ],
)
def test_schema_patterns_are_matched_in_linear_time(schema: dict[str, Any]) -> None:
    expect = Expect.model_validate({"schema": schema})
    body = HOSTILE_TEXT if schema["type"] == "string" else {HOSTILE_TEXT: "x"}
    started = time.perf_counter()
    [result] = evaluate(expect, json_response(body))
    assert result.passed is ("integer" in str(schema))  # the key does not match: nothing to check
    assert time.perf_counter() - started < 1


def test_schema_patterns_still_work() -> None:
    schema = {
        "type": "object",
        "properties": {"id": {"type": "string", "pattern": "^[0-9a-f]{4}$"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    expect = Expect.model_validate({"schema": schema})
    assert evaluate(expect, json_response({"id": "00af", "x-count": 3}))[0].passed
    [failed] = evaluate(expect, json_response({"id": "zz", "x-count": "3", "other": 1}))
    assert "'zz' does not match '^[0-9a-f]{4}$'" in failed.message
    assert "'3' is not of type 'integer'" in failed.message
    assert "'other' do not match any of the regexes: '^x-'" in failed.message


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(", "missing ): ("),
        ("(?=a)b", "invalid perl operator: (?="),
        ("(a)\\1", "invalid escape sequence: \\1"),
        ("a{1001}", "invalid repetition size: {1001}"),
        ("(a{1000}){1000}", "invalid repetition size: {1000}"),
        ("\\pL{1000}" * 3, "pattern too large - compile failed"),
    ],
)
def test_patterns_re2_cannot_run_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        check_pattern(pattern)
    assert str(caught.value) == reason
    with pytest.raises(ValidationError, match="invalid regular expression"):
        Expect.model_validate({"json": {"$.a": {"matches": pattern}}})


def test_a_schema_re2_cannot_run_is_refused_when_loaded() -> None:
    assert schema_problems({"properties": {"a": {"pattern": "(?!x)"}}}) == [
        "invalid regular expression '(?!x)': invalid perl operator: (?!"
    ]
    mixed = {"patternProperties": {"^a": {}}, "unevaluatedProperties": False}
    with pytest.raises(ValidationError, match="unevaluatedProperties cannot be used"):
        Expect.model_validate({"schema": mixed})
