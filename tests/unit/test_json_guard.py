"""The JSON body guard's scan: exact at the limit, blind to brackets in strings, linear on hostile input."""

from __future__ import annotations

import json
import time

import pytest

from orchestra.kit.json_guard import is_json_media_type, json_body_problem, nesting_exceeds


def depth_of(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(child) for child in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(child) for child in value), default=0)
    return 0


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"a": [1, {"b": [[], {}]}]},
        [[[[[]]]], [[]], {"x": {"y": {"z": {}}}}],
        {"text": '[[[[[[{{{{ " ]]]] \\ \\" [[[[', "more": [{"k": "}}}}]]]]"}]},
    ],
)
def test_the_scan_agrees_with_the_parsed_depth(document: object) -> None:
    body = json.dumps(document).encode()
    depth = depth_of(document)
    assert not nesting_exceeds(body, depth)
    assert nesting_exceeds(body, depth - 1) == (depth > 0)


def test_exactly_at_the_limit() -> None:
    for limit in (1, 2, 64, 128):
        assert not nesting_exceeds(b"[" * limit + b"]" * limit, limit)
        assert nesting_exceeds(b"[" * (limit + 1) + b"]" * (limit + 1), limit)
        assert nesting_exceeds(b"[[]" * (limit + 1), limit)  # never a long run, still deep


def test_brackets_in_strings_do_not_count() -> None:
    assert not nesting_exceeds(json.dumps(["[" * 1000, "{" * 1000, '\\"[' * 1000]).encode(), 2)
    assert not nesting_exceeds(json.dumps({"[" * 500: "]" * 500}).encode(), 1)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 2_000_000,
        b"[]" * 1_000_000,
        b"[[]]" * 500_000,
        b'"\\"' * 700_000,  # an unterminated string full of escaped quotes
        b'"' + b"[" * 2_000_000,
    ],
)
def test_hostile_bodies_of_2_mib_are_scanned_quickly(body: bytes) -> None:
    started = time.perf_counter()
    nesting_exceeds(body, 128)
    assert time.perf_counter() - started < 2  # typically 5-250 ms; quadratic would take minutes


def test_problems() -> None:
    assert json_body_problem(b'{"a": [1, 2], "b": {"c": null}}') is None
    assert json_body_problem(b"[" * 100_000) == (
        400,
        "the JSON body is nested deeper than 128 levels of arrays and objects",
    )
    assert json_body_problem(b'{"a": {"b": 1, "b": 2}}') == (
        422,
        "the JSON body has the key 'b' twice in one object",
    )
    status, detail = json_body_problem(b"1" * 5000) or (0, "")
    assert status == 400
    assert "4300 digits" in detail
    # Left to FastAPI, which reports them with the position or as invalid UTF-8.
    assert json_body_problem(b"{not json") is None
    assert json_body_problem(b'{"a": "\xff"}') is None


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("application/problem+json", True),
        ("text/json", False),
        ("application/jsonl", False),
        ("application/x-www-form-urlencoded", False),
        ("", False),
    ],
)
def test_json_media_types(content_type: str, expected: bool) -> None:
    assert is_json_media_type(content_type) is expected
