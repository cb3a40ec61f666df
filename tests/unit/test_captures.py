"""Capturing values from responses into variables, and the failures when there is nothing to capture."""

from __future__ import annotations

import json
from typing import Any

from orchestra.definitions.testcase_model import CaptureSpec, RequestStep
from orchestra.steps.captures import apply_captures
from orchestra.steps.response import ResponseView

RESPONSE = ResponseView(
    201,
    {"Content-Type": "application/json", "Location": "/orders/5"},
    json.dumps({"id": 5, "items": [{"id": 1}, {"id": 2}], "next": None, "empty": []}),
    10.0,
)


def captures(capture: dict[str, Any], response: ResponseView = RESPONSE) -> tuple[dict[str, Any], list[str]]:
    """Captures validated the way a definition is, so the shorthand and mappings are exercised as in YAML."""
    step = RequestStep.model_validate({"request": {"url": "u"}, "capture": capture})
    values, failures = apply_captures(step.capture, response)
    assert all(not failure.passed and failure.check.startswith("capture ") for failure in failures)
    return values, [failure.message for failure in failures]


def test_jsonpath_shorthand_and_mapping() -> None:
    assert captures({"order_id": "$.id", "same": {"json": "$.id"}}) == ({"order_id": 5, "same": 5}, [])


def test_several_matches_capture_the_list_and_one_match_its_value() -> None:
    values, _ = captures(
        {"ids": "$.items[*].id", "first": "$.items[0]", "empty": "$.empty", "next": "$.next"}
    )
    assert values == {"ids": [1, 2], "first": {"id": 1}, "empty": [], "next": None}


def test_filters() -> None:
    assert captures({"second": "$.items[?(@.id == 2)].id"})[0] == {"second": 2}


def test_header_status_and_body() -> None:
    values, failures = captures(
        {"where": {"header": "location"}, "code": {"status": True}, "raw": {"body": True}}
    )
    assert values == {"where": "/orders/5", "code": 201, "raw": RESPONSE.text}
    assert failures == []


def test_nothing_matched_is_a_failure() -> None:
    values, failures = captures({"order_id": "$.order.id", "token": {"header": "X-Token"}})
    assert values == {}
    assert failures == [
        "capture order_id: $.order.id matched nothing in the response",
        "capture token: header X-Token is missing from the response",
    ]


def test_defaults_are_used_when_nothing_matched() -> None:
    values, failures = captures(
        {"a": {"json": "$.nope", "default": None}, "b": {"header": "X-Nope", "default": "none"}}
    )
    assert (values, failures) == ({"a": None, "b": "none"}, [])


def test_body_that_is_not_json() -> None:
    html = ResponseView(200, {"Content-Type": "text/html"}, "<p>hello</p>", 1.0)
    values, failures = captures({"a": "$.id", "b": {"json": "$.id", "default": 0}, "c": {"body": True}}, html)
    assert values == {"b": 0, "c": "<p>hello</p>"}
    assert failures == ["capture a: response body is not JSON (content-type: text/html): '<p>hello</p>'"]


def test_failure_result_shape() -> None:
    _, failures = apply_captures({"order_id": "$.missing"}, RESPONSE)
    assert failures[0].to_dict() == {
        "check": "capture order_id",
        "passed": False,
        "outcome": "failed",
        "expected": "$.missing",
        "actual": None,
        "message": "capture order_id: $.missing matched nothing in the response",
    }


def test_plain_mappings_are_accepted_too() -> None:
    capture: dict[str, Any] = {"a": {"json": "$.id"}, "b": CaptureSpec(status=True)}
    assert apply_captures(capture, RESPONSE) == ({"a": 5, "b": 201}, [])
