"""Sandboxed template rendering: native values, clear errors, blocked escapes, and a cheap fast path."""

from __future__ import annotations

import re
from typing import Any

import pytest

from orchestra.steps import templating
from orchestra.steps.templating import TemplateError, build_scope, render_text, render_value

SCOPE = build_scope(
    base_url="http://sut:8080",
    environment={"token": "t0k"},
    secrets={"password": "s3cret"},
    variables={
        "order_id": 42,
        "price": 7.5,
        "items": [1, 2],
        "flag": True,
        "nothing": None,
        "order": {"items": 3},
    },
    data={"customer": {"id": "c-1"}},
    run={"id": "run-1", "attempt": 1},
)


def render_error(template: Any) -> str:
    with pytest.raises(TemplateError) as caught:
        render_value(template, SCOPE)
    return str(caught.value)


def test_scope_layout() -> None:
    assert SCOPE["env"] == {"token": "t0k", "base_url": "http://sut:8080"}
    assert SCOPE["vars"]["order_id"] == 42
    assert SCOPE["order_id"] == 42
    assert (SCOPE["secrets"], SCOPE["data"], SCOPE["run"]) == (
        {"password": "s3cret"},
        {"customer": {"id": "c-1"}},
        {"id": "run-1", "attempt": 1},
    )


def test_reserved_names_win_over_variables() -> None:
    scope = build_scope(base_url="http://x", variables={"env": "mine"})
    assert scope["env"] == {"base_url": "http://x"}
    assert scope["vars"] == {"env": "mine"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ order_id }}", 42),
        ("  {{ order_id + 1 }}  ", 43),
        ("{{- price -}}", 7.5),
        ("{{ items }}", [1, 2]),
        ("{{ order }}", {"items": 3}),
        ("{{ flag }}", True),
        ("{{ nothing }}", None),
        ("{{ (1, 2) }}", [1, 2]),
        ("{{ vars.order_id }}", 42),
        ("{{ data.customer.id }}", "c-1"),
        ("{{ run.attempt }}", 1),
    ],
)
def test_a_single_expression_keeps_its_type(template: str, expected: Any) -> None:
    assert render_value(template, SCOPE) == expected
    assert type(render_value(template, SCOPE)) is type(expected)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ env.base_url }}/orders/{{ order_id }}", "http://sut:8080/orders/42"),
        ("{{ env['base_url'] }}", "http://sut:8080"),
        ("Bearer {{ env.token }}", "Bearer t0k"),
        ("{{ order_id }}{{ order_id }}", "4242"),
        ("{% if flag %}yes{% else %}no{% endif %}", "yes"),
        ("x {{ flag }} {{ nothing }} {{ order }} {{ items }}", 'x true null {"items": 3} [1, 2]'),
        ("{{ '{{' }}", "{{"),
    ],
)
def test_other_templates_render_to_strings(template: str, expected: str) -> None:
    assert render_value(template, SCOPE) == expected


def test_dict_keys_win_over_dict_methods() -> None:
    assert render_value("{{ order.items }}", SCOPE) == 3


def test_render_text_always_gives_a_string() -> None:
    assert render_text("{{ order_id }}", SCOPE) == "42"
    assert render_text("plain", SCOPE) == "plain"


def test_containers_are_rendered_recursively_keys_included() -> None:
    value = {"id": "{{ order_id }}", "{{ env.token }}": ["{{ price }}", 1, None, {"deep": "{{ flag }}"}]}
    assert render_value(value, SCOPE) == {"id": 42, "t0k": [7.5, 1, None, {"deep": True}]}


def test_values_without_templates_are_returned_unchanged_and_uncopied() -> None:
    value = {"url": "http://x/a", "headers": {"a": "b"}, "query": [1, "two", {"x": None}]}
    assert render_value(value, SCOPE) is value
    for scalar in (5, 1.5, None, True, "plain"):
        assert render_value(scalar, SCOPE) is scalar


def test_a_changed_value_does_not_modify_the_original() -> None:
    value = {"a": ["{{ order_id }}"], "b": {"c": 1}}
    rendered = render_value(value, SCOPE)
    assert rendered == {"a": [42], "b": {"c": 1}}
    assert value == {"a": ["{{ order_id }}"], "b": {"c": 1}}
    assert rendered["b"] is value["b"]


def test_globals_and_filters() -> None:
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", render_value("{{ uuid4() }}", {})
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", render_value("{{ now() }}", {}))
    assert {render_value("{{ random_int(1, 3) }}", {}) for _ in range(200)} == {1, 2, 3}
    assert render_value("{{ 'user:pw' | b64encode }}", {}) == "dXNlcjpwdw=="
    assert render_value("{{ 'dXNlcjpwdw==' | b64decode }}", {}) == "user:pw"
    as_json = render_value("{{ order | tojson }}", SCOPE)
    assert as_json == '{"items": 3}'
    assert type(as_json) is str


def test_a_variable_hides_a_global_of_the_same_name_in_every_template_of_a_call() -> None:
    """The templates of one call look names up in one dictionary: the globals with the scope over them."""
    scope = {"now": "then", "next": 1}
    assert render_value(["{{ now }}", "{{ now }}!", "{{ uuid4() | length }}"], scope) == ["then", "then!", 36]


def test_an_assignment_in_one_template_is_not_seen_by_the_next() -> None:
    scope = {"next": 1}
    assert render_value(["{% set next = 9 %}{{ next }}", "{{ next }}"], scope) == ["9", 1]
    assert render_value({"{% set k = 'x' %}{{ k }}": "{{ k is defined }}"}, scope) == {"x": False}
    assert scope == {"next": 1}


def test_an_expression_with_more_after_it_is_a_syntax_error() -> None:
    assert render_error("{{ order_id order_id }}") == (
        'syntax error in "{{ order_id order_id }}": chunk after expression'
    )


# --- errors ---------------------------------------------------------------------------------------------


def test_undefined_name() -> None:
    assert render_error("{{ env.base_url }}/orders/{{ order_idd }}") == (
        """'order_idd' is undefined in "{{ env.base_url }}/orders/{{ order_idd }}\""""
    )
    assert render_error("{{ order_idd }}") == """'order_idd' is undefined in "{{ order_idd }}\""""


def test_undefined_key_lists_the_keys_that_exist() -> None:
    assert render_error("{{ env.base_urll }}") == (
        """'base_urll' is undefined (available keys: base_url, token) in "{{ env.base_urll }}\""""
    )
    assert render_error("{{ secrets['nope'] }}/x") == (
        """'nope' is undefined (available keys: password) in "{{ secrets['nope'] }}/x\""""
    )


def test_undefined_inside_a_native_container() -> None:
    assert render_error("{{ [1, missing] }}") == """'missing' is undefined in "{{ [1, missing] }}\""""


def test_undefined_inside_a_container_names_the_template() -> None:
    assert render_error({"a": ["ok", "{{ missing }}"]}) == """'missing' is undefined in "{{ missing }}\""""


def test_syntax_errors() -> None:
    assert render_error("{{ order_id") == (
        """syntax error in "{{ order_id": unexpected end of template, expected 'end of print statement'"""
    )
    assert render_error("{% for %}") == (
        """syntax error in "{% for %}": Expected an expression, got 'end of statement block'"""
    )


def test_runtime_errors_name_the_template() -> None:
    assert render_error("{{ 1 / 0 }}") == 'ZeroDivisionError: division by zero in "{{ 1 / 0 }}"'


def test_long_templates_are_shortened_in_messages() -> None:
    message = render_error("{{ missing }}" + "x" * 300)
    assert message.endswith('xxx..."')
    assert len(message) < 200


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        (
            "a {{ ''.__class__.__mro__[1].__subclasses__() }}",
            "access to attribute '__class__' of 'str' object is unsafe",
        ),
        ("{{ order_id.__class__ }}", "access to attribute '__class__' of 'int' object is unsafe"),
        ("{{ lipsum.__globals__ }}", "access to attribute '__globals__' of 'function' object is unsafe"),
        ("{{ cycler.__init__.__globals__ }}", "access to attribute '__init__' of 'type' object is unsafe"),
        ("{{ vars.update({'a': 1}) }}", "access to attribute 'update' of 'dict' object is unsafe"),
        ("{{ items.append(3) }}", "access to attribute 'append' of 'list' object is unsafe"),
        ("{{ 'a' * 10**8 }}", "'*' would build a value larger than 4194304 characters or items"),
        ("{{ [1] * 10**7 }}", "'*' would build a value larger than 4194304 characters or items"),
        ("{{ 2 ** 100000 }}", "exponent 100000 is larger than 1000"),
    ],
)
def test_the_sandbox_blocks_unsafe_operations(template: str, reason: str) -> None:
    assert render_error(template) == f'unsafe operation blocked: {reason} in "{template}"'


def test_the_sandbox_leaves_the_scope_untouched() -> None:
    scope = {"items": [1]}
    with pytest.raises(TemplateError):
        render_value("{{ items.append(2) }}", scope)
    assert scope == {"items": [1]}


def test_reasonable_arithmetic_is_allowed() -> None:
    assert render_value("{{ 'ab' * 3 }}", {}) == "ababab"
    assert render_value("{{ 2 ** 10 }}", {}) == 1024


# --- caching and the fast path ----------------------------------------------------------------------------


def test_templates_are_compiled_once_per_source() -> None:
    source = "{{ order_id }}/cached-once"
    render_value(source, SCOPE)
    hits = templating._compiled_template.cache_info().hits
    render_value(source, SCOPE)
    assert templating._compiled_template.cache_info().hits == hits + 1


def test_strings_without_markup_never_reach_jinja(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: Any, **__: Any) -> Any:
        raise AssertionError("Jinja was called")

    monkeypatch.setattr(templating, "_compiled_template", fail)
    monkeypatch.setattr(templating, "_compiled_expression", fail)
    assert render_value({"url": "http://x/{a}", "b": ["}}", "{ {"]}, SCOPE) == {
        "url": "http://x/{a}",
        "b": ["}}", "{ {"],
    }


def test_a_lone_name_is_looked_up_without_a_jinja_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: Any, **__: Any) -> Any:
        raise AssertionError("Jinja rendered it")

    monkeypatch.setattr(templating, "_compiled_expression", fail)
    monkeypatch.setattr(templating, "new_context", fail)
    assert render_value({"id": "{{ order_id }}", "o": "{{- order -}}", "n": " {{ nothing }} "}, SCOPE) == {
        "id": 42,
        "o": {"items": 3},
        "n": None,
    }


@pytest.mark.parametrize(
    ("template", "scope", "expected"),
    [
        ("{{ range }}", {"range": 3}, 3),  # a variable hides the global of its name
        ("{{ true }}", {"true": 3}, True),  # a constant, not a name
        ("{{ none }}", {"none": 3}, None),
        ("{{ self }}", {"self": 3}, "<TemplateReference None>"),  # Jinja's own meaning of the name
        ("{{ order }}", {"order": {"a": [1]}}, {"a": [1]}),
    ],
)
def test_a_lone_name_means_what_it_means_to_jinja(
    template: str, scope: dict[str, Any], expected: Any
) -> None:
    assert render_value(template, scope) == expected


def test_a_lone_undefined_name_is_the_same_error() -> None:
    assert render_error("{{ no_such_name }}") == render_error("{{ no_such_name | string }}").replace(
        " | string", ""
    )
