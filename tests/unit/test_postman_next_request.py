"""Where a run goes after postman.setNextRequest, as newman: the request of that name (the last of several),
before or after; null or an unknown name ends the pass; only the steps of the same phase are candidates."""

from __future__ import annotations

from orchestra.definitions.testcase_model import TestCaseDefinition
from orchestra.executor.next_request import jump_of
from orchestra.executor.plan import compile_plan
from orchestra.steps.outcome import NextRequest

DEFINITION = TestCaseDefinition.model_validate(
    {
        "name": "collection",
        "steps": [
            {"name": "log in", "request": {"method": "GET", "url": "http://h/a"}},
            {"name": "Orders / list", "request": {"method": "GET", "url": "http://h/b"}},
            {"name": "Orders / create", "request": {"method": "GET", "url": "http://h/c"}},
            {"name": "Archive / list", "request": {"method": "GET", "url": "http://h/d"}},
        ],
        "teardown": [{"name": "tidy", "request": {"method": "GET", "url": "http://h/e"}}],
    }
)
PLAN = compile_plan(DEFINITION)
CREATE = PLAN.steps[2]


def test_a_name_goes_to_that_request_before_or_after() -> None:
    back = jump_of(PLAN, CREATE, NextRequest("log in"))
    assert (back.position, back.counted) == (0, True)
    assert back.note == "postman.setNextRequest('log in'): the run goes on with 'log in'"
    itself = jump_of(PLAN, CREATE, NextRequest("create"))  # the request's own name, without its folder
    assert (itself.position, itself.counted) == (2, True)
    full = jump_of(PLAN, PLAN.steps[0], NextRequest("Orders / create"))
    assert full.position == 2


def test_of_several_requests_with_the_name_the_last_is_taken() -> None:
    assert jump_of(PLAN, PLAN.steps[0], NextRequest("list")).position == 3


def test_null_or_an_unknown_name_ends_the_pass_before_the_teardown() -> None:
    stop = jump_of(PLAN, PLAN.steps[1], NextRequest(None))
    assert (stop.position, stop.counted) == (4, False)  # the teardown step (seq 4) still runs
    assert PLAN.steps[4].phase == "teardown"
    assert stop.note == "postman.setNextRequest(null): the collection stops after this request"
    unknown = jump_of(PLAN, PLAN.steps[1], NextRequest("tidy"))  # a teardown step is not a candidate
    assert (unknown.position, unknown.counted) == (4, False)
    assert "no request has that name" in unknown.note
