"""The OpenAPI description's finishing touches (api_contract.py), and the patterns it declares, which must
accept nothing the validators behind them refuse."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.api_contract import describe_errors, describe_text, error_statuses
from orchestra.app import create_app
from orchestra.config import Settings
from orchestra.environments.schemas import ALLOWED_HOST_PATTERN, BASE_URL_PATTERN, normalise_base_url
from orchestra.kit.egress import normalise_host_pattern
from orchestra.kit.json_storage import STORABLE_JSON_MARK, STORABLE_NON_BLANK_TEXT, STORABLE_TEXT
from orchestra.schedules.cron import CRON_PATTERN, known_zones, validate, zone


def test_error_statuses_follow_what_the_operation_is() -> None:
    secured_change = {"security": [{"bearer": []}], "requestBody": {}, "parameters": [{}]}
    assert error_statuses("/x/{p}", "post", secured_change) == [400, 401, 403, 404, 409, 413, 415, 422, 503]
    assert error_statuses("/x", "get", {"security": [{"bearer": []}]}) == [401, 403, 404, 503]
    assert error_statuses("/health", "get", {}) == []
    assert error_statuses("/schemas/{name}", "get", {"parameters": [{}]}) == [404, 422]


def test_describe_errors_uses_one_problem_schema() -> None:
    openapi: dict[str, Any] = {
        "paths": {"/x": {"get": {"security": [{"bearer": []}], "responses": {"200": {}}}}},
        "components": {"schemas": {"HTTPValidationError": {}, "ValidationError": {}}},
    }
    describe_errors(openapi)
    schemas = openapi["components"]["schemas"]
    assert set(schemas) == {"Problem"}
    responses = openapi["paths"]["/x"]["get"]["responses"]
    assert list(responses) == ["200", "401", "403", "404", "503"]
    assert responses["401"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }


def test_describe_text_leaves_constrained_text_alone() -> None:
    node: dict[str, Any] = {
        "a": {"type": "string"},
        "b": {"type": "string", "format": "date-time"},
        "c": {"type": "string", "enum": ["x"]},
        "d": {"type": "string", "pattern": "^x$"},
        "e": {"type": "object", "propertyNames": {"maxLength": 3}},
        "f": {STORABLE_JSON_MARK: True},
    }
    describe_text(node)
    assert node["a"]["pattern"] == STORABLE_TEXT
    assert "pattern" not in node["b"]
    assert "pattern" not in node["c"]
    assert node["d"]["pattern"] == "^x$"
    assert node["e"]["propertyNames"]["pattern"] == STORABLE_TEXT
    assert node["f"] == {"$ref": "#/components/schemas/StorableJson"}


def test_every_operation_of_the_api_documents_its_errors() -> None:
    openapi = create_app(Settings()).openapi()
    assert openapi["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            if operation.get("security"):
                assert {"401", "403", "503"} <= codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= codes, (method, path)
            for code, response in operation["responses"].items():
                if code >= "400":
                    assert "application/problem+json" in response["content"], (method, path, code)
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    assert "StorableJson" in openapi["components"]["schemas"]


def test_storable_patterns() -> None:
    assert re.fullmatch(STORABLE_TEXT, "any text, even é and 🎉")
    assert not re.fullmatch(STORABLE_TEXT, "a\x00b")
    assert re.fullmatch(STORABLE_NON_BLANK_TEXT, "  x ")
    assert not re.fullmatch(STORABLE_NON_BLANK_TEXT, " \t\n")
    assert not re.fullmatch(STORABLE_NON_BLANK_TEXT, "x\x00")


@settings(max_examples=200, deadline=None)
@given(st.from_regex(BASE_URL_PATTERN, fullmatch=True).filter(lambda value: len(value) <= 2000))
def test_what_the_base_url_pattern_allows_is_accepted(value: str) -> None:
    normalise_base_url(value)


@pytest.mark.parametrize("code", [*range(0x80, 0xA0), 0x7F])
def test_control_characters_that_ecma_whitespace_leaves_out_are_refused_by_pattern_and_validator(
    code: int,
) -> None:
    """The description's patterns are ECMA regular expressions, whose \\s is not Python's (U+0085 is
    whitespace only to Python): the pattern must refuse what the validator refuses without relying on it."""
    url = f"http://host/a{chr(code)}b"
    assert re.fullmatch(BASE_URL_PATTERN.replace("\\s", ""), url) is None
    with pytest.raises(ValueError, match="control characters"):
        normalise_base_url(url)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(ALLOWED_HOST_PATTERN, fullmatch=True).filter(lambda value: len(value) <= 253))
def test_what_the_allowed_host_pattern_allows_is_accepted(value: str) -> None:
    normalise_host_pattern(value)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(CRON_PATTERN, fullmatch=True).filter(lambda value: len(value) <= 200))
def test_what_the_cron_pattern_allows_is_accepted(value: str) -> None:
    validate(value, "UTC")


def test_the_declared_time_zones_are_the_usable_ones() -> None:
    zones = known_zones()
    assert {"UTC", "Europe/Berlin", "America/New_York"} <= set(zones)
    assert "Factory" not in zones
    assert "localtime" not in zones
    for name in zones:
        zone(name)
