"""A step's ``if``, ``for_each`` and ``repeat``: what a definition may say, what its templates must give."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.definitions.loader import DefinitionError, validate_test_case_data
from orchestra.definitions.testcase_model import MAX_ITERATIONS, FlowControl, RequestStep
from orchestra.steps.flow_control import FlowError, condition_holds, iteration_variables, loop_items
from orchestra.steps.starting_variables import render_variables
from orchestra.steps.templating import TemplateError, build_scope


def step(**flow: Any) -> FlowControl:
    return RequestStep.model_validate({"request": {"url": "/x"}, **flow})


def problems(**flow: Any) -> str:
    with pytest.raises(DefinitionError) as caught:
        validate_test_case_data({"name": "t", "steps": [{"request": {"url": "/x"}, **flow}]})
    return str(caught.value)


def scope(**variables: Any) -> dict[str, Any]:
    return build_scope(base_url="http://sut", variables=variables, secrets={"token": "s3cr3t-token"})


def test_a_step_without_flow_keys_keeps_its_meaning() -> None:
    plain = step()
    assert (plain.condition, plain.for_each, plain.repeat, plain.loops) == (None, None, None, False)


@pytest.mark.parametrize(
    ("condition", "scope_vars", "holds"),
    [
        (True, {}, True),
        (False, {}, False),
        ("true", {}, True),
        ("FALSE", {}, False),
        ("{{ n > 1 }}", {"n": 2}, True),
        ("{{ n > 1 }}", {"n": 0}, False),
        ("{{ flag }}", {"flag": "false"}, False),
        ("{{ flag }}", {"flag": " True "}, True),
    ],
)
def test_a_condition_renders_to_a_boolean(condition: Any, scope_vars: dict[str, Any], holds: bool) -> None:
    assert condition_holds(step(**{"if": condition}), scope(**scope_vars)) is holds


@pytest.mark.parametrize("value", ["yes", 1, None, [], "", {"a": 1}])
def test_a_condition_that_is_not_a_boolean_is_an_error(value: Any) -> None:
    with pytest.raises(
        FlowError, match=r"if '\{\{ value \}\}' rendered to .*a condition must be true or false"
    ):
        condition_holds(step(**{"if": "{{ value }}"}), scope(value=value))


def test_a_condition_naming_an_unknown_variable_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="'nope' is undefined"):
        condition_holds(step(**{"if": "{{ nope }}"}), scope())


@pytest.mark.parametrize(
    ("flow", "message"),
    [
        ({"if": "yes"}, "if is true, false or a template"),
        ({"if": 1}, "if"),
        ({"for_each": "a, b"}, "for_each is a list or a template"),
        ({"for_each": {"a": 1}}, "for_each"),
        ({"for_each": 3}, "for_each"),
        ({"for_each": list(range(MAX_ITERATIONS + 1))}, "at most 1000 items"),
        ({"repeat": MAX_ITERATIONS + 1}, "repeat is at most 1000"),
        ({"repeat": -1}, "non-negative integer"),
        ({"repeat": 2.5}, "non-negative integer"),
        ({"repeat": "many"}, "expected a number"),
        ({"repeat": 2, "for_each": [1]}, "for_each or repeat, not both"),
        ({"as": "user"}, "'as' names the loop variable"),
        ({"repeat": 2, "as": "loop"}, "'loop' holds the loop's index"),
        ({"repeat": 2, "as": "env"}, "reserved name"),
        ({"repeat": 2, "as": "2x"}, "not a valid variable name"),
    ],
)
def test_bad_flow_keys_are_definition_errors(flow: dict[str, Any], message: str) -> None:
    assert message in problems(**flow)


def test_loops_of_the_largest_size_are_accepted() -> None:
    assert step(repeat=MAX_ITERATIONS).repeat == MAX_ITERATIONS
    assert len(loop_items(step(for_each=list(range(MAX_ITERATIONS))), scope())) == MAX_ITERATIONS


def test_for_each_gives_the_items_of_a_list_or_of_a_template() -> None:
    assert loop_items(step(for_each=["a", "{{ n }}"]), scope(n=2)) == ["a", 2]
    assert loop_items(step(for_each="{{ users }}"), scope(users=[{"id": 1}])) == [{"id": 1}]
    assert loop_items(step(for_each="{{ range(3) | list }}"), scope()) == [0, 1, 2]


@pytest.mark.parametrize(
    ("value", "kind"), [("abc", "str"), ({"a": 1}, "dict"), (7, "int"), (None, "NoneType")]
)
def test_for_each_over_a_non_list_is_an_error(value: Any, kind: str) -> None:
    with pytest.raises(FlowError, match=rf"rendered to .* \({kind}\); it must be a list"):
        loop_items(step(for_each="{{ value }}"), scope(value=value))


def test_a_rendered_loop_longer_than_the_bound_is_refused_before_it_starts() -> None:
    with pytest.raises(FlowError, match="1001 items; a step runs at most 1000 times"):
        loop_items(step(for_each="{{ range(1001) | list }}"), scope())
    with pytest.raises(FlowError, match="repeat is 5000; a step runs at most 1000 times"):
        loop_items(step(repeat="{{ n }}"), scope(n=5000))


@pytest.mark.parametrize(("count", "items"), [(3, [1, 2, 3]), ("3", [1, 2, 3]), (0, [])])
def test_repeat_counts_from_one(count: Any, items: list[int]) -> None:
    assert loop_items(step(repeat="{{ n }}"), scope(n=count)) == items


@pytest.mark.parametrize("count", [-1, "two", 1.5, True, [3]])
def test_repeat_of_something_else_than_a_count_is_an_error(count: Any) -> None:
    with pytest.raises(FlowError, match="it must be a count"):
        loop_items(step(repeat="{{ n }}"), scope(n=count))


def test_an_iteration_sees_its_item_and_the_loop() -> None:
    variables = iteration_variables(step(for_each=["a", "b"], **{"as": "name"}), ["a", "b"], 1)
    assert variables == {
        "name": "b",
        "loop": {"index": 2, "index0": 1, "first": False, "last": True, "length": 2},
    }
    assert iteration_variables(step(repeat=3), [1, 2, 3], 0)["item"] == 1


def start(written: dict[str, Any], given: dict[str, Any] | None = None) -> dict[str, Any]:
    return render_variables(written, given or {}, lambda values: scope(**values))


def test_variables_render_in_written_order_each_seeing_the_ones_before() -> None:
    rendered = start(
        {
            "username": "user-{{ run_number }}",
            "email": "{{ username }}@mail.com",
            "auth": "Bearer {{ secrets.token }}",
            "host": "{{ env.base_url }}",
            "count": "{{ 2 * 3 }}",
            "nested": {"to": ["{{ email }}"]},
        },
        {"run_number": 7},
    )
    assert rendered == {
        "username": "user-7",
        "email": "user-7@mail.com",
        "auth": "Bearer s3cr3t-token",
        "host": "http://sut",
        "count": 6,
        "nested": {"to": ["user-7@mail.com"]},
        "run_number": 7,
    }
    assert list(rendered) == ["username", "email", "auth", "host", "count", "nested", "run_number"]


def test_a_variable_given_by_the_run_is_taken_as_given_and_seen_by_the_others() -> None:
    rendered = start(
        {"username": "{{ uuid4() }}", "email": "{{ username }}@mail.com"}, {"username": "{{ x }}"}
    )
    assert rendered == {"username": "{{ x }}", "email": "{{ x }}@mail.com"}


def test_a_variable_cannot_see_the_ones_after_it() -> None:
    with pytest.raises(TemplateError, match=r"variable 'email': 'username' is undefined"):
        start({"email": "{{ username }}@mail.com", "username": "bob"})


@pytest.mark.parametrize(
    ("url", "relative"),
    [("/users", True), ("users?page=2", True), ("http://h/x", False), ("//h/x", False), ("ftp://h", False)],
)
def test_only_urls_without_scheme_and_host_are_joined_to_the_base_url(url: str, relative: bool) -> None:
    from orchestra.steps.cleanup_call import join_url
    from orchestra.steps.request_step import _is_relative

    assert _is_relative(url) is relative
    if relative:
        assert join_url("http://host/api", url) == f"http://host/api/{url.lstrip('/')}"
