"""What PostgreSQL's JSONB refuses although Python's JSON accepts it (NaN, NUL, lone surrogates)."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import JsonValue, WithJsonSchema

IDENTIFIER_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"
# Text JSONB and PostgreSQL's text store (no NUL), as a pattern ECMA-262 and Python read alike; and such
# text with more than white space. (Lone surrogates are refused too, but a character range of them is a
# pattern many tools cannot read; JSON generators do not make them.)
STORABLE_TEXT = "^[^\\u0000]*$"
STORABLE_NON_BLANK_TEXT = "^[^\\u0000]*[^\\u0000\\s][^\\u0000]*$"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Any JSON value JSONB stores. The API's OpenAPI description points the marked schema to one that says so
# (no NUL, no lone surrogate, at any depth: see api_contract.py).
STORABLE_JSON_MARK = "x-orchestra-storable-json"
StorableJson = Annotated[JsonValue, WithJsonSchema({STORABLE_JSON_MARK: True})]


def is_identifier(name: str) -> bool:
    """A variable name: ASCII letters, digits and _, not starting with a digit."""
    return _IDENTIFIER.fullmatch(name) is not None


def _child_path(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    if _IDENTIFIER.fullmatch(part):
        return f"{path}.{part}" if path else part
    return f"{path}[{part!r}]"


def _path_of(path: str, trail: tuple[Any, ...] | None) -> str:
    """``path`` followed by the parts of ``trail`` (a linked list: (earlier trail, part)), as written."""
    parts: list[str | int] = []
    while trail is not None:
        trail, part = trail
        parts.append(part)
    for part in reversed(parts):
        path = _child_path(path, part)
    return path


def json_storage_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """``(path, message)`` saying why PostgreSQL's JSONB would refuse ``value``, or None when it is fine.

    JSON parsed by Python may hold NaN/Infinity, NUL characters and lone surrogates, which JSONB refuses;
    catching them here turns a database error (a 500) into a clear 422. The path of an item is written
    only for a problem (a long definition has tens of thousands of items)."""
    pending: list[tuple[tuple[Any, ...] | None, Any]] = [(None, value)]
    while pending:
        trail, item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return _path_of(path, trail), "text must not contain the NUL character (\\u0000)"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return _path_of(
                    path, trail
                ), "text must be valid Unicode (a lone surrogate such as \\ud800 is not)"
        elif isinstance(item, float) and not math.isfinite(item):
            return _path_of(path, trail), "numbers must be finite (NaN and Infinity are not JSON)"
        elif isinstance(item, dict):
            for key, child in item.items():
                pending.append((trail, key))
                pending.append(((trail, str(key)), child))
        elif isinstance(item, list | tuple):
            pending.extend(((trail, index), child) for index, child in enumerate(item))
    return None


def _key(key: Any) -> str:
    """A mapping's key as ``json.dumps`` writes it (``true``, ``null``, ``1.5``, ``Infinity``), so that a
    value stored after this repair has the keys it would have had without it; other keys as ``str``."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    return str(key)


def jsonb_safe(value: Any) -> Any:
    """A copy of ``value`` that PostgreSQL's JSONB accepts: NUL and lone surrogates replaced by U+FFFD,
    NaN and infinities written as strings. Recorded SUT data (binary bodies, odd JSON) goes through this."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\ufffd")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {jsonb_safe(_key(key)): jsonb_safe(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [jsonb_safe(child) for child in value]
    return value
