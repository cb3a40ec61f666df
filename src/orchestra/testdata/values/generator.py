"""Values for a JSON Schema (or a Faker provider), seeded per binding.

The randomness of a binding derives from (plan seed, binding name) only, so the same seed gives the same
values whatever order the bindings run in. Values are made to be accepted by a real API, not just by the
schema: property names are hints (``email``, ``city``, ``company``), fields that are usually unique get a
short seeded suffix, optional properties are sent except those that look like references to other entities
(an invented id would make the request fail). Every value is checked against its schema before it is used.
"""

from __future__ import annotations

import base64
import difflib
import functools
import json
import math
import random
import re
import string
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import rstr

from orchestra.testdata.values.formats import formatted
from orchestra.testdata.values.json_schemas import JsonSchema, UnusableSchema, first_error, validator_for
from orchestra.testdata.values.name_hints import UNIQUE_HINTS, hint_for, looks_like_reference, snake
from orchestra.testdata.values.numbers import NoNumber, bounds, multiple_in

MAX_DEPTH = 12
MAX_VALUE_BYTES = 100_000
MAX_FAKER_NUMBER = 10_000
MAX_NODES = 10_000  # values (objects, items, scalars) in one generated value
MAX_LENGTH = 10_000  # longest string or array asked for by minLength / minItems / a pattern's {n}
_REPEAT = re.compile(r"\{\s*(\d+)")
_ATTEMPTS = 8
_NOT_PROVIDERS = frozenset(
    {"seed", "seed_instance", "seed_locale", "add_provider", "get_providers", "provider", "parse", "format"}
    | {"get_formatter", "set_formatter", "set_arguments", "get_arguments", "del_arguments", "random"}
)


class GeneratorError(Exception):
    """The schema or provider cannot produce a value; the message says why."""


@functools.cache
def faker_providers() -> frozenset[str]:
    """The Faker provider names a plan may use (``faker: "company"``). Faker is loaded at the first use,
    not with this module: a process that never generates data (an executor whose tests declare none)
    does not keep its providers in memory."""
    from faker import Faker

    generator = Faker().factories[0]
    names = {
        name
        for provider in generator.providers
        for name in dir(provider)
        if not name.startswith("_") and callable(getattr(provider, name, None))
    }
    return frozenset(names - _NOT_PROVIDERS)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else 0.0
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _types(schema: JsonSchema) -> list[str]:
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else [k for k in kind if isinstance(k, str)] if kind else []
    kinds = [k for k in kinds if k != "null"]
    if kinds:
        return kinds
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        return ["object"]
    if "items" in schema or "minItems" in schema:
        return ["array"]
    if any(key in schema for key in ("minimum", "maximum", "multipleOf", "exclusiveMinimum")):
        return ["number"]
    return ["string"]


def merge_all_of(schema: JsonSchema) -> JsonSchema:
    """``allOf`` folded into one schema: properties and required united, the tighter bound kept."""
    merged: JsonSchema = {key: value for key, value in schema.items() if key != "allOf"}
    for part in schema.get("allOf") or []:
        if not isinstance(part, dict):
            continue
        part = merge_all_of(part) if "allOf" in part else part
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**(merged.get("properties") or {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*(merged.get("required") or []), *value]))
            elif key in ("minimum", "minLength", "minItems", "exclusiveMinimum") and key in merged:
                merged[key] = max(merged[key], value)
            elif key in ("maximum", "maxLength", "maxItems", "exclusiveMaximum") and key in merged:
                merged[key] = min(merged[key], value)
            elif key not in merged:
                merged[key] = value
    return merged


def generated_properties(schema: JsonSchema, *, for_request: bool = True, depth: int = 0) -> list[str]:
    """The properties a generated object gets: the required ones, and the optional ones except those that
    refer to another entity (``customerId``, or described as "the identifier of the parent folder": an
    invented id would be refused), its own ``id`` and audit fields (``date_created``: the server assigns
    them), those that may be null and are null by default (the server's own default is the value it
    surely accepts: an invented nested state or filter often is not), or lie deeper than 4 levels; in a
    request never ``readOnly`` ones."""
    properties = schema.get("properties") or {}
    required = [name for name in schema.get("required") or [] if isinstance(name, str)]
    chosen: list[str] = []
    for prop, sub in properties.items():
        if not isinstance(sub, dict) or (for_request and sub.get("readOnly")):
            continue
        if prop not in required and (
            looks_like_reference(prop)
            or depth >= 4
            or _null_by_default(sub)
            or (for_request and _assigned_or_referring(prop, sub))
        ):
            continue
        chosen.append(prop)
    for prop in required:
        described = properties.get(prop)
        if prop not in chosen and not (
            for_request and isinstance(described, dict) and described.get("readOnly")
        ):
            chosen.append(prop)
    return chosen


_REFERRING = re.compile(
    r"\b(?:identifier|id|uuid)s? of (?:the|a|an)\b"
    r"|\breference to (?:the|a|an)\b",
    re.IGNORECASE,
)


_STAMPED = frozenset(
    {"created", "updated", "modified", "created_at", "updated_at", "modified_at", "deleted_at"}
    | {"date_created", "date_updated", "date_modified", "user_created", "user_updated"}
    | {"created_by", "updated_by", "modified_by", "created_on", "updated_on"}
)


def _assigned_or_referring(name: str, schema: JsonSchema) -> bool:
    """An optional ``id`` or audit field (``date_created``, ``user_updated``: the server assigns and stamps
    them, and some refuse them), or a property whose description says it identifies another entity
    ("Unique identifier of the parent folder", "The unique identifier of a role") or whose schema takes the
    related item's key or the item itself (``key_or_item``)."""
    description = schema.get("description")
    if name.lower() == "id" or snake(name) in _STAMPED or key_or_item(schema):
        return True
    return isinstance(description, str) and _REFERRING.search(description) is not None


def key_or_item(schema: JsonSchema | None) -> bool:
    """A relation as CMSs describe it: the related item's key or the item itself (``oneOf: [string,
    Operations]``, ``anyOf: [integer, Folders]``): a scalar beside an object that has an ``id``."""
    if not isinstance(schema, dict):
        return False
    options = [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    parts = [part for part in options if isinstance(part, dict)]
    scalar = any(part.get("type") in ("string", "integer") for part in parts)
    return scalar and any("id" in (part.get("properties") or {}) for part in parts)


def _null_by_default(schema: JsonSchema) -> bool:
    """Whether a property may be null and has no default but null (``Optional[X] = None``)."""
    return schema.get("default") is None and takes_null(schema)


def takes_null(schema: Any) -> bool:
    """Whether a schema takes null (``nullable``, ``type: [string, null]``, a null option)."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    options = [*(schema.get("anyOf") or []), *(schema.get("oneOf") or [])]
    return (
        schema.get("nullable") is True
        or (isinstance(kind, list) and "null" in kind)
        or any(isinstance(option, dict) and option.get("type") == "null" for option in options)
    )


class ValueGenerator:
    """Generates the values of one binding. ``seed`` None: different values on every run."""

    def __init__(self, seed: int | None, binding: str) -> None:
        self.binding = binding
        self.random = random.Random(f"{seed}:{binding}") if seed is not None else random.Random()
        from faker import Faker

        self.faker = Faker()
        self.faker.seed_instance(self.random.getrandbits(64))
        self._rstr = rstr.Rstr(self.random)
        self._budget = MAX_NODES

    # -- public ------------------------------------------------------------------------------------------

    def for_schema(self, schema: JsonSchema, *, name: str = "", for_request: bool = True) -> Any:
        """A value valid against ``schema`` (OpenAPI 3.0 or 2020-12); ``name``: the property it is for."""
        if not isinstance(schema, dict):
            raise GeneratorError("a schema must be an object")
        problem = "no attempt"
        try:
            validator_for(schema, for_request=for_request)
            for _ in range(_ATTEMPTS):
                self._budget = MAX_NODES
                value = self._value(schema, name, 0, for_request)
                problem = first_error(schema, value, for_request=for_request) or ""
                if not problem:
                    return self._checked_size(value)
        except UnusableSchema as error:
            raise GeneratorError(str(error)) from None
        except (
            TypeError,
            ValueError,
            OverflowError,
            RecursionError,
        ) as error:  # odd but metaschema-valid input
            raise GeneratorError(f"the schema cannot be used: {type(error).__name__}: {error}") from None
        raise GeneratorError(f"cannot generate a valid value: {problem}")

    def from_faker(self, provider: str, args: Mapping[str, Any] | None = None) -> Any:
        if provider not in faker_providers():
            raise GeneratorError(f"unknown Faker provider {provider!r}{_close(provider, faker_providers())}")
        arguments = dict(args or {})
        for key, item in arguments.items():
            if isinstance(item, int | float) and abs(item) > MAX_FAKER_NUMBER:
                raise GeneratorError(f"faker argument {key}={item} is larger than {MAX_FAKER_NUMBER}")
        try:
            value = getattr(self.faker, provider)(**arguments)
        except (TypeError, ValueError, AttributeError) as error:
            raise GeneratorError(f"faker {provider}({_args(arguments)}) failed: {error}") from None
        return self._checked_size(_jsonable(value))

    def suffix(self, length: int = 6) -> str:
        return "".join(self.random.choice(string.ascii_lowercase + string.digits) for _ in range(length))

    # -- by type -----------------------------------------------------------------------------------------

    def _checked_size(self, value: Any) -> Any:
        if len(json.dumps(value, default=str)) > MAX_VALUE_BYTES:
            raise GeneratorError(f"the generated value is larger than {MAX_VALUE_BYTES} bytes")
        return value

    def _value(self, schema: JsonSchema, name: str, depth: int, for_request: bool) -> Any:
        if depth > MAX_DEPTH:
            raise GeneratorError(f"the schema nests deeper than {MAX_DEPTH} levels")
        self._budget -= 1
        if self._budget < 0:
            raise GeneratorError(f"the value would have more than {MAX_NODES} parts")
        if "allOf" in schema:
            schema = merge_all_of(schema)
        if "const" in schema:
            return schema["const"]
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return self._choice_of(schema, key, name, depth, for_request)
        example = self._example(schema, name, for_request)  # an enum's documented default too
        if example is not _NONE:
            return example
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            options = [item for item in schema["enum"] if item is not None] or schema["enum"]
            return self.random.choice(options)
        kind = self.random.choice(_types(schema)) if len(_types(schema)) > 1 else _types(schema)[0]
        if kind == "object":
            return self._object(schema, depth, for_request)
        if kind == "array":
            return self._array(schema, name, depth, for_request)
        if kind == "integer":
            return self._number(schema, integer=True)
        if kind == "number":
            return self._number(schema, integer=False)
        if kind == "boolean":
            return self.random.random() < 0.5
        return self._string(schema, name)

    def _example(self, schema: JsonSchema, name: str, for_request: bool) -> Any:
        """A documented example or default that is valid, made unique where the field usually is."""
        candidates = [schema["example"]] if "example" in schema else []
        if isinstance(schema.get("examples"), list):
            candidates += schema["examples"]
        if "default" in schema:
            candidates.append(schema["default"])
        for candidate in candidates:
            if candidate is None or isinstance(candidate, dict | list):
                continue  # containers: generate their parts, which makes unique fields unique
            if isinstance(candidate, str) and snake(name) in UNIQUE_HINTS:
                candidate = self._unique(candidate, schema)
            if first_error(schema, candidate, for_request=for_request) is None:
                return candidate
        return _NONE

    def _choice_of(self, schema: JsonSchema, key: str, name: str, depth: int, for_request: bool) -> Any:
        base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        value: Any = None
        for option in schema[key]:
            if not isinstance(option, dict) or option.get("type") == "null":
                continue
            merged = merge_all_of({**base, "allOf": [option]})
            try:
                value = self._value(merged, name, depth + 1, for_request)
            except GeneratorError:
                continue
            if first_error(schema, value, for_request=for_request) is None:
                return value
        return value

    def _object(self, schema: JsonSchema, depth: int, for_request: bool) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        result: dict[str, Any] = {}
        for prop in generated_properties(schema, for_request=for_request, depth=depth):
            sub = properties.get(prop)
            result[prop] = (
                self._value(sub, prop, depth + 1, for_request)
                if isinstance(sub, dict)
                else (
                    self._string({}, prop)  # required but not described: anything will do
                )
            )
        minimum = schema.get("minProperties")
        extra = schema.get("additionalProperties")
        while isinstance(minimum, int) and len(result) < min(minimum, 50) and extra is not False:
            sub = extra if isinstance(extra, dict) else {"type": "string"}
            result[f"key_{self.suffix(4)}"] = self._value(sub, "", depth + 1, for_request)
        return result

    def _array(self, schema: JsonSchema, name: str, depth: int, for_request: bool) -> list[Any]:
        items: JsonSchema = schema["items"] if isinstance(schema.get("items"), dict) else {}
        low = _capped(schema.get("minItems") or 0, "minItems")
        high = schema.get("maxItems")
        count = max(low, 1)
        if isinstance(high, int):
            count = min(count, high)
        values: list[Any] = []
        for _ in range(count * 5 if schema.get("uniqueItems") else count):
            if len(values) == count:
                break
            value = self._value(items, _singular(name), depth + 1, for_request)
            if schema.get("uniqueItems") and value in values:
                continue
            values.append(value)
        return values

    def _number(self, schema: JsonSchema, *, integer: bool) -> int | float:
        try:
            low, high = bounds(schema, integer)
            step = schema.get("multipleOf")
            if isinstance(step, int | float) and step > 0:
                return multiple_in(self.random, low, high, step, integer)
        except NoNumber as error:
            raise GeneratorError(str(error)) from None
        if integer:
            return self.random.randint(math.ceil(low), math.floor(high))
        return round(self.random.uniform(low, high), 2) if high - low > 0.1 else (low + high) / 2

    # -- strings -----------------------------------------------------------------------------------------

    def _string(self, schema: JsonSchema, name: str) -> str:
        low = _capped(schema.get("minLength") or 0, "minLength")
        high = schema.get("maxLength")
        pattern = schema.get("pattern")
        fmt = schema.get("format")
        text = formatted(fmt, self.faker, self.random, self.suffix(4)) if isinstance(fmt, str) else None
        if text is None:
            text = hint_for(self.faker, name)
            if text is None:
                text = self.faker.word()
            if snake(name) in UNIQUE_HINTS or snake(name).endswith(("_name", "_code")):
                text = self._unique(text, schema)
            text = self._fit(text, low, high if isinstance(high, int) else None)
        if isinstance(pattern, str) and not _matches(pattern, text):
            return self._from_pattern(pattern, low, high)
        return text

    def _unique(self, text: str, schema: JsonSchema) -> str:
        high = schema.get("maxLength")
        tag = self.suffix()
        if "@" in text:
            local, domain = text.split("@", 1)
            text = f"{local}.{tag}@{domain}"
        else:
            text = f"{text}-{tag}"
        if isinstance(high, int) and len(text) > high:
            text = text[-high:] if high >= len(tag) else text[:high]
        return text

    def _fit(self, text: str, low: int, high: int | None) -> str:
        if high is not None and len(text) > high:
            text = text[:high]
        while len(text) < low:
            text += self.random.choice(string.ascii_lowercase)
        return text

    def _from_pattern(self, pattern: str, low: int, high: Any) -> str:
        if any(int(count) > MAX_LENGTH for count in _REPEAT.findall(pattern)):
            raise GeneratorError(f"pattern {pattern[:100]!r} repeats more than {MAX_LENGTH} times")
        text = ""
        for _ in range(_ATTEMPTS):
            try:
                text = self._rstr.xeger(pattern)
            except Exception as error:  # sre parse errors of a user's pattern, of several types
                raise GeneratorError(f"pattern {pattern!r} cannot be used: {error}") from None
            if len(text) >= low and (not isinstance(high, int) or len(text) <= high):
                return text
        return text


_NONE: Any = object()


def _capped(value: Any, keyword: str) -> int:
    if int(value) > MAX_LENGTH:
        raise GeneratorError(f"{keyword} {value} is more than {MAX_LENGTH}")
    return int(value)


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and not name.endswith("ss") else name


def _args(arguments: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in arguments.items())


def _close(name: str, names: frozenset[str]) -> str:
    matches = difflib.get_close_matches(name, sorted(names), n=3)
    return f" (did you mean: {', '.join(matches)}?)" if matches else ""
