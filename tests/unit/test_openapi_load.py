"""Loading an OpenAPI description from text: JSON or YAML, checked, and safe against hostile input."""

from __future__ import annotations

import json
import time

import pytest

from orchestra.openapi.errors import DescriptionTooLarge, InvalidDescription
from orchestra.openapi.load import MAX_DOCUMENT_BYTES, check_document, parse_text

MINIMAL = {"openapi": "3.1.0", "info": {"title": "Pets", "version": "1"}, "paths": {}}
YAML = """\
openapi: 3.0.3
info:
  title: Pets
  version: "1"
paths:
  /pets/{petId}:
    get:
      operationId: getPet
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
      responses:
        200:
          description: ok
"""


def test_json_text_is_parsed() -> None:
    assert parse_text(json.dumps(MINIMAL)) == MINIMAL


def test_yaml_text_is_parsed_with_status_keys_as_strings_and_versions_as_text() -> None:
    document = parse_text(YAML)
    assert document["openapi"] == "3.0.3"
    assert document["info"]["version"] == "1"
    assert list(document["paths"]["/pets/{petId}"]["get"]["responses"]) == ["200"]


def test_a_byte_order_mark_is_ignored() -> None:
    assert parse_text("\ufeff" + json.dumps(MINIMAL)) == MINIMAL


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("{not json", "not valid JSON: line 1, column 2"),
        ("a: [1, 2\nb: c", "not valid JSON or YAML: line"),
        ("[1, 2]", "must be an object, not a list"),
        ("just words", "must be an object, not a single value"),
        ('{"openapi": "3.0.0", "openapi": "3.1.0", "paths": {}}', "the key 'openapi' appears twice"),
        ("openapi: 3.0.0\nopenapi: 3.1.0\npaths: {}\n", "duplicate key 'openapi'"),
    ],
)
def test_text_that_is_not_a_json_or_yaml_object_is_refused(text: str, needle: str) -> None:
    with pytest.raises(InvalidDescription) as caught:
        parse_text(text)
    assert needle in caught.value.detail


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        (
            {"swagger": "1.2", "paths": {}},
            "Swagger 1.2 description: Swagger 2.0 is converted, OpenAPI 3.x read",
        ),
        (
            {"swagger": "2.0", "paths": {"/a": {"get": {"parameters": [{"in": "q"}]}}}},
            "paths/~1a/get/parameters/0",
        ),
        ({"paths": {}}, "'openapi' field"),
        ({"openapi": 3.0, "paths": {}}, "'openapi' field"),
        ({"openapi": "2.5", "paths": {}}, "OpenAPI 3.x required, this is version '2.5'"),
        ({"openapi": "3.0.0"}, "'paths' object is missing"),
        ({"openapi": "3.0.0", "paths": []}, "'paths' object is missing"),
        ({"openapi": "3.0.0", "paths": {}, "info": "x"}, "'info' must be an object"),
    ],
)
def test_documents_that_are_not_openapi_3_are_refused(document: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidDescription) as caught:
        check_document(document)
    assert needle in caught.value.detail


def test_a_text_over_the_size_limit_is_refused_before_parsing() -> None:
    text = '{"openapi": "3.0.0", "paths": {}, "x": "' + "a" * MAX_DOCUMENT_BYTES + '"}'
    with pytest.raises(DescriptionTooLarge):
        parse_text(text)


def test_multibyte_text_is_measured_in_bytes() -> None:
    text = "openapi: 3.0.0\npaths: {}\nx: " + "é" * (MAX_DOCUMENT_BYTES // 2 + 1)
    with pytest.raises(DescriptionTooLarge):
        parse_text(text)


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_without_recursing(opening: str) -> None:
    text = '{"openapi": "3.0.0", "paths": {}, "x": ' + opening * 100_000
    with pytest.raises(InvalidDescription) as caught:
        parse_text(text)
    assert "deeper than 100 levels" in caught.value.detail


def test_deeply_nested_yaml_is_refused() -> None:
    text = "openapi: 3.0.0\npaths: {}\nx: " + "[" * 5000 + "]" * 5000
    with pytest.raises(InvalidDescription) as caught:
        parse_text(text)
    assert "nesting is deeper than 100 levels" in caught.value.detail


def test_a_yaml_alias_bomb_is_refused_at_the_first_alias() -> None:
    bomb = "openapi: 3.0.0\npaths: {}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)
    )
    started = time.monotonic()
    with pytest.raises(InvalidDescription) as caught:
        parse_text(bomb)
    assert "YAML aliases are not allowed" in caught.value.detail
    assert "line 4" in caught.value.detail
    assert time.monotonic() - started < 2


def test_yaml_tags_that_build_python_objects_are_refused() -> None:
    with pytest.raises(InvalidDescription) as caught:
        parse_text("openapi: 3.0.0\npaths: {}\nx: !!python/object/apply:os.system [echo hi]\n")
    assert "unsupported YAML tag" in caught.value.detail
