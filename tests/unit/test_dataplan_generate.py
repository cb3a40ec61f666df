"""Generated values are valid against their schema, realistic where the name says what they are, and
reproducible from (seed, binding) alone."""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from datetime import date, datetime, time
from typing import Any

import pytest

from orchestra.testdata.values.generator import (
    GeneratorError,
    ValueGenerator,
    faker_providers,
    generated_properties,
)
from orchestra.testdata.values.json_schemas import first_error, to_json_schema

SEEDS = range(25)

SCHEMAS: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "string", "minLength": 30},
    {"type": "string", "maxLength": 3},
    {"type": "string", "minLength": 5, "maxLength": 5},
    {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
    {"type": "string", "pattern": "^[a-z]+$", "minLength": 4, "maxLength": 8},
    {"type": "string", "format": "email"},
    {"type": "string", "format": "uuid"},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "date-time"},
    {"type": "string", "format": "time"},
    {"type": "string", "format": "uri"},
    {"type": "string", "format": "url"},
    {"type": "string", "format": "hostname"},
    {"type": "string", "format": "ipv4"},
    {"type": "string", "format": "ipv6"},
    {"type": "string", "format": "byte"},
    {"type": "string", "format": "password", "minLength": 12},
    {"type": "string", "enum": ["basic", "gold", "platinum"]},
    {"const": "fixed"},
    {"type": "integer"},
    {"type": "integer", "minimum": -5, "maximum": -1},
    {"type": "integer", "minimum": 10, "exclusiveMaximum": 12},
    {"type": "integer", "minimum": 0, "maximum": 10, "exclusiveMinimum": True},
    {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 100},
    {"type": "number", "minimum": 0.5, "maximum": 0.75},
    {"type": "number", "multipleOf": 0.1, "minimum": 0, "maximum": 5},
    {"type": "number", "exclusiveMinimum": 0},
    {"type": "number", "format": "double", "maximum": -100},
    {"type": "boolean"},
    {"type": "string", "nullable": True},
    {"type": ["string", "null"], "format": "email"},
    {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 3},
        "minItems": 3,
        "uniqueItems": True,
    },
    {"type": "array", "items": {"type": "string"}, "maxItems": 0},
    {"type": "array", "items": {"type": "string", "format": "uuid"}, "minItems": 2, "maxItems": 4},
    {
        "type": "object",
        "required": ["name", "email", "quantity"],
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "name": {"type": "string", "maxLength": 20},
            "email": {"type": "string", "format": "email"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
            "tier": {"type": "string", "enum": ["basic", "gold"], "default": "basic"},
            "address": {
                "type": "object",
                "required": ["city"],
                "properties": {
                    "city": {"type": "string"},
                    "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                },
            },
        },
        "additionalProperties": False,
    },
    {
        "allOf": [
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
            {"required": ["b"], "properties": {"b": {"type": "string", "format": "date"}}},
        ]
    },
    {"anyOf": [{"type": "integer", "minimum": 5, "maximum": 1}, {"type": "string", "format": "uuid"}]},
    {"oneOf": [{"type": "string", "maxLength": 4}, {"type": "integer"}]},
    {"type": "object", "minProperties": 2, "additionalProperties": {"type": "integer"}},
    {"properties": {"tags": {"items": {"type": "string"}}}},
    {"type": "string", "example": "example-value"},
    {"type": "integer", "examples": [42], "minimum": 40},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: str(schema)[:60])
def test_every_generated_value_validates_against_its_schema(schema: dict[str, Any]) -> None:
    for seed in SEEDS:
        value = ValueGenerator(seed, "field").for_schema(schema)
        assert first_error(schema, value, for_request=True) is None, (seed, value)


@pytest.mark.parametrize(
    ("fmt", "parse"),
    [
        ("uuid", uuid.UUID),
        ("date", date.fromisoformat),
        ("date-time", lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))),
        ("time", lambda text: time.fromisoformat(text.rstrip("Z"))),
        ("ipv4", ipaddress.IPv4Address),
        ("ipv6", ipaddress.IPv6Address),
        ("byte", lambda text: base64.b64decode(text, validate=True)),
    ],
)
def test_formats_produce_parseable_values(fmt: str, parse: Any) -> None:
    for seed in SEEDS:
        parse(ValueGenerator(seed, "x").for_schema({"type": "string", "format": fmt}))


def test_same_seed_and_binding_give_the_same_values_whatever_else_ran_before() -> None:
    schema = SCHEMAS[35]
    first = ValueGenerator(42, "customer").for_schema(schema)
    ValueGenerator(42, "other").for_schema(schema)  # another binding in between changes nothing
    assert ValueGenerator(42, "customer").for_schema(schema) == first
    assert ValueGenerator(43, "customer").for_schema(schema) != first
    assert ValueGenerator(42, "customer_2").for_schema(schema) != first


def test_property_names_are_hints_for_realistic_values() -> None:
    schema = {
        "type": "object",
        "required": ["email", "city", "company", "first_name", "phone", "website"],
        "properties": {
            name: {"type": "string"}
            for name in ("email", "city", "company", "first_name", "phone", "website")
        },
    }
    value = ValueGenerator(1, "person").for_schema(schema)
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", value["email"])
    assert value["website"].startswith(("http://", "https://"))
    assert value["city"][0].isupper()
    assert re.search(r"\d", value["phone"])


def test_fields_that_are_usually_unique_get_a_seeded_suffix() -> None:
    names = {ValueGenerator(seed, "item").for_schema({"type": "string"}, name="name") for seed in range(50)}
    assert len(names) == 50
    example = ValueGenerator(1, "item").for_schema({"type": "string", "example": "Widget"}, name="sku")
    assert example.startswith("Widget-")
    assert len(example) == len("Widget-") + 6


def test_optional_references_and_read_only_properties_are_left_out_of_requests() -> None:
    schema = {
        "type": "object",
        "required": ["quantity"],
        "properties": {
            "id": {"type": "string", "readOnly": True},
            "quantity": {"type": "integer"},
            "parentId": {"type": "string"},
            "note": {"type": "string"},
        },
    }
    assert generated_properties(schema) == ["quantity", "note"]
    assert set(ValueGenerator(1, "x").for_schema(schema)) == {"quantity", "note"}
    assert "id" in ValueGenerator(1, "x").for_schema(schema, for_request=False)


def test_examples_are_preferred_when_valid() -> None:
    assert ValueGenerator(1, "x").for_schema({"type": "integer", "example": 17}) == 17
    assert ValueGenerator(1, "x").for_schema({"type": "integer", "example": "nope", "maximum": 3}) <= 3


def test_faker_providers_are_called_by_name_with_arguments_and_are_seeded() -> None:
    assert "company" in faker_providers()
    word = ValueGenerator(5, "w").from_faker("pystr", {"min_chars": 4, "max_chars": 4})
    assert len(word) == 4
    assert ValueGenerator(5, "c").from_faker("company") == ValueGenerator(5, "c").from_faker("company")
    assert isinstance(ValueGenerator(5, "d").from_faker("date_object"), str)  # JSON-ready


@pytest.mark.parametrize(
    ("provider", "args", "message"),
    [
        ("compnay", {}, "unknown Faker provider 'compnay' (did you mean: company"),
        ("seed_instance", {}, "unknown Faker provider 'seed_instance'"),
        ("pystr", {"max_chars": 10_000_000}, "faker argument max_chars=10000000 is larger than 10000"),
        ("pystr", {"colour": 1}, "faker pystr(colour=1) failed:"),
    ],
)
def test_unusable_faker_requests_are_refused_with_a_reason(
    provider: str, args: dict[str, Any], message: str
) -> None:
    with pytest.raises(GeneratorError, match=re.escape(message)):
        ValueGenerator(1, "x").from_faker(provider, args)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "integer", "minimum": 5, "maximum": 1}, "no number lies between 5 and 1"),
        ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "no multiple of 10 lies between"),
        (
            {"type": "string", "pattern": "(unclosed"},
            "the schema itself is not valid: '(unclosed' is not a 'regex'",
        ),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "cannot generate a valid value"),
    ],
)
def test_impossible_schemas_raise_a_clear_error(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(GeneratorError, match=re.escape(message)):
        ValueGenerator(1, "x").for_schema(schema)


def test_openapi_30_keywords_become_2020_12() -> None:
    converted = to_json_schema(
        {"type": "integer", "nullable": True, "minimum": 0, "exclusiveMinimum": True, "example": 3}
    )
    assert converted == {"type": ["integer", "null"], "exclusiveMinimum": 0}
    request = to_json_schema(
        {"type": "object", "required": ["id", "a"], "properties": {"id": {"readOnly": True}, "a": {}}},
        for_request=True,
    )
    assert request == {"type": "object", "required": ["a"], "properties": {"a": {}}}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "string", "minLength": 10**9}, "minLength 1000000000 is more than 10000"),
        ({"type": "array", "minItems": 10**9}, "minItems 1000000000 is more than 10000"),
        ({"type": "string", "pattern": "a{100000000}"}, "repeats more than 10000 times"),
        (
            {"type": "integer", "minimum": "ten"},
            "the schema itself is not valid: 'ten' is not of type 'number'",
        ),
        ({"type": "strnig"}, "the schema itself is not valid"),
        ({"$ref": "#/components/schemas/Missing"}, "the schema cannot be used: "),
        (
            {
                "type": "array",
                "minItems": 200,
                "items": {"type": "array", "minItems": 200, "items": {"type": "integer"}},
            },
            "the value would have more than 10000 parts",
        ),
    ],
)
def test_hostile_schemas_are_refused_quickly_with_a_reason(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(GeneratorError, match=re.escape(message)):
        ValueGenerator(1, "x").for_schema(schema)


def test_a_circular_schema_is_refused() -> None:
    schema: dict[str, Any] = {"type": "object", "required": ["child"], "properties": {}}
    schema["properties"]["child"] = schema
    with pytest.raises(GeneratorError, match="the schema cannot be used"):
        ValueGenerator(1, "x").for_schema(schema)


def test_an_enum_with_a_documented_default_takes_the_default() -> None:
    chosen = {"type": "string", "enum": ["concurrency", "rate_limit"], "default": "concurrency"}
    assert {ValueGenerator(seed, "mode").for_schema(chosen) for seed in SEEDS} == {"concurrency"}
    free = {"type": "string", "enum": ["concurrency", "rate_limit"]}
    assert {ValueGenerator(seed, "mode").for_schema(free) for seed in range(40)} == {
        "concurrency",
        "rate_limit",
    }
