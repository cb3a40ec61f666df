"""The operations of an imported OpenAPI description, as plain data with every ``$ref`` resolved.

This is what the planners, the Data Resolver and the assistant see of a SUT: an operation by its
``operationId``, its parameters, its JSON request body schema, its response schemas and its security.
A ``Catalogue`` is stored as JSON beside the imported document (``to_json`` / ``from_json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonSchema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: JsonSchema = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI ``link`` of a success response: ``parameter`` of ``operation`` takes the response body's
    ``field`` (the JSON pointer ``/article/slug`` as the path ``("article", "slug")``)."""

    operation: str  # operationId of the linked operation
    parameter: str  # its parameter's name (without an ``in.`` prefix)
    field: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    name: str
    type: str  # http | apiKey | oauth2 | openIdConnect
    scheme: str = ""  # for http: bearer | basic
    location: str = ""  # for apiKey: header | query | cookie
    parameter: str = ""  # for apiKey: the header, query or cookie name
    description: str = ""  # may say how the value is written (``Token xxxxx.yyyyy.zzzzz``)


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str  # upper case: GET, POST, ...
    path: str  # the template as written in the spec: /items/{item_id}
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    request_schema: JsonSchema | None = None  # the JSON request body's schema; None: no JSON body
    request_body_required: bool = False
    request_media_type: str | None = None
    # Status code as written ("201", "2XX", "default") → the JSON response schema, or None without one.
    responses: dict[str, JsonSchema | None] = field(default_factory=dict)
    security: tuple[str, ...] = ()  # names of the security schemes any of which the operation accepts
    links: tuple[Link, ...] = ()  # what its success responses' ``links`` give other operations' parameters
    response_headers: tuple[str, ...] = ()  # the headers its success responses document (as written)

    def parameter(self, name: str, location: str | None = None) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name and (location is None or parameter.location == location):
                return parameter
        return None

    def success_statuses(self) -> list[str]:
        return [code for code in self.responses if code.startswith("2")]

    def success_schema(self) -> JsonSchema | None:
        """The JSON schema of the first documented 2xx response, if any."""
        for code in self.success_statuses():
            schema = self.responses[code]
            if schema is not None:
                return schema
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "method": self.method,
            "path": self.path,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "parameters": [
                {
                    "name": p.name,
                    "location": p.location,
                    "required": p.required,
                    "schema": p.schema,
                    "description": p.description,
                }
                for p in self.parameters
            ],
            "request_schema": self.request_schema,
            "request_body_required": self.request_body_required,
            "request_media_type": self.request_media_type,
            "responses": self.responses,
            "security": list(self.security),
            "links": [
                {"operation": link.operation, "parameter": link.parameter, "field": list(link.field)}
                for link in self.links
            ],
            "response_headers": list(self.response_headers),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Operation:
        return cls(
            operation_id=data["operation_id"],
            method=data["method"],
            path=data["path"],
            summary=data.get("summary", ""),
            description=data.get("description", ""),
            tags=tuple(data.get("tags", ())),
            parameters=tuple(Parameter(**p) for p in data.get("parameters", ())),
            request_schema=data.get("request_schema"),
            request_body_required=bool(data.get("request_body_required", False)),
            request_media_type=data.get("request_media_type"),
            responses=dict(data.get("responses", {})),
            security=tuple(data.get("security", ())),
            links=tuple(
                Link(link["operation"], link["parameter"], tuple(link["field"]))
                for link in data.get("links", ())
            ),
            response_headers=tuple(data.get("response_headers", ())),
        )


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every operation of one imported description, by ``operationId``."""

    title: str
    spec_hash: str  # sha256 of the canonical JSON of the imported document
    operations: dict[str, Operation] = field(default_factory=dict)
    security_schemes: dict[str, SecurityScheme] = field(default_factory=dict)
    servers: tuple[str, ...] = ()

    def get(self, operation_id: str) -> Operation | None:
        return self.operations.get(operation_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "spec_hash": self.spec_hash,
            "operations": [operation.to_json() for operation in self.operations.values()],
            "security_schemes": [
                {
                    "name": s.name,
                    "type": s.type,
                    "scheme": s.scheme,
                    "location": s.location,
                    "parameter": s.parameter,
                    "description": s.description,
                }
                for s in self.security_schemes.values()
            ],
            "servers": list(self.servers),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalogue:
        operations = [Operation.from_json(item) for item in data.get("operations", ())]
        schemes = [SecurityScheme(**item) for item in data.get("security_schemes", ())]
        return cls(
            title=data.get("title", ""),
            spec_hash=data["spec_hash"],
            operations={operation.operation_id: operation for operation in operations},
            security_schemes={scheme.name: scheme for scheme in schemes},
            servers=tuple(data.get("servers", ())),
        )
