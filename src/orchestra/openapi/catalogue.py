"""Build the :class:`Catalogue` of an OpenAPI 3.x document: every operation, self-contained.

What an operation gets (see ``operations.py``): path-level and operation-level parameters merged (the
operation's win, matched by name and location), the JSON request body's schema (``application/json`` or
any ``*+json``), the JSON schema of each documented response, and the security schemes it accepts
(the operation's ``security`` overrides the document's; ``security: []`` means none), the links and the
header names of its success responses. Every ``$ref`` is inlined (``refs.py``). An operation without
``operationId`` gets a stable one made of its method and path words (``get_items_item_id``), numbered
when two would collide.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from orchestra.kit.json_storage import json_storage_problem
from orchestra.openapi.errors import InvalidDescription
from orchestra.openapi.operations import Catalogue, JsonSchema, Link, Operation, Parameter, SecurityScheme
from orchestra.openapi.ref_resolver import RefResolver

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")
_WORDS = re.compile(r"[A-Za-z0-9]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def canonical_json(document: dict[str, Any]) -> str:
    """The document as canonical JSON (sorted keys, no spaces): what ``spec_hash`` hashes and what is
    stored. Values PostgreSQL's JSONB cannot hold (NaN, infinities, NUL characters) are refused here."""
    problem = json_storage_problem(document)
    if problem is not None:
        where, message = problem
        raise InvalidDescription(f"{where or 'the description'}: {message}")
    try:
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:  # not reached below the loaders' depth limits; never a 500 either way
        raise InvalidDescription("the description nests too deeply") from None


def spec_hash(document: dict[str, Any]) -> str:
    """sha256 (hex) of the document's canonical JSON: equal documents, equal hashes, whatever the format."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def build_catalogue(document: dict[str, Any]) -> Catalogue:
    """The catalogue of a checked document (``load.check_document``); InvalidDescription when a part of it
    cannot be understood (malformed objects, bad or external ``$ref``s)."""
    resolver = RefResolver(document)
    found: list[tuple[str | None, dict[str, Any]]] = []  # (operationId as written, operation fields)
    paths = _object(document.get("paths"), "paths")
    default_security = document.get("security")
    for path, raw_item in paths.items():
        item = _object(resolver.resolve(raw_item), f"paths[{path!r}]")
        shared = _list(item.get("parameters", []), f"paths[{path!r}].parameters")
        for method in METHODS:
            if method not in item:
                continue
            where = f"paths[{path!r}].{method}"
            operation = _object(item[method], where)
            fields = {
                "method": method.upper(),
                "path": path,
                "summary": _text(operation.get("summary")),
                "description": _text(operation.get("description")),
                "tags": tuple(tag for tag in _list(operation.get("tags", []), where) if isinstance(tag, str)),
                "parameters": _parameters(shared, _list(operation.get("parameters", []), where), where),
                "security": _security(operation.get("security", default_security), where),
                "responses": _responses(operation.get("responses", {}), where),
                "links": _links(operation.get("responses", {})),
                "response_headers": _response_headers(operation.get("responses", {})),
                **_request_body(operation.get("requestBody"), where),
            }
            written = operation.get("operationId")
            found.append((written if isinstance(written, str) and written else None, fields))
    info = document.get("info")
    return Catalogue(
        title=_text(info.get("title")) if isinstance(info, dict) else "",
        spec_hash=spec_hash(document),
        operations=_with_ids(found),
        security_schemes=_security_schemes(document, resolver),
        servers=_servers(document.get("servers", [])),
    )


def synthesized_id(method: str, path: str) -> str:
    """``<method>_<path words>``: ``GET /items/{item_id}`` → ``get_items_item_id``."""
    return "_".join([method.lower(), *_WORDS.findall(path)])


def _with_ids(found: list[tuple[str | None, dict[str, Any]]]) -> dict[str, Operation]:
    """Written ids first (a synthesized id never takes a written one's name), then the synthesized ones;
    a repeated id gets ``_2``, ``_3``, ... in document order."""
    taken: set[str] = set()
    ids: list[str] = [""] * len(found)
    for synthesized in (False, True):
        for index, (written, fields) in enumerate(found):
            if (written is None) != synthesized:
                continue
            base = written if written is not None else synthesized_id(fields["method"], fields["path"])
            candidate, number = base, 1
            while candidate in taken:
                number += 1
                candidate = f"{base}_{number}"
            taken.add(candidate)
            ids[index] = candidate
    return {
        operation_id: Operation(operation_id=operation_id, **fields)
        for operation_id, (_, fields) in zip(ids, found, strict=True)
    }


def _parameters(shared: list[Any], own: list[Any], where: str) -> tuple[Parameter, ...]:
    merged: dict[tuple[str, str], Parameter] = {}
    for raw in [*shared, *own]:
        parameter = _parameter(raw, where)
        merged[(parameter.name, parameter.location)] = parameter
    return tuple(merged.values())


def _parameter(raw: Any, where: str) -> Parameter:
    data = _object(raw, f"{where}.parameters[]")
    name, location = data.get("name"), data.get("in")
    if not isinstance(name, str) or location not in PARAMETER_LOCATIONS:
        raise InvalidDescription(
            f"{where}: a parameter needs a 'name' and 'in' (one of path, query, header, cookie)"
        )
    schema: Any = data.get("schema")
    if schema is None and isinstance(data.get("content"), dict):  # the other way to describe a parameter
        schema = next(
            (media.get("schema") for media in data["content"].values() if isinstance(media, dict)), None
        )
    return Parameter(
        name=name,
        location=location,
        required=location == "path" or data.get("required") is True,
        schema=_schema(schema),
        description=_text(data.get("description")),
    )


def is_json_media_type(media_type: str) -> bool:
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence == "application/json" or (essence.startswith("application/") and essence.endswith("+json"))


def _json_content(content: Any, where: str) -> tuple[str, JsonSchema] | None:
    """The JSON media type of a ``content`` map and its schema (``application/json`` preferred)."""
    if content is None:
        return None
    media_types = _object(content, f"{where}.content")
    candidates = sorted(
        (media for media in media_types if is_json_media_type(media)),
        key=lambda media: media.split(";", 1)[0].strip().lower() != "application/json",
    )
    if not candidates:
        return None
    media = _object(media_types[candidates[0]], f"{where}.content[{candidates[0]!r}]")
    return candidates[0], _schema(media.get("schema"))


def _request_body(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {"request_schema": None, "request_body_required": False, "request_media_type": None}
    body = _object(raw, f"{where}.requestBody")
    json_content = _json_content(body.get("content"), f"{where}.requestBody")
    return {
        "request_schema": json_content[1] if json_content else None,
        "request_body_required": body.get("required") is True,
        "request_media_type": json_content[0] if json_content else None,
    }


def _responses(raw: Any, where: str) -> dict[str, JsonSchema | None]:
    responses: dict[str, JsonSchema | None] = {}
    for status, response in _object(raw, f"{where}.responses").items():
        if str(status).startswith("x-"):
            continue
        content = _object(response, f"{where}.responses[{status!r}]").get("content")
        json_content = _json_content(content, f"{where}.responses[{status!r}]")
        responses[str(status)] = json_content[1] if json_content else None
    return responses


def _links(raw: Any) -> tuple[Link, ...]:
    """The links of the success responses that take a parameter's value from the response body
    (``$response.body#/article/slug``, by ``operationId``); other links (``operationRef``, headers, constant
    values, pointers into arrays) are left out: the planner finds those parameters by name."""
    found: list[Link] = []
    for status, response in (raw if isinstance(raw, dict) else {}).items():
        links = response.get("links") if isinstance(response, dict) and str(status).startswith("2") else None
        for link in (links if isinstance(links, dict) else {}).values():
            target = link.get("operationId") if isinstance(link, dict) else None
            parameters = link.get("parameters") if isinstance(link, dict) else None
            if not isinstance(target, str) or not isinstance(parameters, dict):
                continue
            for name, expression in parameters.items():
                field = _body_pointer(expression)
                if isinstance(name, str) and field is not None:
                    found.append(Link(target, name.split(".", 1)[-1], field))
    return tuple(dict.fromkeys(found))


def _response_headers(raw: Any) -> tuple[str, ...]:
    """The names of the headers the success responses document (``X-Auth-Token``), as written."""
    found: dict[str, None] = {}
    for status, response in (raw if isinstance(raw, dict) else {}).items():
        success = isinstance(response, dict) and str(status).startswith("2")
        headers = response.get("headers") if success else None
        found.update(dict.fromkeys(name for name in (headers if isinstance(headers, dict) else {}) if name))
    return tuple(name for name in found if isinstance(name, str))


def _body_pointer(expression: Any) -> tuple[str, ...] | None:
    """``$response.body#/article/slug`` → ``("article", "slug")``; None for another expression or a pointer
    that is not a path of plain names."""
    prefix = "$response.body#"
    if not isinstance(expression, str) or not expression.startswith(prefix):
        return None
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in expression[len(prefix) :].split("/")[1:]]
    if not tokens or not all(_NAME.fullmatch(token) for token in tokens):
        return None
    return tuple(tokens)


def _security(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    names: dict[str, None] = {}
    for requirement in _list(raw, f"{where}.security"):
        names.update(dict.fromkeys(_object(requirement, f"{where}.security[]")))
    return tuple(names)


def _security_schemes(document: dict[str, Any], resolver: RefResolver) -> dict[str, SecurityScheme]:
    components = document.get("components", {})
    raw = _object(components, "components").get("securitySchemes", {})
    schemes: dict[str, SecurityScheme] = {}
    for name, value in _object(resolver.resolve(raw), "components.securitySchemes").items():
        data = _object(value, f"components.securitySchemes[{name!r}]")
        schemes[name] = SecurityScheme(
            name=name,
            type=_text(data.get("type")),
            scheme=_text(data.get("scheme")).lower(),
            location=_text(data.get("in")),
            parameter=_text(data.get("name")),
            description=_text(data.get("description")),
        )
    return schemes


def _servers(raw: Any) -> tuple[str, ...]:
    servers = _list(raw, "servers")
    return tuple(
        server["url"] for server in servers if isinstance(server, dict) and isinstance(server.get("url"), str)
    )


def _schema(value: Any) -> JsonSchema:
    """A schema object; JSON Schema's boolean schemas (3.1) become ``{}`` (true) or ``{"not": {}}``."""
    if value is None or value is True:
        return {}
    if value is False:
        return {"not": {}}
    if not isinstance(value, dict):
        raise InvalidDescription(f"a schema must be an object, not {type(value).__name__}")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidDescription(f"{where[:300]} must be an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidDescription(f"{where[:300]} must be a list")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
