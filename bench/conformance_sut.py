"""A generic "conformance SUT": serves an OpenAPI 3.x description, accepting exactly the requests it allows.

The benchmarks need a SUT for a public description that we did not write and cannot reach (no network).
This app stands in for it: for each operation it checks the request strictly against the description —
security requirements, required path/query/header parameters and their schemas, the body's media type and
the JSON body against the request schema (``jsonschema``, ``$ref`` resolved within the document) — and
answers the first documented 2xx status with a body valid per its schema (the request body's fields echoed
into it, as a real server would return the stored entity), or 400/401/415/422 with the reason; an unknown
path is 404, an undocumented method 405. It has no business rules (ids need not exist), so a 2xx rate
measured against it is the rate of requests that conform to the description.

    python bench/conformance_sut.py bench/specs/petstore-v3.yaml [--port 8090]
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import uvicorn
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

SPEC_URI = "urn:orchestra:conformance-spec"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
MAX_SAMPLE_DEPTH = 8
MAX_BODY_BYTES = 1_048_576


def _format_checker() -> jsonschema.FormatChecker:
    """The draft checker plus the OpenAPI formats that a strict server enforces on what it parses."""
    checker = jsonschema.FormatChecker()

    def in_range(fmt: str) -> Any:
        low, high = INT_RANGES[fmt]
        return lambda value: not isinstance(value, int) or low <= value <= high

    for fmt in INT_RANGES:
        checker.checks(fmt)(in_range(fmt))
    checker.checks("date-time", raises=ValueError)(
        lambda v: not isinstance(v, str) or bool(datetime.fromisoformat(v.replace("Z", "+00:00")).tzinfo)
    )
    checker.checks("date", raises=ValueError)(lambda v: not isinstance(v, str) or bool(date.fromisoformat(v)))
    return checker


def _nullable_type(validator: Any, types: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    """OpenAPI 3.0's ``nullable: true`` widens ``type`` to null."""
    if instance is None and schema.get("nullable") is True:
        return
    yield from jsonschema.Draft4Validator.VALIDATORS["type"](validator, types, instance, schema)


OpenApi30Validator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft4Validator, {"type": _nullable_type}
)


@dataclass(frozen=True, slots=True)
class SpecOperation:
    method: str
    path: str
    pointer: str  # JSON pointer of the operation object, for schema $refs
    pattern: re.Pattern[str]  # one group per path parameter, in template order
    node: dict[str, Any]
    parameters: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (pointer, parameter)


class Spec:
    """An OpenAPI document with its operations indexed by method and path template."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        version = str(document.get("openapi", "3.0"))
        self.validator_class: Any = (
            jsonschema.Draft202012Validator if version.startswith("3.1") else OpenApi30Validator
        )
        spec = DRAFT202012 if version.startswith("3.1") else DRAFT4
        resource = Resource.from_contents(document, default_specification=spec)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self.resolver = self.registry.resolver(base_uri=SPEC_URI)
        self.format_checker = _format_checker()
        self.base_paths = sorted(
            {urlsplit(server.get("url", "")).path.rstrip("/") for server in document.get("servers", [])}
            - {""},
            key=len,
            reverse=True,
        )
        self.operations = list(self._index())

    def _index(self) -> Iterator[SpecOperation]:
        for path, item in (self.document.get("paths") or {}).items():
            item_pointer = f"/paths/{_escape(path)}"
            shared = self._parameters(item.get("parameters", []), f"{item_pointer}/parameters")
            pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(path)))
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                pointer = f"{item_pointer}/{method}"
                own = self._parameters(item[method].get("parameters", []), f"{pointer}/parameters")
                names = {(p["name"], p["in"]) for _, p in own}
                merged = own + [(ptr, p) for ptr, p in shared if (p["name"], p["in"]) not in names]
                yield SpecOperation(method.upper(), path, pointer, pattern, item[method], merged)

    def _parameters(self, raw: list[dict[str, Any]], pointer: str) -> list[tuple[str, dict[str, Any]]]:
        return [self.deref(p, f"{pointer}/{i}") for i, p in enumerate(raw)]

    def deref(self, node: dict[str, Any], pointer: str) -> tuple[str, dict[str, Any]]:
        """A (possibly ``$ref``) object and the pointer its schemas resolve from."""
        while "$ref" in node:
            ref = node["$ref"]
            resolved = self.resolver.lookup(ref)
            node, pointer = resolved.contents, ref.removeprefix("#")
        return pointer, node

    def match(self, method: str, path: str) -> tuple[SpecOperation | None, dict[str, str], bool]:
        """The operation, its path parameters (decoded), and whether the path exists at all. ``path`` is the
        raw (still percent-encoded) path, so that an encoded ``/`` stays inside its parameter."""
        candidates = [path] + [path[len(b) :] for b in self.base_paths if path.startswith(b + "/")]
        known_path = False
        for candidate in candidates:
            for operation in self.operations:
                found = operation.pattern.fullmatch(candidate)
                if found is None:
                    continue
                known_path = True
                if operation.method == method:
                    names = re.findall(r"\{([^}]+)\}", operation.path)
                    params = {name: unquote(value) for name, value in zip(names, found.groups(), strict=True)}
                    return operation, params, True
        return None, {}, known_path

    def errors(self, instance: Any, schema_pointer: str) -> list[str]:
        """Validation errors of ``instance`` against the schema at ``schema_pointer`` in the document."""
        validator = self.validator_class(
            {"$ref": f"{SPEC_URI}#{schema_pointer}"},
            registry=self.registry,
            format_checker=self.format_checker,
        )
        return [_describe(error) for error in validator.iter_errors(instance)]

    def schema_at(self, pointer: str) -> dict[str, Any]:
        contents: dict[str, Any] = self.resolver.lookup(f"#{pointer}").contents
        return contents

    def sample(self, schema: Any, depth: int = 0) -> Any:
        """A value valid per ``schema`` (examples, defaults and enums first): what the server returns."""
        if not isinstance(schema, dict) or depth > MAX_SAMPLE_DEPTH:
            return None
        if "$ref" in schema:
            return self.sample(self.resolver.lookup(schema["$ref"]).contents, depth + 1)
        for key in ("const", "example", "default"):
            if key in schema and _has_type(schema[key], schema.get("type")):
                return schema[key]
        if schema.get("enum"):
            return schema["enum"][0]
        for key in ("allOf", "oneOf", "anyOf"):
            if schema.get(key):
                parts = [self.sample(part, depth + 1) for part in schema[key]]
                objects = [part for part in parts if isinstance(part, dict)]
                return {k: v for part in objects for k, v in part.items()} if objects else parts[0]
        kind = schema.get("type")
        kind = kind[0] if isinstance(kind, list) else kind
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {name: self.sample(sub, depth + 1) for name, sub in props.items()}
        if kind == "array":
            return [self.sample(schema.get("items", {}), depth + 1) for _ in range(schema.get("minItems", 0))]
        if kind in ("integer", "number"):
            return schema.get("minimum", 1)
        if kind == "boolean":
            return True
        if kind == "string":
            return "x" * max(1, schema.get("minLength", 1))
        return None


def _has_type(value: Any, kind: Any) -> bool:
    """Whether an ``example`` fits its schema's type (YAML reads ``example: 12345`` of a string as an int)."""
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
    }
    wanted = expected.get(kind) if isinstance(kind, str) else None
    if wanted is None:
        return True
    return isinstance(value, wanted) and (kind == "boolean" or not isinstance(value, bool))


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _describe(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{where or '(root)'}: {error.message}"[:300]


def _coerce(raw: list[str], schema: dict[str, Any], explode: bool) -> Any:
    """A parameter's string form as the typed value its schema describes (``ValueError`` when it is not)."""
    kind = schema.get("type")
    if kind == "array":
        values = raw if explode else [v for item in raw for v in item.split(",")]
        return [_coerce([v], schema.get("items", {}), True) for v in values]
    value = raw[-1]
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError(f"{value!r} is not a boolean")
        return value == "true"
    return value


def _security_ok(spec: Spec, operation: SpecOperation, request: Request) -> bool:
    requirements = operation.node.get("security", spec.document.get("security", []))
    if not requirements:
        return True
    schemes = (spec.document.get("components") or {}).get("securitySchemes", {})
    authorization = request.headers.get("authorization", "")
    for requirement in requirements:
        if all(_scheme_ok(schemes.get(name, {}), request, authorization) for name in requirement):
            return True
    return False


def _scheme_ok(scheme: dict[str, Any], request: Request, authorization: str) -> bool:
    kind = scheme.get("type")
    if kind == "apiKey":
        where = {"header": request.headers, "query": request.query_params, "cookie": request.cookies}
        return bool(where.get(scheme.get("in", ""), {}).get(scheme.get("name", "")))
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
        return authorization.lower().startswith("basic ") and len(authorization) > 6
    if kind in ("http", "oauth2", "openIdConnect"):
        return authorization.lower().startswith("bearer ") and len(authorization.strip()) > 7
    return False


def _parameter_problems(
    spec: Spec, operation: SpecOperation, request: Request, path: dict[str, str]
) -> list[str]:
    problems: list[str] = []
    for pointer, parameter in operation.parameters:
        name, location = parameter["name"], parameter["in"]
        if location == "path":
            raw = [path[name]] if name in path else []
        elif location == "query":
            raw = request.query_params.getlist(name)
        elif location == "header":
            raw = request.headers.getlist(name)
        else:
            raw = [request.cookies[name]] if name in request.cookies else []
        if not raw:
            if parameter.get("required") or location == "path":
                problems.append(f"{location} parameter {name!r} is required")
            continue
        if "schema" not in parameter:
            continue
        schema = spec.schema_at(f"{pointer}/schema")
        try:
            style = parameter.get("style", "form" if location in ("query", "cookie") else "simple")
            value = _coerce(raw, schema, parameter.get("explode", style == "form"))
        except ValueError as error:
            problems.append(f"{location} parameter {name!r}: {error}")
            continue
        problems += [f"{location} parameter {name!r} {e}" for e in spec.errors(value, f"{pointer}/schema")]
    return problems


async def _body_problems(
    spec: Spec, operation: SpecOperation, request: Request
) -> tuple[int, list[str], Any]:
    """(status, problems, parsed JSON body) for the request body."""
    if "requestBody" not in operation.node:
        return 200, [], None
    pointer, body_spec = spec.deref(operation.node["requestBody"], f"{operation.pointer}/requestBody")
    raw = await _read_body(request)
    if raw is None:
        return 413, [f"the body is larger than {MAX_BODY_BYTES} bytes"], None
    if not raw:
        return (400, ["a request body is required"], None) if body_spec.get("required") else (200, [], None)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    content = body_spec.get("content", {})
    if media not in {m.lower() for m in content}:
        return 415, [f"media type {media!r} is not one of {sorted(content)}"], None
    declared = next(m for m in content if m.lower() == media)
    if not (media == "application/json" or media.endswith("+json")):
        return 200, [], None  # accepted as declared; only JSON bodies are checked against their schema
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return 400, ["the body is not valid JSON (or nested too deeply)"], None
    if "schema" not in content[declared]:
        return 200, [], body
    try:
        errors = spec.errors(body, f"{pointer}/content/{_escape(declared)}/schema")
    except RecursionError:
        errors = ["the body is nested too deeply to be checked"]
    return (422, errors, body) if errors else (200, [], body)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than ``MAX_BODY_BYTES`` (read no further than that)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _success(spec: Spec, operation: SpecOperation, body: Any) -> Response:
    responses = operation.node.get("responses", {})
    codes = [code for code in responses if str(code).upper().startswith("2")]
    code = str(codes[0]) if codes else "default" if "default" in responses else None
    status = 200 if code is None or not code.isdigit() else int(code)
    if code is None or status == 204:
        return Response(status_code=status)
    _, response = spec.deref(responses[code], "")
    media = next((m for m in response.get("content", {}) if "json" in m), None)
    if media is None:
        return Response(status_code=status)
    payload = spec.sample(response["content"][media].get("schema", {}))
    if isinstance(payload, dict) and isinstance(body, dict):
        payload.update({k: v for k, v in body.items() if k in payload})
    return JSONResponse(payload, status_code=status)


def _problem(status: int, problems: list[str]) -> JSONResponse:
    return JSONResponse({"status": status, "problems": problems[:20]}, status_code=status)


def create_app(document: dict[str, Any]) -> ASGIApp:
    """The SUT as a bare ASGI app: every request reaches ``handle`` (no router of its own in the way)."""
    spec = Spec(document)

    async def handle(request: Request) -> Response:
        raw_path = bytes(request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
        operation, path_params, known_path = spec.match(request.method, raw_path)
        if operation is None:
            return _problem(405 if known_path else 404, [f"no operation {request.method} {raw_path}"])
        if not _security_ok(spec, operation, request):
            return _problem(401, ["the operation's security requirements are not met"])
        problems = _parameter_problems(spec, operation, request, path_params)
        status, body_problems, body = await _body_problems(spec, operation, request)
        if problems or body_problems:
            return _problem(status if body_problems else 400, problems + body_problems)
        return _success(spec, operation, body)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await handle(Request(scope, receive))
        await response(scope, receive, send)

    return app


def load_document(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("spec", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    uvicorn.run(create_app(load_document(args.spec)), host=args.host, port=args.port, log_level="warning")
