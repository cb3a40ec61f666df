"""JSON Schema as written in OpenAPI documents, turned into what a Draft 2020-12 validator understands.

OpenAPI 3.0 schemas say ``nullable: true`` and boolean ``exclusiveMinimum``; 3.1 schemas already are
2020-12. Generators and validation both judge values by the same converted schema, so a generated value
is valid exactly when validation would accept it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

JsonSchema = dict[str, Any]
_FORMATS = Draft202012Validator.FORMAT_CHECKER
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "if", "then", "else")


def to_json_schema(schema: Any, *, for_request: bool = False) -> Any:
    """A Draft 2020-12 copy of an OpenAPI (3.0 or 3.1) schema. ``for_request``: ``readOnly`` properties
    are dropped (a client does not send them, so they cannot be required of it)."""
    if not isinstance(schema, dict):
        return schema
    out: JsonSchema = {}
    for key, value in schema.items():
        if key in ("nullable", "exclusiveMinimum", "exclusiveMaximum", "example", "discriminator", "xml"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: to_json_schema(sub, for_request=for_request)
                for name, sub in value.items()
                if not (for_request and isinstance(sub, dict) and sub.get("readOnly"))
            }
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [to_json_schema(sub, for_request=for_request) for sub in value]
        elif key in _SUBSCHEMA_ONE:
            out[key] = to_json_schema(value, for_request=for_request)
        else:
            out[key] = value
    for side, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = schema.get(side)
        if isinstance(flag, bool):  # OpenAPI 3.0: a flag on minimum / maximum
            if flag and bound in schema:
                out[side] = out.pop(bound)
        elif isinstance(flag, int | float):
            out[side] = flag
    if for_request and isinstance(out.get("properties"), dict) and isinstance(out.get("required"), list):
        read_only = {
            name
            for name, sub in (schema.get("properties") or {}).items()
            if isinstance(sub, dict) and sub.get("readOnly")
        }
        out["required"] = [name for name in out["required"] if name not in read_only]
    if schema.get("nullable") is True:
        out = _nullable(out)
    return out


def _nullable(schema: JsonSchema) -> JsonSchema:
    if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        schema["type"] = [*kind, "null"]
    elif kind is None and not any(key in schema for key in ("enum", "const")):
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


@lru_cache(maxsize=512)
def _validator(text: str) -> Draft202012Validator:
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_FORMATS)


class UnusableSchema(Exception):
    """The schema is not valid JSON Schema, refers outside itself, or is circular."""


def validator_for(schema: JsonSchema, *, for_request: bool = False) -> Draft202012Validator:
    """A (cached) validator of the converted schema. Raises UnusableSchema."""
    try:
        converted = to_json_schema(schema, for_request=for_request)
        text = json.dumps(converted, sort_keys=True, default=str)
        return _validator(text)
    except SchemaError as error:
        raise UnusableSchema(f"the schema itself is not valid: {error.message[:300]}") from None
    except (ValueError, TypeError, RecursionError) as error:  # circular or not JSON at all
        raise UnusableSchema(f"the schema cannot be used: {error}") from None


def schema_errors(validator: Draft202012Validator, value: Any) -> list[ValidationError]:
    """The validation errors of ``value``; UnusableSchema for what jsonschema cannot evaluate (a ``$ref``
    that points nowhere, a pattern Python cannot compile)."""
    try:
        return list(validator.iter_errors(value))
    except (ValidationError, SchemaError) as error:
        raise UnusableSchema(f"the schema cannot be used: {error.message[:300]}") from None
    except Exception as error:  # referencing.Unresolvable, re.error, RecursionError: all the schema's fault
        raise UnusableSchema(
            f"the schema cannot be used: {type(error).__name__}: {str(error)[:300]}"
        ) from None


def first_error(schema: JsonSchema, value: Any, *, for_request: bool = False) -> str | None:
    """None when ``value`` is valid; else ``<json pointer>: <reason>`` of the most relevant error.
    Raises UnusableSchema."""
    validator = validator_for(schema, for_request=for_request)
    errors = sorted(schema_errors(validator, value), key=lambda e: (len(e.path), e.message))
    if not errors:
        return None
    worst = errors[0]
    pointer = "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in worst.path) or "/"
    return f"{pointer}: {worst.message[:300]}"
