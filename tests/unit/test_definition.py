"""The pydantic models of the YAML format: what they accept, normalise and reject (with which message)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from orchestra.definitions.testcase_model import (
    CaptureSpec,
    DataRequirements,
    Expect,
    HttpMethod,
    LengthComparison,
    Matcher,
    RequestSpec,
    RequestStep,
    RetrySpec,
    SetStep,
    SleepStep,
    StatusRange,
    SuiteDefinition,
    TestCaseDefinition,
    as_matcher,
    compile_jsonpath,
)


def error_messages(model: type[Any], data: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [error["msg"].removeprefix("Value error, ") for error in caught.value.errors()]


def make_test_case(*steps: dict[str, Any], **fields: Any) -> TestCaseDefinition:
    return TestCaseDefinition.model_validate({"name": "t", "steps": list(steps) or [{"sleep": 1}], **fields})


# --- requests -----------------------------------------------------------------------------------------


def test_request_defaults() -> None:
    spec = RequestSpec.model_validate({"url": "{{ env.base_url }}/x"})
    assert spec.method is HttpMethod.GET
    assert (spec.headers, spec.query, spec.form, spec.raw_body, spec.timeout_ms) == ({}, {}, None, None, None)
    assert spec.follow_redirects is False
    assert spec.has_json_body is False


@pytest.mark.parametrize("method", ["post", "POST", "Post"])
def test_method_is_case_insensitive(method: str) -> None:
    assert RequestSpec.model_validate({"url": "u", "method": method}).method is HttpMethod.POST


def test_unknown_method_is_rejected() -> None:
    assert "Input should be 'GET'" in error_messages(RequestSpec, {"url": "u", "method": "FETCH"})[0]


def test_json_null_is_a_body_but_absent_json_is_not() -> None:
    with_null = RequestSpec.model_validate({"url": "u", "json": None})
    assert with_null.has_json_body
    assert with_null.json_body is None
    assert RequestSpec.model_validate({"url": "u", "json": {"a": [1]}}).json_body == {"a": [1]}


@pytest.mark.parametrize(
    "bodies", [{"json": 1, "body": "x"}, {"json": None, "form": {}}, {"body": "x", "form": {"a": "b"}}]
)
def test_at_most_one_body(bodies: dict[str, Any]) -> None:
    assert error_messages(RequestSpec, {"url": "u", **bodies}) == [
        "a request may have at most one of: json, body, form, multipart"
    ]


def test_scalar_header_and_form_values_become_text() -> None:
    spec = RequestSpec.model_validate({"url": "u", "headers": {"X-N": 5, "X-F": True, "X-R": 1.5}})
    assert spec.headers == {"X-N": "5", "X-F": "true", "X-R": "1.5"}
    assert RequestSpec.model_validate({"url": "u", "form": {"n": 2}}).form == {"n": "2"}


def test_query_values_keep_their_types() -> None:
    spec = RequestSpec.model_validate({"url": "u", "query": {"a": 1, "b": [True, "x"], "c": 1.5}})
    assert spec.query == {"a": 1, "b": [True, "x"], "c": 1.5}


@pytest.mark.parametrize("timeout", [0, 600_001])
def test_timeout_bounds(timeout: int) -> None:
    with pytest.raises(ValidationError):
        RequestSpec.model_validate({"url": "u", "timeout_ms": timeout})


def test_url_is_required_and_not_empty() -> None:
    assert error_messages(RequestSpec, {}) == ["Field required"]
    assert error_messages(RequestSpec, {"url": ""}) == ["String should have at least 1 character"]


# --- matchers -----------------------------------------------------------------------------------------


def test_as_matcher_recognises_mappings_of_matcher_keys_only() -> None:
    matcher = as_matcher({"type": "integer", "gt": 0})
    assert isinstance(matcher, Matcher)
    assert matcher.type == "integer"
    assert matcher.gt == 0
    assert as_matcher({"type": "order", "id": 1}) is None  # another key: a literal object
    assert as_matcher({}) is None
    assert as_matcher("text") is None
    assert as_matcher(matcher) is matcher


def test_an_object_that_looks_like_a_matcher_is_compared_with_equals() -> None:
    expect = Expect.model_validate(
        {"json": {"$.a": {"equals": {"type": "string"}}, "$.b": {"type": "x", "id": 1}}}
    )
    matcher = expect.json_paths["$.a"]
    assert isinstance(matcher, Matcher)
    assert matcher.equals == {"type": "string"}
    assert expect.json_paths["$.b"] == {"type": "x", "id": 1}


def test_invalid_regex_is_rejected_at_definition_time() -> None:
    assert error_messages(Matcher, {"matches": "("}) == ["invalid regular expression '(': missing ): ("]


def test_regex_with_template_is_checked_after_rendering() -> None:
    assert Matcher.model_validate({"matches": "^{{ prefix }}(-"}).matches == "^{{ prefix }}(-"


def test_unknown_type_name_is_rejected() -> None:
    assert "Input should be 'string', 'number'" in error_messages(Matcher, {"type": "float"})[0]


@pytest.mark.parametrize(
    ("given", "stored"), [(10, 10), (7.5, 7.5), ("10", 10), ("2.5", 2.5), ("{{ min }}", "{{ min }}")]
)
def test_numeric_operands_accept_numbers_numeric_text_and_templates(given: Any, stored: Any) -> None:
    assert Matcher.model_validate({"gt": given}).gt == stored


@pytest.mark.parametrize("bad", ["abc", True, [1]])
def test_numeric_operands_reject_other_values(bad: Any) -> None:
    assert error_messages(Matcher, {"lte": bad}) == [f"expected a number, got {bad!r}"]


def test_length_is_a_count_or_a_comparison() -> None:
    assert Matcher.model_validate({"length": 3}).length == 3
    comparison = Matcher.model_validate({"length": {"gte": 1, "lt": 5}}).length
    assert isinstance(comparison, LengthComparison)
    assert (comparison.gte, comparison.lt) == (1, 5)
    assert error_messages(Matcher, {"length": -1}) == ["expected a non-negative integer, got -1"]
    assert error_messages(Matcher, {"length": 1.5}) == ["expected a non-negative integer, got 1.5"]
    assert error_messages(Matcher, {"length": {}}) == [
        "a length comparison needs at least one of: gt, gte, lt, lte"
    ]


def test_matcher_needs_a_key_and_one_of_needs_options() -> None:
    assert error_messages(Matcher, {})[0].startswith("a matcher needs at least one of: equals, not_equals")
    assert error_messages(Matcher, {"one_of": []}) == [
        "List should have at least 1 item after validation, not 0"
    ]


# --- status, expect ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (200, 200),
        ([200, 204], [200, 204]),
        ("2xx", "2xx"),
        ("4XX", "4xx"),
        ({"min": 200, "max": 299}, StatusRange(min=200, max=299)),
    ],
)
def test_status_forms(given: Any, stored: Any) -> None:
    assert Expect.model_validate({"status": given}).status == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (99, "a status code is an integer from 100 to 599, got 99"),
        (600, "a status code is an integer from 100 to 599, got 600"),
        (True, "status is a code, a list of codes, a class like '2xx' or {min, max}, got True"),
        ([], "a list of status codes needs at least one code"),
        ([200, "201"], "a status code is an integer from 100 to 599, got '201'"),
        ("2xxx", "a status class looks like '2xx' or '4xx', got '2xxx'"),
        ("6xx", "a status class looks like '2xx' or '4xx', got '6xx'"),
        ({"min": 200}, "a status range needs exactly the keys min and max"),
        ({"min": 500, "max": 400}, "status range min (500) is greater than max (400)"),
        (2.5, "status is a code, a list of codes, a class like '2xx' or {min, max}, got 2.5"),
    ],
)
def test_bad_status(given: Any, message: str) -> None:
    assert error_messages(Expect, {"status": given}) == [message]


def test_invalid_json_schema_is_rejected() -> None:
    assert error_messages(Expect, {"schema": {"type": "strin"}}) == [
        "invalid JSON Schema at $.type: 'strin' is not valid under any of the given schemas"
    ]


def test_invalid_jsonpath_key_is_rejected() -> None:
    assert error_messages(Expect, {"json": {"$.items[": 1}}) == [
        "invalid JSONPath '$.items[': Parse error near the end of string!"
    ]


def test_header_names_are_unique_ignoring_case() -> None:
    assert error_messages(Expect, {"headers": {"X-A": "1", "x-a": "2"}}) == [
        "a header is listed twice (header names are case-insensitive)"
    ]


def test_body_null_is_an_expectation_but_absent_body_is_not() -> None:
    assert Expect.model_validate({"body": None}).has_body
    assert not Expect.model_validate({}).has_body


def test_max_ms_must_be_positive() -> None:
    assert error_messages(Expect, {"max_ms": 0}) == ["Input should be greater than 0"]


# --- captures, retry -----------------------------------------------------------------------------------


def test_capture_sources() -> None:
    step = RequestStep.model_validate(
        {
            "request": {"url": "u"},
            "capture": {"a": "$.id", "b": {"header": "Location", "default": None}, "c": {"status": True}},
        }
    )
    assert step.capture["a"] == "$.id"
    spec = step.capture["b"]
    assert isinstance(spec, CaptureSpec)
    assert spec.header == "Location"
    assert spec.has_default
    assert not CaptureSpec.model_validate({"body": True}).has_default


@pytest.mark.parametrize("spec", [{}, {"json": "$.a", "header": "X"}, {"status": True, "body": True}])
def test_capture_needs_exactly_one_source(spec: dict[str, Any]) -> None:
    assert error_messages(CaptureSpec, spec) == ["a capture needs exactly one of: json, header, status, body"]


def test_capture_status_must_be_true() -> None:
    assert error_messages(CaptureSpec, {"status": False}) == ["Input should be True"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "order-id",
            "'order-id' is not a valid variable name (letters, digits and _, not starting with a digit)",
        ),
        ("1st", "'1st' is not a valid variable name (letters, digits and _, not starting with a digit)"),
        ("env", "'env' is a reserved name (data, env, response, run, secrets, step, vars)"),
        ("response", "'response' is a reserved name (data, env, response, run, secrets, step, vars)"),
    ],
)
def test_variable_names(name: str, message: str) -> None:
    assert error_messages(RequestStep, {"request": {"url": "u"}, "capture": {name: "$.a"}}) == [message]
    assert error_messages(SetStep, {"set": {name: 1}}) == [message]
    assert error_messages(
        TestCaseDefinition, {"name": "t", "steps": [{"sleep": 1}], "variables": {name: 1}}
    ) == [message]


def test_capture_shorthand_must_be_a_valid_jsonpath() -> None:
    messages = error_messages(RequestStep, {"request": {"url": "u"}, "capture": {"a": "$.a b"}})
    assert messages == ["invalid JSONPath '$.a b': Parse error at 1:4 near token b (ID)"]


def test_capture_must_be_a_path_or_a_mapping() -> None:
    assert error_messages(RequestStep, {"request": {"url": "u"}, "capture": {"a": 5}}) == [
        "a capture is a JSONPath or a mapping with one of: json, header, status, body"
    ]


def test_retry() -> None:
    retry = RetrySpec.model_validate({"attempts": 3, "until": {"json": {"$.state": "done"}}})
    assert (retry.attempts, retry.interval_ms) == (3, 500)
    assert retry.until is not None
    assert retry.until.json_paths == {"$.state": "done"}
    for bad in ({"attempts": 0}, {"attempts": 1001}, {"attempts": 2, "interval_ms": -1}):
        with pytest.raises(ValidationError):
            RetrySpec.model_validate(bad)


# --- steps -------------------------------------------------------------------------------------------


def test_step_kind_is_chosen_by_key() -> None:
    definition = make_test_case({"request": {"url": "u"}}, {"set": {"a": 1}}, {"sleep": 10})
    assert [type(step) for step in definition.steps] == [RequestStep, SetStep, SleepStep]


@pytest.mark.parametrize("step", [{}, {"name": "x"}, {"request": {"url": "u"}, "sleep": 1}, "sleep", [1]])
def test_step_needs_exactly_one_kind(step: Any) -> None:
    assert error_messages(TestCaseDefinition, {"name": "t", "steps": [step]}) == [
        "a step needs exactly one of: request, set, sleep, include"
    ]


def test_display_names() -> None:
    definition = make_test_case(
        {"request": {"method": "post", "url": "{{ env.base_url }}/orders"}},
        {"request": {"url": "/x"}, "name": "named"},
        {"set": {"order_id": 1, "other": 2}},
        {"sleep": "250ms"},
        {"sleep": 250},
        {"sleep": 1.5},
    )
    names = [step.display_name(index) for index, step in enumerate(definition.steps)]
    assert names == [
        "POST {{ env.base_url }}/orders",
        "named",
        "set order_id, other",
        "sleep 250ms",
        "sleep 250ms",
        "sleep 1.5ms",
    ]


@pytest.mark.parametrize(
    ("sleep", "milliseconds"),
    [
        (250, 250),
        (0, 0),
        (0.5, 0.5),
        ("250ms", 250),
        ("1.5s", 1500),
        ("2m", 120_000),
        ("1h", 3_600_000),
        (" 3 s ", 3000),
    ],
)
def test_sleep_durations(sleep: Any, milliseconds: float) -> None:
    assert SleepStep.model_validate({"sleep": sleep}).duration_ms == milliseconds


@pytest.mark.parametrize(
    ("sleep", "message"),
    [
        ("abc", "invalid duration 'abc': use milliseconds or a string like '250ms', '1.5s', '2m'"),
        (
            "10 parsecs",
            "invalid duration '10 parsecs': use milliseconds or a string like '250ms', '1.5s', '2m'",
        ),
        ("-1s", "invalid duration '-1s': use milliseconds or a string like '250ms', '1.5s', '2m'"),
        ("", "invalid duration '': use milliseconds or a string like '250ms', '1.5s', '2m'"),
        ("61m", "sleep must be between 0 and 1 hour, got '61m'"),
        (3_600_001, "sleep must be between 0 and 1 hour, got 3600001"),
        (-5, "sleep must be between 0 and 1 hour, got -5"),
        (True, "sleep is a number of milliseconds or a string like '1.5s', got True"),
        (None, "sleep is a number of milliseconds or a string like '1.5s', got None"),
    ],
)
def test_bad_sleep(sleep: Any, message: str) -> None:
    assert error_messages(SleepStep, {"sleep": sleep}) == [message]


def test_set_needs_a_variable() -> None:
    assert error_messages(SetStep, {"set": {}}) == [
        "Dictionary should have at least 1 item after validation, not 0"
    ]


# --- test cases and suites --------------------------------------------------------------------------------


def test_test_case_defaults_and_fields() -> None:
    definition = make_test_case(
        variables={"a": 1}, tags=["x"], timeout_s=2.5, data={"requires": "a customer", "region": "eu"}
    )
    assert (definition.setup, definition.teardown, definition.description) == ([], [], None)
    assert definition.variables == {"a": 1}
    assert definition.tags == ["x"]
    assert definition.timeout_s == 2.5
    assert isinstance(definition.data, DataRequirements)
    assert definition.data.requires == "a customer"
    assert definition.data.model_extra == {"region": "eu"}


def test_test_case_class_is_not_collected_by_pytest() -> None:
    assert TestCaseDefinition.__test__ is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"steps": [{"sleep": 1}]}, "Field required"),
        ({"name": "", "steps": [{"sleep": 1}]}, "String should have at least 1 character"),
        ({"name": "x" * 201, "steps": [{"sleep": 1}]}, "String should have at most 200 characters"),
        ({"name": "t", "steps": []}, "List should have at least 1 item after validation, not 0"),
        ({"name": "t", "steps": [{"sleep": 1}], "timeout_s": 0}, "Input should be greater than 0"),
        ({"name": "t", "steps": [{"sleep": 1}], "owner": "me"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_test_case(data: dict[str, Any], message: str) -> None:
    assert error_messages(TestCaseDefinition, data) == [message]


def test_suite() -> None:
    suite = SuiteDefinition.model_validate({"suite": "s", "tests": ["a", "b"], "parallelism": 2})
    assert (suite.suite, suite.tests, suite.parallelism, suite.project) == ("s", ["a", "b"], 2, None)
    assert SuiteDefinition.model_validate({"suite": "s", "tests": ["*"]}).tests == ["*"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"suite": "s", "tests": []}, "List should have at least 1 item after validation, not 0"),
        ({"suite": "s", "tests": ["*", "a"]}, '"*" must be the only entry of tests'),
        ({"suite": "s", "tests": ["a", "b", "a"]}, "test case 'a' is listed more than once"),
        ({"suite": "s", "tests": ["a"], "parallelism": 0}, "Input should be greater than or equal to 1"),
        ({"suite": "s", "tests": [""]}, "String should have at least 1 character"),
    ],
)
def test_bad_suite(data: dict[str, Any], message: str) -> None:
    assert error_messages(SuiteDefinition, data) == [message]


def test_dump_and_validate_round_trip() -> None:
    """The API stores ``model_dump(by_alias, exclude_unset)`` and validates it again before running."""
    definition = make_test_case(
        {
            "request": {"method": "put", "url": "u", "json": None, "headers": {"X": 1}},
            "expect": {
                "status": {"min": 200, "max": 204},
                "headers": {"X-A": {"exists": False}},
                "json": {"$.a": {"gt": "{{ x }}", "length": {"gte": 1}}, "$.b": {"type": "x", "id": 1}},
                "body": None,
            },
            "capture": {"a": "$.a", "b": {"json": "$.b", "default": None}},
            "retry": {"attempts": 2, "until": {"status": "2xx"}},
        },
        {"set": {"a": "{{ 1 }}"}},
        {"sleep": "1.5s"},
    )
    stored = definition.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert stored["steps"][0]["request"] == {"method": "PUT", "url": "u", "json": None, "headers": {"X": "1"}}
    assert stored["steps"][0]["expect"]["status"] == {"min": 200, "max": 204}
    again = TestCaseDefinition.model_validate(stored)
    assert again == definition
    assert again.model_dump(mode="json", by_alias=True, exclude_unset=True) == stored


def test_model_json_schema_is_generated() -> None:
    schema = TestCaseDefinition.model_json_schema(by_alias=True)
    assert set(schema["required"]) == {"name", "steps"}
    assert "json" in schema["$defs"]["RequestSpec"]["properties"]


def test_jsonpaths_are_compiled_once() -> None:
    assert compile_jsonpath("$.cached.path") is compile_jsonpath("$.cached.path")
