"""Checking responses: each matcher passes and fails with a precise message, and results are storable."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from orchestra.definitions.testcase_model import Expect, Matcher
from orchestra.steps.expectations import AssertionResult, all_passed, evaluate, render_expect
from orchestra.steps.response import ResponseView, from_httpx
from orchestra.steps.templating import TemplateError

BODY = {
    "id": 5,
    "status": "pending",
    "price": 7.5,
    "items": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, {"id": 3, "name": "c"}],
    "tags": ["x", "y"],
    "meta": {"type": "order", "v": 1},
    "email": "not-an-email",
    "flag": True,
    "nothing": None,
    "whole": 2.0,
}


def json_response(
    body: Any = None, status: int = 200, elapsed_ms: float = 12.0, headers: dict[str, str] | None = None
) -> ResponseView:
    text = json.dumps(BODY if body is None else body)
    return ResponseView(status, {"Content-Type": "application/json", **(headers or {})}, text, elapsed_ms)


def check(expect: dict[str, Any], response: ResponseView | None = None) -> AssertionResult:
    results = evaluate(Expect.model_validate(expect), response or json_response())
    assert len(results) == 1
    return results[0]


def json_check(path: str, expected: Any, response: ResponseView | None = None) -> AssertionResult:
    return check({"json": {path: expected}}, response)


# --- the response view ------------------------------------------------------------------------------------


def test_response_view_parses_json_lazily_and_once() -> None:
    view = ResponseView(200, {"X-A": "1"}, '{"a": [1]}', 3.0)
    assert view.is_json
    assert view.json_value == {"a": [1]}
    assert view.json_value is view.json_value
    assert view.headers["x-a"] == "1"
    assert view.content_type == ""


@pytest.mark.parametrize("text", ["<html>", "", "{", "[" * 100_000 + "]" * 100_000])
def test_response_view_never_raises_on_bodies_that_are_not_json(text: str) -> None:
    view = ResponseView(200, {}, text, 1.0)
    assert not view.is_json
    assert view.json_value is None


def test_response_view_json_null_is_json() -> None:
    view = ResponseView(200, {}, "null", 1.0)
    assert view.is_json
    assert view.json_value is None


def test_response_view_from_httpx() -> None:
    response = httpx.Response(201, headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], json={"ok": True})
    view = ResponseView.from_httpx(response, 4.5)
    assert (view.status, view.json_value, view.elapsed_ms) == (201, {"ok": True}, 4.5)
    assert view.headers["set-cookie"] == "a=1, b=2"
    assert view.content_type == "application/json"
    assert from_httpx(response, 1.0).status == 201


# --- status -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "actual", "passed", "message"),
    [
        (200, 200, True, "status: expected 200, got 200"),
        (200, 500, False, "status: expected 200, got 500"),
        ([200, 204], 204, True, "status: expected one of [200, 204], got 204"),
        ([200, 204], 500, False, "status: expected one of [200, 204], got 500"),
        ("2xx", 299, True, "status: expected 2xx, got 299"),
        ("4XX", 500, False, "status: expected 4xx, got 500"),
        ({"min": 200, "max": 299}, 201, True, "status: expected between 200 and 299, got 201"),
        ({"min": 200, "max": 299}, 300, False, "status: expected between 200 and 299, got 300"),
    ],
)
def test_status(status: Any, actual: int, passed: bool, message: str) -> None:
    result = check({"status": status}, json_response(status=actual))
    assert (result.check, result.passed, result.actual, result.message) == ("status", passed, actual, message)


# --- headers --------------------------------------------------------------------------------------------


def test_header_literal_is_exact_text_and_names_are_case_insensitive() -> None:
    passed = check({"headers": {"content-type": "application/json"}})
    assert (passed.check, passed.passed) == ("header content-type", True)
    failed = check({"headers": {"Content-Type": "text/html"}})
    assert not failed.passed
    assert failed.message == "header Content-Type: expected 'text/html', got 'application/json'"


def test_header_scalar_literals_compare_as_text() -> None:
    response = json_response(headers={"X-Count": "42", "X-Flag": "true"})
    assert check({"headers": {"X-Count": 42}}, response).passed
    assert check({"headers": {"X-Flag": True}}, response).passed


def test_missing_header() -> None:
    for expected in ("x", {"contains": "x"}, {"exists": True}):
        result = check({"headers": {"X-Foo": expected}})
        assert (result.passed, result.message) == (False, "header X-Foo is missing")


def test_absent_header_with_exists_false_passes() -> None:
    result = check({"headers": {"X-Foo": {"exists": False}}})
    assert (result.passed, result.message) == (
        True,
        "header X-Foo: expected not to exist, and header X-Foo is missing",
    )
    present = check({"headers": {"Content-Type": {"exists": False}}})
    assert present.message == "header Content-Type: expected not to exist, got 'application/json'"


def test_header_matchers_and_numeric_text() -> None:
    response = json_response(headers={"X-Total": "42"})
    assert check({"headers": {"X-Total": {"gt": 40, "matches": r"^\d+$"}}}, response).passed
    result = check({"headers": {"X-Total": {"lt": 10}}}, response)
    assert result.message == "header X-Total: expected < 10, got '42'"


# --- json: every matcher ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected", "message"),
    [
        ("$.status", "pending", "$.status: expected 'pending', got 'pending'"),
        ("$.id", 5.0, "$.id: expected 5.0, got 5"),
        (
            "$.meta",
            {"type": "order", "v": 1},
            "$.meta: expected {'type': 'order', 'v': 1}, got {'type': 'order', 'v': 1}",
        ),
        ("$.items[*].id", [1, 2, 3], "$.items[*].id: expected [1, 2, 3], got [1, 2, 3]"),
        ("$.items[?(@.id == 2)].name", "b", "$.items[?(@.id == 2)].name: expected 'b', got 'b'"),
        ("$.nothing", None, "$.nothing: expected null, got null"),
        ("$.status", {"equals": "pending"}, "$.status: expected 'pending', got 'pending'"),
        ("$.status", {"not_equals": "paid"}, "$.status: expected not 'paid', got 'pending'"),
        ("$.status", {"contains": "end"}, "$.status: expected to contain 'end', got 'pending'"),
        ("$.tags", {"contains": "y"}, "$.tags: expected to contain 'y', got ['x', 'y']"),
        (
            "$.meta",
            {"contains": {"type": "order"}},
            "$.meta: expected to contain {'type': 'order'}, got {'type': 'order', 'v': 1}",
        ),
        ("$.tags", {"not_contains": "z"}, "$.tags: expected not to contain 'z', got ['x', 'y']"),
        ("$.status", {"matches": "^pend"}, "$.status: expected to match '^pend', got 'pending'"),
        ("$.id", {"exists": True}, "$.id: expected to exist, got 5"),
        ("$.nope", {"exists": False}, "$.nope: expected not to exist, and the path matched nothing"),
        ("$.id", {"type": "integer"}, "$.id: expected type integer, got integer 5"),
        ("$.whole", {"type": "integer"}, "$.whole: expected type integer, got number 2.0"),
        ("$.price", {"type": "number"}, "$.price: expected type number, got number 7.5"),
        ("$.id", {"type": "number"}, "$.id: expected type number, got integer 5"),
        ("$.flag", {"type": "boolean"}, "$.flag: expected type boolean, got boolean true"),
        ("$.nothing", {"type": "null"}, "$.nothing: expected type null, got null null"),
        (
            "$.items",
            {"type": "array"},
            "$.items: expected type array, got array [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}, "
            "{'id': 3, 'name': 'c'}]",
        ),
        ("$.meta", {"type": "object"}, "$.meta: expected type object, got object {'type': 'order', 'v': 1}"),
        ("$.status", {"type": "string"}, "$.status: expected type string, got string 'pending'"),
        ("$.items", {"length": 3}, "$.items: expected length 3, got 3"),
        ("$.status", {"length": {"gte": 1, "lt": 8}}, "$.status: expected length >= 1 and < 8, got 7"),
        ("$.price", {"gt": 7}, "$.price: expected > 7, got 7.5"),
        ("$.price", {"gte": 7.5}, "$.price: expected >= 7.5, got 7.5"),
        ("$.price", {"lt": 8}, "$.price: expected < 8, got 7.5"),
        ("$.price", {"lte": 7.5}, "$.price: expected <= 7.5, got 7.5"),
        (
            "$.status",
            {"one_of": ["new", "pending"]},
            "$.status: expected one of ['new', 'pending'], got 'pending'",
        ),
        (
            "$.id",
            {"type": "integer", "gt": 0, "lt": 10},
            "$.id: expected type integer, got integer 5; expected > 0 and < 10, got 5",
        ),
    ],
)
def test_json_checks_that_pass(path: str, expected: Any, message: str) -> None:
    result = json_check(path, expected)
    assert (result.check, result.passed, result.message) == (f"json {path}", True, message)


@pytest.mark.parametrize(
    ("path", "expected", "message"),
    [
        ("$.status", "paid", "$.status: expected 'paid', got 'pending'"),
        ("$.id", "5", "$.id: expected '5', got 5"),
        ("$.flag", 1, "$.flag: expected 1, got true"),
        ("$.items[*].id", [1, 2], "$.items[*].id: expected [1, 2], got [1, 2, 3]"),
        ("$.status", {"equals": "paid"}, "$.status: expected 'paid', got 'pending'"),
        ("$.status", {"not_equals": "pending"}, "$.status: expected not 'pending', got 'pending'"),
        ("$.status", {"contains": "paid"}, "$.status: expected to contain 'paid', got 'pending'"),
        ("$.tags", {"contains": "z"}, "$.tags: expected to contain 'z', got ['x', 'y']"),
        (
            "$.meta",
            {"contains": {"v": 2}},
            "$.meta: expected to contain {'v': 2}, got {'type': 'order', 'v': 1}",
        ),
        (
            "$.id",
            {"contains": 5},
            "$.id: expected to contain 5, got 5 (not a string, list or object of that kind)",
        ),
        ("$.tags", {"not_contains": "x"}, "$.tags: expected not to contain 'x', got ['x', 'y']"),
        (
            "$.id",
            {"not_contains": 5},
            "$.id: expected not to contain 5, got 5 (not a string, list or object of that kind)",
        ),
        ("$.status", {"matches": "^paid$"}, "$.status: expected to match '^paid$', got 'pending'"),
        ("$.id", {"matches": "5"}, "$.id: expected to match '5', got 5 (not a string)"),
        ("$.id", {"exists": False}, "$.id: expected not to exist, got 5"),
        ("$.nope", {"exists": True}, "$.nope: expected to exist, but the path matched nothing"),
        ("$.nope", 5, "$.nope: expected 5, but the path matched nothing"),
        (
            "$.nope",
            {"gt": 1, "type": "integer"},
            "$.nope: expected type integer and > 1, but the path matched nothing",
        ),
        ("$.id", {"type": "string"}, "$.id: expected type string, got integer 5"),
        ("$.flag", {"type": "integer"}, "$.flag: expected type integer, got boolean true"),
        ("$.flag", {"type": "number"}, "$.flag: expected type number, got boolean true"),
        ("$.price", {"type": "integer"}, "$.price: expected type integer, got number 7.5"),
        ("$.items", {"length": 1}, "$.items: expected length 1, got 3"),
        ("$.items", {"length": {"lte": 2}}, "$.items: expected length <= 2, got 3"),
        ("$.id", {"length": 1}, "$.id: expected length 1, got 5 (which has no length)"),
        ("$.price", {"gt": 10}, "$.price: expected > 10, got 7.5"),
        ("$.price", {"gte": 8}, "$.price: expected >= 8, got 7.5"),
        ("$.price", {"lt": 7.5}, "$.price: expected < 7.5, got 7.5"),
        ("$.price", {"lte": 7}, "$.price: expected <= 7, got 7.5"),
        ("$.status", {"gt": 1}, "$.status: expected > 1, got 'pending' (not a number)"),
        ("$.flag", {"gt": 0}, "$.flag: expected > 0, got true (not a number)"),
        ("$.status", {"one_of": ["new", "paid"]}, "$.status: expected one of ['new', 'paid'], got 'pending'"),
        ("$.id", {"type": "integer", "gt": 10, "lt": 3}, "$.id: expected > 10 and < 3, got 5"),
        (
            "$.items",
            {"length": 1, "contains": 9},
            "$.items: expected to contain 9, got [{'id': 1, 'name': 'a'}, {'id': 2, 'name': 'b'}, "
            "{'id': 3, 'name': 'c'}]; expected length 1, got 3",
        ),
    ],
)
def test_json_checks_that_fail(path: str, expected: Any, message: str) -> None:
    result = json_check(path, expected)
    assert (result.passed, result.message) == (False, message)


def test_a_path_matching_several_values_compares_the_list() -> None:
    result = json_check("$.items[*].name", {"length": 3, "contains": "b"})
    assert result.passed
    assert result.actual == ["a", "b", "c"]


def test_json_checks_on_a_body_that_is_not_json() -> None:
    html = ResponseView(200, {"Content-Type": "text/html"}, "<html><body>" + "x" * 100, 5.0)
    result = json_check("$.id", {"exists": False}, html)
    assert not result.passed
    assert result.message == (
        "$.id: response body is not JSON (content-type: text/html): '<html><body>" + "x" * 68 + "'"
    )
    untyped = json_check("$.id", 1, ResponseView(200, {}, "plain", 1.0))
    assert untyped.message == "$.id: response body is not JSON (content-type: none): 'plain'"


def test_jsonpath_filters_skip_values_of_other_types() -> None:
    response = json_response({"items": [{"price": "cheap"}, {"price": 3}]})
    result = json_check("$.items[?(@.price > 1)]", {"exists": True}, response)
    assert result.passed
    assert result.actual == {"price": 3}


def test_regex_that_becomes_invalid_after_rendering_is_a_template_error() -> None:
    expect = Expect.model_validate({"json": {"$.status": {"matches": "{{ pattern }}"}}})
    with pytest.raises(TemplateError) as caught:
        render_expect(expect, {"pattern": "("})
    assert str(caught.value) == (
        "expect.json $.status: matches: invalid regular expression '(': missing ): ( (after rendering)"
    )


def test_an_invalid_regex_that_slipped_through_fails_the_check() -> None:
    expect = Expect(json_paths={"$.status": Matcher.model_construct(matches="(", _fields_set={"matches"})})
    result = evaluate(expect, json_response())[0]
    assert result.message == (
        "$.status: expected to match '(', got 'pending' (invalid regular expression: missing ): ()"
    )


# --- schema, body, time -------------------------------------------------------------------------------


SCHEMA = {
    "type": "object",
    "required": ["id", "sku"],
    "properties": {"id": {"type": "string"}, "email": {"type": "string", "format": "email"}},
}


def test_schema_passes() -> None:
    result = check({"schema": {"type": "object", "required": ["id"]}})
    assert (result.check, result.passed, result.message) == (
        "schema",
        True,
        "schema: the body matches the schema",
    )


def test_schema_failure_lists_errors_with_their_paths() -> None:
    result = check({"schema": SCHEMA})
    assert not result.passed
    assert result.message == (
        "schema: $: 'sku' is a required property; $.id: 5 is not of type 'string'; "
        "$.email: 'not-an-email' is not a 'email'"
    )
    assert result.actual == [
        "$: 'sku' is a required property",
        "$.id: 5 is not of type 'string'",
        "$.email: 'not-an-email' is not a 'email'",
    ]


def test_schema_failure_shows_at_most_five_errors() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    result = check({"schema": schema}, json_response(list(range(8))))
    assert result.message == (
        "schema: $[0]: 0 is not of type 'string'; $[1]: 1 is not of type 'string'; $[2]: 2 is not of type "
        "'string'; $[3]: 3 is not of type 'string'; $[4]: 4 is not of type 'string' (and 3 more)"
    )
    assert len(result.actual) == 5


def test_schema_on_a_body_that_is_not_json() -> None:
    result = check({"schema": SCHEMA}, ResponseView(200, {"content-type": "text/plain"}, "ok", 1.0))
    assert result.message == "schema: response body is not JSON (content-type: text/plain): 'ok'"


def test_body_checks() -> None:
    text = ResponseView(200, {"content-type": "text/plain"}, "all good", 1.0)
    assert check({"body": "all good"}, text).message == "body: expected 'all good', got 'all good'"
    assert check({"body": {"contains": "good", "length": 8}}, text).passed
    failed = check({"body": {"not_contains": "good"}}, text)
    assert (failed.passed, failed.message) == (False, "body: expected not to contain 'good', got 'all good'")
    assert check(
        {"body": {"ok": True}}, json_response({"ok": True})
    ).passed  # structured literal vs parsed JSON
    assert check({"body": None}, ResponseView(200, {}, "null", 1.0)).passed
    not_json = check({"body": [1]}, text)
    assert not_json.message == "body: response body is not JSON (content-type: text/plain): 'all good'"


def test_response_time() -> None:
    slow = check({"max_ms": 500}, json_response(elapsed_ms=812.34))
    assert (slow.check, slow.passed, slow.message) == (
        "max_ms",
        False,
        "response time: expected at most 500 ms, got 812.3 ms",
    )
    assert check({"max_ms": 500}, json_response(elapsed_ms=500.0)).passed


def test_evaluate_gives_one_result_per_check_in_a_fixed_order() -> None:
    expect = Expect.model_validate(
        {
            "max_ms": 1000,
            "body": {"contains": "pending"},
            "schema": {"type": "object"},
            "json": {"$.id": 5, "$.status": "paid"},
            "headers": {"Content-Type": {"contains": "json"}},
            "status": 200,
        }
    )
    results = evaluate(expect, json_response())
    assert [result.check for result in results] == [
        "status",
        "header Content-Type",
        "json $.id",
        "json $.status",
        "schema",
        "body",
        "max_ms",
    ]
    assert [result.passed for result in results] == [True, True, True, False, True, True, True]
    assert not all_passed(results)
    assert all_passed(results[:3])
    assert all_passed([])
    assert evaluate(Expect(), json_response()) == []


def test_to_dict_is_json_and_bounded() -> None:
    result = json_check("$.id", {"one_of": [1, 5]})
    assert result.to_dict() == {
        "check": "json $.id",
        "passed": True,
        "outcome": "passed",
        "expected": {"one_of": [1, 5]},
        "actual": 5,
        "message": "$.id: expected one of [1, 5], got 5",
    }
    big = ResponseView(200, {}, "x" * 10_000, 1.0)
    stored = check({"body": "y"}, big).to_dict()
    assert len(stored["actual"]) < 2100
    assert stored["actual"].endswith("...(truncated)")
    odd = AssertionResult("c", False, float("inf"), object(), "m").to_dict()
    json.dumps(odd, allow_nan=False)
    assert check({"status": {"min": 200, "max": 299}}).to_dict()["expected"] == {"min": 200, "max": 299}


# --- rendering expectations -------------------------------------------------------------------------------


def test_render_expect_renders_literals_operands_and_body() -> None:
    expect = Expect.model_validate(
        {
            "status": 200,
            "headers": {"X-Order": "{{ order_id }}"},
            "json": {
                "$.id": {"gt": "{{ min }}", "equals": "{{ order_id }}"},
                "$.url": "{{ env.base_url }}/o",
            },
            "body": {"length": "{{ size }}"},
        }
    )
    scope = {"order_id": 5, "min": "1", "size": 3, "env": {"base_url": "http://x"}}
    rendered = render_expect(expect, scope)
    assert rendered.headers == {"X-Order": 5}
    assert rendered.json_paths == {"$.id": Matcher(gt=1, equals=5), "$.url": "http://x/o"}
    assert rendered.body == Matcher(length=3)
    assert rendered.has_body
    assert expect.json_paths["$.url"] == "{{ env.base_url }}/o"  # the definition is not modified


def test_render_expect_without_templates_returns_the_same_objects() -> None:
    expect = Expect.model_validate({"status": 200, "json": {"$.id": {"gt": 1}}})
    assert render_expect(expect, {}).json_paths["$.id"] is expect.json_paths["$.id"]
    assert render_expect(Expect(status=200), {}) == Expect(status=200)


def test_render_expect_errors_say_where() -> None:
    expect = Expect.model_validate({"json": {"$.id": {"gt": "{{ min }}"}}})
    with pytest.raises(TemplateError) as undefined:
        render_expect(expect, {})
    assert str(undefined.value) == """expect.json $.id: 'min' is undefined in "{{ min }}\""""
    with pytest.raises(TemplateError) as not_a_number:
        render_expect(expect, {"min": "abc"})
    assert str(not_a_number.value) == "expect.json $.id: gt: expected a number, got 'abc' (after rendering)"


def test_literal_that_renders_to_a_matcher_shape_stays_a_literal() -> None:
    expect = render_expect(
        Expect.model_validate({"json": {"$.meta": "{{ shape }}"}}), {"shape": {"type": "order"}}
    )
    result = evaluate(expect, json_response())[0]
    assert (result.passed, result.message) == (
        False,
        "$.meta: expected {'type': 'order'}, got {'type': 'order', 'v': 1}",
    )
