"""Request defaults: the layers a step inherits (environment < suite < test case < step), merged."""

from __future__ import annotations

import httpx
import pytest

from orchestra.definitions.testcase_model import RequestDefaults, RequestSpec, RequestStep
from orchestra.executor.plan import request_defaults_of
from orchestra.steps.request_defaults import merged_request, without_overridden_auth
from orchestra.steps.request_step import _build_request, _render_step
from orchestra.steps.templating import TemplateError, render_value

ENVIRONMENT = {"headers": {"X-Env": "env", "X-Level": "env", "Accept": "text/plain"}, "timeout_ms": 100}
SUITE = {"headers": {"x-level": "suite"}, "query": {"lang": "en", "v": 1}, "auth": {"bearer": {"token": "s"}}}
CASE = {"headers": {"X-LEVEL": "case", "X-Case": "case"}, "timeout_ms": 200}


def test_each_layer_overrides_the_more_general_ones_header_names_case_insensitively() -> None:
    step = {"url": "http://sut/x", "headers": {"x-case": "step"}, "query": {"v": 2}}
    merged = merged_request([ENVIRONMENT, SUITE, CASE], step)
    assert merged["headers"] == {"X-Env": "env", "X-LEVEL": "case", "Accept": "text/plain", "x-case": "step"}
    assert merged["query"] == {"lang": "en", "v": 2}
    assert merged["timeout_ms"] == 200
    assert merged["auth"] == {"bearer": {"token": "s"}}
    assert merged["url"] == "http://sut/x"


def test_the_order_of_layers_is_the_order_of_precedence() -> None:
    assert merged_request([CASE, SUITE], {"url": "u"})["headers"]["x-level"] == "suite"
    assert merged_request([SUITE, CASE], {"url": "u"})["headers"]["X-LEVEL"] == "case"


def test_null_removes_an_inherited_header_query_parameter_or_auth() -> None:
    step = {"url": "u", "headers": {"ACCEPT": None, "X-Unknown": None}, "query": {"lang": None}, "auth": None}
    merged = merged_request([ENVIRONMENT, SUITE], step)
    assert merged["headers"] == {"X-Env": "env", "x-level": "suite"}
    assert merged["query"] == {"v": 1}
    assert merged["auth"] is None


def test_a_step_that_sets_nothing_keeps_its_request_as_it_was() -> None:
    step = {"method": "POST", "url": "u", "json": {"a": 1}, "headers": {"A": "1"}}
    assert merged_request([], step) == {**step, "query": {}}


def test_headers_from_a_variable_are_merged_like_written_ones() -> None:
    scope = {"common": {"X-Common": "yes", "X-Level": "variable", "X-Count": 3, "X-On": True}}
    layers = render_value([ENVIRONMENT, {"headers": "{{ common }}"}], scope)
    merged = merged_request(layers, render_value({"url": "u", "headers": {"x-on": None}}, scope))
    expected = {
        "X-Env": "env",
        "X-Level": "variable",
        "Accept": "text/plain",
        "X-Common": "yes",
        "X-Count": "3",
    }
    assert merged["headers"] == expected


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (["a"], "headers must be a mapping of names to values, got a list"),
        ("text", "headers must be a mapping of names to values, got str 'text'"),
        ({"X-A": {"b": 1}}, "header 'X-A' must be text, a number or a boolean, got a mapping"),
    ],
)
def test_headers_that_render_to_no_mapping_are_a_clear_error(headers: object, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        merged_request([{"headers": headers}], {"url": "u"})


def test_defaults_as_the_run_inherits_them_keep_only_what_was_written() -> None:
    stored = '{"headers": {"X-A": "1"}, "auth": null}'
    assert request_defaults_of(None, stored, {}) == ({"headers": {"X-A": "1"}, "auth": None},)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"headers": "X-A: 1"}, "expected a mapping or a template that renders to one"),
        ({"headers": {"X-A": [1]}}, "Input should be a valid string"),
        ({"timeout_ms": 0}, "greater than or equal to 1"),
        ({"auth": {}}, "auth needs exactly one of"),
        ({"auth": {"bearer": {"token": "a"}, "basic": {"username": "u", "password": "p"}}}, "exactly one of"),
        ({"auth": {"bearer": None}}, "exactly one of"),
        ({"auth": {"api_key": {"name": "k", "value": "v", "in": "body"}}}, "'header' or 'query'"),
        ({"auth": {"oauth2_client_credentials": {"token_url": "u", "client_id": "c"}}}, "Field required"),
        ({"auth": {"digest": {}}}, "Extra inputs are not permitted"),
        ({"cookies": {}}, "Extra inputs are not permitted"),
    ],
)
def test_bad_defaults_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RequestDefaults.model_validate(data)


def test_a_request_accepts_null_headers_a_header_template_and_auth() -> None:
    spec = RequestSpec.model_validate(
        {
            "url": "u",
            "headers": "{{ h }}",
            "query": {"q": None},
            "auth": {"basic": {"username": "u", "password": "p"}},
        }
    )
    assert spec.headers == "{{ h }}"
    dumped = RequestSpec.model_validate({"url": "u", "headers": {"A": None}, "auth": None}).model_dump(
        by_alias=True, exclude_unset=True, mode="json"
    )
    assert dumped == {"url": "u", "headers": {"A": None}, "auth": None}


def test_an_auth_a_more_specific_layer_replaces_is_never_rendered() -> None:

    suite = {"headers": {"X-Suite": "s"}, "auth": {"bearer": {"token": "{{ suite.token }}"}}}
    step = RequestStep.model_validate({"request": {"url": "/auth/token", "auth": None}})
    spec = step.request.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert without_overridden_auth([suite], spec) == [{"headers": {"X-Suite": "s"}}]
    rendered, _, _ = _render_step(step, spec, {}, [suite])  # suite.token is undefined: not rendered
    assert rendered["headers"] == {"X-Suite": "s"}
    assert rendered["auth"] is None
    test_case = {"auth": {"basic": {"username": "u", "password": "p"}}}
    layers = without_overridden_auth([suite, test_case], {"url": "/x"})
    assert layers == [{"headers": {"X-Suite": "s"}}, test_case]


def test_a_query_is_added_to_the_one_the_url_has() -> None:
    client = httpx.AsyncClient()
    spec = {"url": "http://sut/echo?tag=a&tag=b&lang=de", "query": {"lang": "en", "page": 2, "on": True}}
    request = _build_request(client, spec)
    assert str(request.url) == "http://sut/echo?tag=a&tag=b&lang=en&page=2&on=true"
    assert str(_build_request(client, {"url": "http://sut/x?y=1"}).url) == "http://sut/x?y=1"
    listed = _build_request(client, {"url": "http://sut/x", "query": {"id": [1, 2]}})
    assert str(listed.url) == "http://sut/x?id=1&id=2"
