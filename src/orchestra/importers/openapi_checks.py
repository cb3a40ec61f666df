"""The contract checks a generated test makes of one operation's answer: a documented success status, the
documented content type and the documented response schema (as Draft 2020-12, OpenAPI 3.0 forms
converted)."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from orchestra.importers.requests import escape_template
from orchestra.openapi.catalogue import is_json_media_type
from orchestra.openapi.operations import JsonSchema, Operation
from orchestra.testdata.values.json_schemas import to_json_schema

MAX_SCHEMA_CHARS = 200_000  # a schema this long (as JSON) is left out: the file would be unreadable


def success_codes(operation: Operation) -> list[str]:
    """The documented 2xx statuses as written (``201``, ``2XX``)."""
    return [code for code in operation.responses if code[:1] == "2"]


def expected_status(operation: Operation) -> int | list[int] | str:
    """The documented success codes; the class ``2xx`` when only a range or ``default`` is documented."""
    codes = [int(code) for code in success_codes(operation) if code.isdigit() and len(code) == 3]
    if not codes:
        return "2xx"
    return codes[0] if len(codes) == 1 else codes


def response_media_types(raw_operation: dict[str, Any]) -> dict[str, list[str]]:
    """Status as written → the media types its ``content`` documents (from the $ref-resolved operation)."""
    responses = raw_operation.get("responses")
    media: dict[str, list[str]] = {}
    if not isinstance(responses, dict):
        return media
    for code, response in responses.items():
        content = response.get("content") if isinstance(response, dict) else None
        media[str(code)] = [str(name) for name in content] if isinstance(content, dict) else []
    return media


def _content_type(operation: Operation, media: dict[str, list[str]]) -> str | None:
    """The one media type every documented success answer with a body has (its essence)."""
    found = {
        name.split(";", 1)[0].strip().lower()
        for code in success_codes(operation)
        for name in media.get(code, [])
        if name.strip() and "*" not in name
    }
    with_body = [code for code in success_codes(operation) if media.get(code)]
    without_body = [code for code in success_codes(operation) if not media.get(code)]
    if len(found) != 1 or (without_body and with_body):
        return None
    return found.pop()


def response_schema(operation: Operation, openapi_version: str) -> JsonSchema | None:
    """The schema the success answer's JSON must satisfy: one documented schema, or ``anyOf`` several;
    None when none constrains anything."""
    schemas: dict[str, JsonSchema] = {}
    for code in success_codes(operation):
        schema = operation.responses.get(code)
        if not schema:
            continue
        converted = _for_response(schema, openapi_version)
        schemas.setdefault(json.dumps(converted, sort_keys=True), converted)
    if not schemas:
        return None
    found = list(schemas.values())
    schema = found[0] if len(found) == 1 else {"anyOf": found}
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return None
    return schema if len(json.dumps(schema)) <= MAX_SCHEMA_CHARS else None


def _for_response(schema: JsonSchema, openapi_version: str) -> JsonSchema:
    converted = to_json_schema(schema) if openapi_version.startswith("3.0") else dict(schema)
    cleaned: JsonSchema = _without_write_only(converted, 0)
    return cleaned


def _without_write_only(schema: Any, depth: int) -> Any:
    """A response never carries ``writeOnly`` properties, so they cannot be required of it."""
    if not isinstance(schema, dict) or depth > 64:
        return schema
    out = {key: value for key, value in schema.items() if key not in ("$schema", "$id")}
    properties = schema.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {name: _without_write_only(sub, depth + 1) for name, sub in properties.items()}
        hidden = {name for name, sub in properties.items() if isinstance(sub, dict) and sub.get("writeOnly")}
        if hidden and isinstance(schema.get("required"), list):
            out["required"] = [name for name in schema["required"] if name not in hidden]
    for key in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(key), dict):
            out[key] = _without_write_only(schema[key], depth + 1)
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        if isinstance(schema.get(key), list):
            out[key] = [_without_write_only(sub, depth + 1) for sub in schema[key]]
    return out


def expectations(
    operation: Operation, media: dict[str, list[str]], openapi_version: str, *, with_schema: bool = True
) -> dict[str, Any]:
    """``expect`` of a step calling ``operation``: status, content type and schema, as documented."""
    expect: dict[str, Any] = {"status": expected_status(operation)}
    content_type = _content_type(operation, media)
    if content_type is not None:
        expect["headers"] = {"Content-Type": {"contains": escape_template(content_type)}}
    if with_schema and operation.method != "HEAD" and content_type and is_json_media_type(content_type):
        schema = response_schema(operation, openapi_version)
        if schema is not None:
            expect["schema"] = schema
    return expect
