"""Every number of a definition is bounded, and a definition with a huge number of problems gets a short
report, found in time linear in its size."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from orchestra.definitions import loader, schema_export
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
    with pytest.raises(DefinitionError) as caught:
        validate_test_case_data({"name": "t", "steps": [{"request": {"url": "http://x", **keys}}]})
    issues = caught.value.issues
    assert len(str(caught.value)) < 10_000
    assert issues[0].message.count("unknown key") == MAX_REPORTED_ISSUES  # one place, 50 problems
    assert issues[-1].message == "and 109950 more problems, not listed (at most 50 are)"


def lines_run_in(module_file: str, action: Callable[[], object]) -> int:
    """How many lines of ``module_file`` ``action`` runs (loop iterations included): a measure of work
    that does not depend on how busy the machine is."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename == module_file else None

    sys.settrace(calls)
    try:
        action()
    finally:
        sys.settrace(None)
    return count


def test_locating_the_problems_of_a_yaml_file_is_linear() -> None:
    def parse_work(keys: int) -> int:
        lines = "\n".join(f"      k{i}: 1" for i in range(keys))
        text = f"name: t\nsteps:\n  - request:\n      url: http://x\n{lines}\n"
        caught: list[DefinitionError] = []

        def parse() -> None:
            try:
                parse_document(text, "t.yaml")
            except DefinitionError as error:
                caught.append(error)

        work = lines_run_in(loader.__file__, parse)
        issues = caught[0].issues
        assert len(issues) == MAX_REPORTED_ISSUES + 1
        assert (issues[0].line, issues[0].column) == (5, 7)
        assert issues[-1].message == f"and {keys - 50} more problems, not listed (at most 50 are)"
        return work

    small, large = parse_work(2_000), parse_work(8_000)
    # four times the keys: about four times the work, not sixteen (before: 8,000 keys took 6.4 s)
    assert large / small < 5
