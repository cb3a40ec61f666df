"""The OpenAPI description says what the API does, so that generated clients (the web application's among
them) and contract testers can rely on it:

- every operation lists the error statuses it can answer with, as ``application/problem+json`` bodies of
  one ``Problem`` schema (problems.py makes them);
- every text the API takes says that PostgreSQL cannot store a NUL character, which the API refuses with a
  422 wherever it appears (as it refuses a lone UTF-16 surrogate, which no pattern can portably exclude).

FastAPI builds the description from the routes and models; ``document`` finishes it, once, on first request.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from orchestra.kit.json_storage import STORABLE_JSON_MARK, STORABLE_TEXT
from orchestra.problems import PROBLEM_JSON

STORABLE_JSON_REF = "#/components/schemas/StorableJson"
STORABLE_JSON_SCHEMA: dict[str, Any] = {
    "title": "StorableJson",
    "description": "Any JSON value whose texts (keys too) hold no NUL character.",
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "number"},
        {"type": "string", "pattern": STORABLE_TEXT},
        {"type": "array", "items": {"$ref": STORABLE_JSON_REF}},
        {
            "type": "object",
            "propertyNames": {"pattern": STORABLE_TEXT},
            "additionalProperties": {"$ref": STORABLE_JSON_REF},
        },
    ],
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "Always about:blank: the status and title say the kind."},
        "title": {"type": "string", "description": "The kind of error, e.g. Not found."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What was wrong, and what to do about it."},
        "errors": {
            "type": "array",
            "description": "Invalid input: each problem with where it is (a field, or a definition's line).",
            "items": {"type": "object"},
        },
    },
}

# Why each status can answer an operation, by what the operation is (see error_statuses).
ERROR_DESCRIPTIONS = {
    400: "The request body could not be parsed: it must be UTF-8 encoded JSON.",
    401: "No credentials, or credentials that do not prove who the caller is.",
    403: "The caller's role or scope does not allow this.",
    404: "Something the request names does not exist (or is not visible to the caller).",
    409: "The change conflicts with existing data: a duplicate, or something still in use.",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not JSON sent as Content-Type: application/json.",
    422: "The input is invalid: each problem is listed with where it is.",
    503: "A service this depends on (the database, the broker, the identity provider, the ai-service) is "
    "unavailable; retry later.",
}


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer with, from what it is: authenticated or not, naming
    something (a path parameter, or a body that names a project, an environment …), changing something,
    taking a body or parameters."""
    statuses = []
    if operation.get("security"):
        statuses += [401, 403, 404, 503]
        if method != "get":
            statuses.append(409)
    elif "{" in path:
        statuses.append(404)
    if "requestBody" in operation:
        statuses += [400, 413, 415]
    if "requestBody" in operation or operation.get("parameters"):
        statuses.append(422)
    return sorted(set(statuses))


def describe_errors(openapi: dict[str, Any]) -> None:
    """Add the Problem schema and each operation's error responses (in place)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)  # FastAPI's shape of a 422; ours is the Problem
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in openapi.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in error_statuses(path, method, operation):
                responses[str(status)] = {"description": ERROR_DESCRIPTIONS[status], "content": content}
            operation["responses"] = dict(sorted(responses.items()))


def describe_text(node: Any) -> None:
    """Give every free text schema under ``node`` (one without a pattern, format or fixed values), and every
    object's property names, the pattern of what can be stored; point marked JSON values to StorableJson
    (in place)."""
    if isinstance(node, dict):
        if node.pop(STORABLE_JSON_MARK, False):
            node["$ref"] = STORABLE_JSON_REF
        free = node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys()
        if free:
            node["pattern"] = STORABLE_TEXT
        names = node.get("propertyNames")
        if isinstance(names, dict) and not {"pattern", "enum", "const"} & names.keys():
            names["pattern"] = STORABLE_TEXT
        for value in node.values():
            describe_text(value)
    elif isinstance(node, list):
        for value in node:
            describe_text(value)


def document(app: FastAPI) -> None:
    """Finish ``app``'s OpenAPI description as the module docstring says (built once, on first request)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            description = build()
            describe_text(description.get("components", {}).get("schemas", {}))
            for item in description.get("paths", {}).values():
                for operation in item.values():
                    describe_text(operation.get("parameters", []))
                    describe_text(operation.get("requestBody", {}))
            description.setdefault("components", {}).setdefault("schemas", {})["StorableJson"] = (
                STORABLE_JSON_SCHEMA
            )
            describe_errors(description)
            app.openapi_schema = description
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
