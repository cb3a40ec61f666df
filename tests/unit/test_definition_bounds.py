"""Every number of a definition is bounded, and a definition with a huge number of problems gets a short
report, found in time linear in its size."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orchestra.definitions import schema_export
from orchestra.definitions.loader import (
    MAX_REPORTED_ISSUES,
    DefinitionError,
    parse_document,
    validate_test_case_data,
)


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        validate_test_case_data(data)
    return [issue.message for issue in caught.value.issues]


def request_step(**fields: Any) -> dict[str, Any]:
    return {"request": {"url": "http://x"}, **fields}


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"timeout_s": 1e308}, "Input should be less than or equal to 86400"),
        ({"timeout_s": float("inf")}, "Input should be less than or equal to 86400"),
        ({"timeout_s": float("nan")}, "Input should be less than or equal to 86400"),
        ({"steps": [request_step(expect={"max_ms": 10**12})]}, "less than or equal to 600000"),
        ({"steps": [{"request": {"url": "http://x", "timeout_ms": 10**9}}]}, "less than or equal to 600000"),
        ({"steps": [request_step(retry={"attempts": 10**6})]}, "less than or equal to 1000"),
        (
            {"steps": [request_step(retry={"attempts": 2, "interval_ms": 10**9})]},
            "less than or equal to 600000",
        ),
        ({"steps": [{"sleep": 1e308}]}, "sleep must be between 0 and 1 hour"),
        ({"steps": [{"sleep": "1e308h"}]}, "invalid duration"),
        ({"steps": [request_step(expect={"json": {"$.a": {"gt": 1e308}}})]}, "expected a number from"),
        ({"steps": [request_step(expect={"json": {"$.a": {"length": 10**30}}})]}, "expected a number from"),
        ({"steps": [request_step(expect={"json": {"$.a": {"lt": "nan"}}})]}, "expected a number from"),
        ({"data": {"requires": "x", "seed": 10**30}}, "less than or equal to 9223372036854775807"),
    ],
)
def test_numbers_out_of_bounds_are_refused(definition: dict[str, Any], message: str) -> None:
    data = {"name": "t", "steps": [{"sleep": 1}], **definition}
    assert any(message in problem for problem in problems_of(data)), problems_of(data)


def test_numbers_within_bounds_keep_their_meaning() -> None:
    definition = validate_test_case_data(
        {
            "name": "t",
            "timeout_s": 86400,
            "steps": [
                request_step(expect={"max_ms": 600000, "json": {"$.a": {"gt": -(2**53), "length": 3}}})
            ],
        }
    )
    assert definition.timeout_s == 86400


def test_the_published_schema_states_the_bounds() -> None:
    schema = schema_export.testcase_json_schema()
    assert schema["properties"]["timeout_s"]["anyOf"][0]["maximum"] == 86400
    assert '"maximum": 9007199254740992' in str(schema).replace("'", '"')


def test_a_json_definition_with_110000_unknown_keys_gets_a_short_report() -> None:
    keys = {f"k{i}": 1 for i in range(110_000)}
    started = time.perf_counter()
    with pytest.raises(DefinitionError) as caught:
        validate_test_case_data({"name": "t", "steps": [{"request": {"url": "http://x", **keys}}]})
    assert time.perf_counter() - started < 10
    issues = caught.value.issues
    assert len(str(caught.value)) < 10_000
    assert issues[0].message.count("unknown key") == MAX_REPORTED_ISSUES  # one place, 50 problems
    assert issues[-1].message == "and 109950 more problems, not listed (at most 50 are)"


def test_locating_the_problems_of_a_yaml_file_is_linear() -> None:
    def parse_seconds(keys: int) -> float:
        lines = "\n".join(f"      k{i}: 1" for i in range(keys))
        started = time.perf_counter()
        with pytest.raises(DefinitionError) as caught:
            parse_document(f"name: t\nsteps:\n  - request:\n      url: http://x\n{lines}\n", "t.yaml")
        elapsed = time.perf_counter() - started
        issues = caught.value.issues
        assert len(issues) == MAX_REPORTED_ISSUES + 1
        assert (issues[0].line, issues[0].column) == (5, 7)
        assert issues[-1].message == f"and {keys - 50} more problems, not listed (at most 50 are)"
        return elapsed

    small, large = parse_seconds(10_000), parse_seconds(40_000)
    assert large < 20  # before: 8,000 keys 6.4 s, 60,000 more than a minute
    assert large / small < 10  # four times the keys: about four times the time, not sixteen
