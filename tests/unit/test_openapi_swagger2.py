"""Swagger 2.0 descriptions are read as the OpenAPI 3.0 documents they describe: servers, components and
their references, body and form parameters, responses per media type, schemas, security schemes; malformed
ones are refused naming the part."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.errors import InvalidDescription
from orchestra.openapi.load import check_document, parse_text
from orchestra.openapi.swagger2 import convert

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "openapi" / "demo-shop.swagger2.json"


def swagger(**parts: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}, **parts}


def test_host_base_path_and_schemes_become_servers() -> None:
    assert convert(swagger(host="api.example.com:8443", basePath="/v2/", schemes=["https", "http"]))[
        "servers"
    ] == [{"url": "https://api.example.com:8443/v2"}, {"url": "http://api.example.com:8443/v2"}]
    assert convert(swagger(host="api.example.com"))["servers"] == [{"url": "https://api.example.com"}]
    assert convert(swagger(basePath="/api"))["servers"] == [{"url": "/api"}]
    assert convert(swagger())["servers"] == [{"url": "/"}]


def test_definitions_become_component_schemas_and_every_reference_follows() -> None:
    document = swagger(
        definitions={
            "Pet": {
                "type": "object",
                "discriminator": "kind",
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string"},
                    "owner": {"$ref": "#/definitions/Owner"},
                    "nickname": {"type": "string", "x-nullable": True},
                    "photo": {"type": "file"},
                    "tags": {"type": "array", "items": {"$ref": "#/definitions/Tag"}},
                },
            },
            "Owner": {"allOf": [{"$ref": "#/definitions/Tag"}, {"type": "object"}]},
            "Tag": {"type": "string", "x-vendor": 1},
        }
    )
    schemas = convert(document)["components"]["schemas"]
    pet = schemas["Pet"]
    assert pet["discriminator"] == {"propertyName": "kind"}
    assert pet["properties"]["owner"] == {"$ref": "#/components/schemas/Owner"}
    assert pet["properties"]["nickname"] == {"type": "string", "nullable": True}
    assert pet["properties"]["photo"] == {"type": "string", "format": "binary"}
    assert pet["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/Tag"}
    assert schemas["Owner"]["allOf"][0] == {"$ref": "#/components/schemas/Tag"}
    assert schemas["Tag"] == {"type": "string", "x-vendor": 1}
    assert "#/definitions/" not in json.dumps(convert(document))


def test_a_body_parameter_becomes_a_request_body_per_consumed_media_type() -> None:
    operation = {
        "consumes": ["application/json", "application/xml"],
        "parameters": [
            {"name": "pet", "in": "body", "required": True, "description": "the pet",
             "schema": {"$ref": "#/definitions/Pet"}},
            {"name": "X-Trace", "in": "header", "type": "string"},
        ],
        "responses": {"200": {"description": "ok"}},
    }  # fmt: skip
    converted = convert(swagger(paths={"/pets": {"post": operation}}))["paths"]["/pets"]["post"]
    assert converted["requestBody"] == {
        "description": "the pet",
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
            "application/xml": {"schema": {"$ref": "#/components/schemas/Pet"}},
        },
    }
    assert converted["parameters"] == [{"name": "X-Trace", "in": "header", "schema": {"type": "string"}}]


def test_form_parameters_become_one_object_body_multipart_when_a_file_is_sent() -> None:
    fields = [
        {"name": "name", "in": "formData", "type": "string", "required": True},
        {"name": "age", "in": "formData", "type": "integer", "minimum": 0},
    ]
    form = convert(swagger(paths={"/f": {"post": {"parameters": fields, "responses": {}}}}))
    body = form["paths"]["/f"]["post"]["requestBody"]
    assert body == {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
                    "required": ["name"],
                }
            }
        },
    }
    upload = [*fields, {"name": "photo", "in": "formData", "type": "file"}]
    multipart = convert(swagger(paths={"/f": {"post": {"parameters": upload, "responses": {}}}}))
    content = multipart["paths"]["/f"]["post"]["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    assert content["multipart/form-data"]["schema"]["properties"]["photo"] == {
        "type": "string",
        "format": "binary",
    }


def test_parameters_keep_their_place_with_a_schema_and_array_styles() -> None:
    parameters = [
        {"name": "ids", "in": "query", "type": "array", "items": {"type": "integer"},
         "collectionFormat": "multi"},
        {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"}},
        {"name": "parts", "in": "path", "required": True, "type": "array", "items": {"type": "string"},
         "collectionFormat": "pipes"},
        {"name": "limit", "in": "query", "type": "integer", "maximum": 100, "default": 10, "x-note": "n"},
    ]  # fmt: skip
    document = swagger(paths={"/x/{parts}": {"get": {"parameters": parameters, "responses": {}}}})
    converted = convert(document)["paths"]["/x/{parts}"]["get"]["parameters"]
    assert converted[0] == {
        "name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}},
        "style": "form", "explode": True,
    }  # fmt: skip
    assert (converted[1]["style"], converted[1]["explode"]) == ("form", False)
    assert (converted[2]["style"], converted[2]["required"]) == ("pipeDelimited", True)
    assert converted[3] == {
        "name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100, "default": 10},
        "x-note": "n",
    }  # fmt: skip


def test_path_level_and_shared_parameters_reach_each_operation_an_operation_overriding_them() -> None:
    document = swagger(
        parameters={
            "id": {"name": "id", "in": "path", "required": True, "type": "string"},
            "newPet": {"name": "pet", "in": "body", "schema": {"type": "object"}},
        },
        paths={
            "/pets/{id}": {
                "parameters": [{"$ref": "#/parameters/id"}, {"name": "v", "in": "query", "type": "string"}],
                "get": {"responses": {}},
                "put": {
                    "parameters": [
                        {"$ref": "#/parameters/newPet"},
                        {"name": "v", "in": "query", "type": "integer"},
                    ],
                    "responses": {},
                },
            }
        },
    )
    converted = convert(document)
    path = converted["paths"]["/pets/{id}"]
    assert "parameters" not in path
    assert path["get"]["parameters"] == [
        {"$ref": "#/components/parameters/id"},
        {"name": "v", "in": "query", "schema": {"type": "string"}},
    ]
    assert path["put"]["parameters"][1] == {"name": "v", "in": "query", "schema": {"type": "integer"}}
    assert path["put"]["requestBody"] == {"$ref": "#/components/requestBodies/newPet"}
    assert converted["components"]["requestBodies"]["newPet"] == {
        "content": {"application/json": {"schema": {"type": "object"}}}
    }
    assert converted["components"]["parameters"]["id"]["schema"] == {"type": "string"}


def test_responses_get_content_per_produced_media_type_with_examples_and_header_schemas() -> None:
    operation = {
        "produces": ["application/json", "text/csv"],
        "responses": {
            "200": {
                "description": "ok",
                "schema": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
                "examples": {"application/json": [{"id": 1}]},
                "headers": {"X-Rate": {"type": "integer", "description": "left"}},
            },
            "404": {"$ref": "#/responses/NotFound"},
            "default": {"description": "error"},
        },
    }
    document = swagger(paths={"/pets": {"get": operation}}, responses={"NotFound": {"description": "no"}})
    converted = convert(document)
    responses = converted["paths"]["/pets"]["get"]["responses"]
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
    assert responses["200"]["content"] == {
        "application/json": {"schema": schema, "example": [{"id": 1}]},
        "text/csv": {"schema": schema},
    }
    assert responses["200"]["headers"] == {"X-Rate": {"schema": {"type": "integer"}, "description": "left"}}
    assert responses["404"] == {"$ref": "#/components/responses/NotFound"}
    assert responses["default"] == {"description": "error"}
    assert converted["components"]["responses"] == {"NotFound": {"description": "no"}}


def test_security_definitions_become_security_schemes() -> None:
    definitions = {
        "basic": {"type": "basic"},
        "key": {"type": "apiKey", "name": "X-Key", "in": "header", "description": "d"},
        "implicit": {"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a/auth",
                     "scopes": {"r": "read"}},
        "password": {"type": "oauth2", "flow": "password", "tokenUrl": "https://a/token", "scopes": {}},
        "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://a/token", "scopes": {}},
        "code": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a/auth",
                 "tokenUrl": "https://a/token", "scopes": {}},
    }  # fmt: skip
    converted = convert(swagger(securityDefinitions=definitions, security=[{"key": []}]))
    schemes = converted["components"]["securitySchemes"]
    assert schemes["basic"] == {"type": "http", "scheme": "basic"}
    assert schemes["key"] == {"type": "apiKey", "name": "X-Key", "in": "header", "description": "d"}
    assert schemes["implicit"]["flows"] == {
        "implicit": {"authorizationUrl": "https://a/auth", "scopes": {"r": "read"}}
    }
    assert schemes["password"]["flows"] == {"password": {"tokenUrl": "https://a/token", "scopes": {}}}
    assert list(schemes["app"]["flows"]) == ["clientCredentials"]
    assert list(schemes["code"]["flows"]) == ["authorizationCode"]
    assert converted["security"] == [{"key": []}]


def test_the_demo_description_converts_to_a_catalogue_of_its_operations() -> None:
    document = parse_text(DEMO.read_text())
    assert document["openapi"] == "3.0.3"
    catalogue = build_catalogue(document)
    assert sorted(catalogue.operations) == sorted(
        [
            "issueToken",
            "createItem",
            "listItems",
            "getItem",
            "replaceItem",
            "updateItem",
            "deleteItem",
            "health",
        ]
    )
    assert catalogue.servers == ("http://127.0.0.1:8000",)
    create = catalogue.operations["createItem"]
    assert create.request_schema is not None
    assert create.request_media_type == "application/json"


def one(method: str, *parameters: dict[str, Any]) -> dict[str, Any]:
    """A description of one operation with these parameters."""
    return swagger(paths={"/p": {method: {"parameters": list(parameters), "responses": {}}}})


def mutated(change: Any) -> dict[str, Any]:
    document = json.loads(DEMO.read_text())
    change(document)
    return document


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"swagger": "1.2", "paths": {}}, "Swagger 1.2 description: Swagger 2.0 is converted"),
        ({"swagger": "2.0"}, "'paths' object is missing"),
        (swagger(host="http://h/"), "host must be a host name"),
        (swagger(basePath="v1"), "basePath must start with '/'"),
        (swagger(schemes=["ftp"]), "schemes must be a list"),
        (swagger(paths={"/p": []}), "paths/~1p must be an object"),
        (swagger(paths={"/p": {"get": {"parameters": {}}}}), "paths/~1p/get/parameters must be a list"),
        (swagger(paths={"/p": {"get": {"parameters": [{"name": "a", "in": "cookie"}]}}}), "'in' must be"),
        (swagger(paths={"/p": {"get": {"parameters": [{"$ref": "#/parameters/nope"}]}}}), "is not defined"),
        (
            one("post", {"name": "a", "in": "body", "schema": {}}, {"name": "b", "in": "body"}),
            "more than one body",
        ),
        (
            one("post", {"name": "a", "in": "body", "schema": {}}, {"name": "b", "in": "formData"}),
            "both a body",
        ),
        (
            one("get", {"name": "a", "in": "header", "type": "array", "collectionFormat": "multi"}),
            "multi is for query",
        ),
        (swagger(securityDefinitions={"s": {"type": "oauth2", "flow": "password"}}), "needs tokenUrl"),
        (swagger(securityDefinitions={"s": {"type": "bearer"}}), "type must be basic, apiKey or oauth2"),
        (swagger(definitions=[]), "definitions must be an object"),
        (mutated(lambda d: d["paths"]["/items"]["post"].update(responses=[])), "responses must be an object"),
    ],
)
def test_malformed_swagger_is_refused_naming_the_part(document: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidDescription) as caught:
        check_document(copy.deepcopy(document))
    assert needle in caught.value.detail
