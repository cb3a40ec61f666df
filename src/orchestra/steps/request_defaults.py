"""The request a step sends: its own settings over the defaults it inherits, all rendered.

Layers, from the most general: the environment's defaults, the suite's, the test case's, then the step's
own request. ``headers`` merge by name, case-insensitively (the latest layer's spelling is sent); a null
value removes a header a more general layer set. ``query`` merges by name the same way (case-sensitive).
``auth`` and ``timeout_ms`` are taken from the most specific layer that gives them (``auth: null``: none).
A layer's ``headers`` may be a template that renders to a mapping (``"{{ common_headers }}"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestra.steps.templating import TemplateError


def without_overridden_auth(
    layers: Sequence[Mapping[str, Any]], step: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """The layers without the ``auth`` a more specific layer (or the step) replaces: it is never sent, so it
    is not rendered either (a suite's ``bearer: {token: "{{ suite.token }}"}`` under a log-in step's
    ``auth: null``, where nothing was captured yet)."""
    kept: list[Mapping[str, Any]] = []
    replaced = "auth" in step
    for layer in reversed(layers):
        if replaced and "auth" in layer:
            layer = {key: value for key, value in layer.items() if key != "auth"}
        replaced = replaced or "auth" in layer
        kept.append(layer)
    return kept[::-1]


def merged_request(layers: Sequence[Mapping[str, Any]], step: Mapping[str, Any]) -> dict[str, Any]:
    """The step's rendered request with the rendered ``layers`` (general first) under it."""
    headers: dict[str, tuple[str, str]] = {}  # lower-case name -> (name as written, value)
    query: dict[str, Any] = {}
    merged = dict(step)
    for layer in [*layers, step]:
        for name, value in _header_mapping(layer.get("headers")).items():
            if value is None:
                headers.pop(name.lower(), None)
            else:
                headers[name.lower()] = (name, value)
        for name, value in (layer.get("query") or {}).items():
            if value is None:
                query.pop(name, None)
            else:
                query[name] = value
        if "auth" in layer:
            merged["auth"] = layer["auth"]
        if layer.get("timeout_ms") is not None:
            merged["timeout_ms"] = layer["timeout_ms"]
    merged["headers"] = dict(headers.values())
    merged["query"] = query
    return merged


def _header_mapping(value: Any) -> dict[str, str | None]:
    """A layer's headers as names to text (None: remove); a template must have rendered to a mapping."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TemplateError(f"headers must be a mapping of names to values, got {_kind(value)}")
    headers: dict[str, str | None] = {}
    for name, item in value.items():
        if isinstance(item, Mapping | list):
            raise TemplateError(f"header {name!r} must be text, a number or a boolean, got {_kind(item)}")
        headers[str(name)] = None if item is None else _text(item)
    return headers


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {str(value)[:40]!r}"
