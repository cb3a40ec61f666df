"""What a JSON schema says about the values it takes, as the planner's rules ask it: the fields an object
requires, whether the schema itself gives the value to send, whether it is an array (or an array or null)."""

from __future__ import annotations

from orchestra.openapi.operations import JsonSchema
from orchestra.testdata.planner.entities import is_array, object_schema


def required_fields(schema: JsonSchema | None) -> list[str]:
    """The fields an object schema requires, read as one object's (``entities.object_schema``)."""
    merged = object_schema(schema)
    return list(merged.get("required") or []) if merged is not None else []


def fixed_by(schema: JsonSchema | None) -> bool:
    """Whether a schema itself gives the value to send (an enum, a constant, an example or a default)."""
    if not isinstance(schema, dict):
        return False
    return any(key in schema for key in ("enum", "const", "example", "default")) or bool(
        schema.get("examples")
    )


def an_array(schema: JsonSchema | None) -> bool:
    """An array, or an array or null (``anyOf``/``oneOf``, ``type: [array, null]``)."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "array" or (isinstance(kind, list) and "array" in kind):
        return True
    parts = [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    return any(is_array(part) for part in parts)
