"""The catalogue of a description: operations, merged parameters, JSON bodies, responses, security, ids."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from orchestra.openapi.catalogue import build_catalogue, spec_hash, synthesized_id
from orchestra.openapi.errors import InvalidDescription
from orchestra.openapi.load import parse_text
from orchestra.openapi.operations import Catalogue

PETS: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Pet store", "version": "1"},
    "servers": [{"url": "https://pets.example.com/v1"}],
    "security": [{"bearer": []}],
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets",
                "summary": "List pets",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}}
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
                            }
                        },
                    }
                },
            },
            "post": {
                "operationId": "createPet",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}},
                },
                "responses": {
                    "201": {"$ref": "#/components/responses/PetCreated"},
                    "default": {"description": "error"},
                },
            },
        },
        "/pets/{petId}": {
            "parameters": [
                {"$ref": "#/components/parameters/PetId"},
                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
            ],
            "get": {
                "parameters": [
                    {
                        "name": "X-Trace",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "minLength": 8},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/vnd.pet+json; charset=utf-8": {
                                "schema": {"$ref": "#/components/schemas/Pet"}
                            }
                        },
                    }
                },
            },
            "delete": {"security": [], "responses": {"204": {"description": "gone"}}},
            "put": {
                "security": [{"apiKey": []}, {"bearer": [], "apiKey": []}],
                "requestBody": {
                    "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
                },
                "responses": {"200": {"description": "ok"}},
            },
        },
    },
    "components": {
        "schemas": {
            "NewPet": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string", "maxLength": 40}},
            },
            "Pet": {
                "allOf": [{"$ref": "#/components/schemas/NewPet"}, {"properties": {"id": {"type": "string"}}}]
            },
        },
        "parameters": {
            "PetId": {"name": "petId", "in": "path", "schema": {"type": "string", "format": "uuid"}}
        },
        "responses": {
            "PetCreated": {
                "description": "created",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
            }
        },
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "Bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        },
    },
}
NEW_PET = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "maxLength": 40}},
}


@pytest.fixture
def catalogue() -> Catalogue:
    return build_catalogue(copy.deepcopy(PETS))


def test_every_operation_is_listed_with_its_id(catalogue: Catalogue) -> None:
    assert catalogue.title == "Pet store"
    assert catalogue.servers == ("https://pets.example.com/v1",)
    assert [(op.method, op.path) for op in catalogue.operations.values()] == [
        ("GET", "/pets"),
        ("POST", "/pets"),
        ("GET", "/pets/{petId}"),
        ("PUT", "/pets/{petId}"),
        ("DELETE", "/pets/{petId}"),
    ]
    assert list(catalogue.operations)[:2] == ["listPets", "createPet"]


def test_request_body_and_responses_are_inlined(catalogue: Catalogue) -> None:
    create = catalogue.operations["createPet"]
    assert create.request_schema == NEW_PET
    assert create.request_body_required is True
    assert create.request_media_type == "application/json"
    assert create.responses["201"] == {"allOf": [NEW_PET, {"properties": {"id": {"type": "string"}}}]}
    assert create.responses["default"] is None
    assert create.success_schema() == create.responses["201"]
    assert "$ref" not in json.dumps(catalogue.to_json())


def test_path_parameters_are_merged_and_the_operation_wins(catalogue: Catalogue) -> None:
    get_pet = catalogue.operations["get_pets_petId"]
    assert [(p.name, p.location) for p in get_pet.parameters] == [("petId", "path"), ("X-Trace", "header")]
    pet_id = get_pet.parameter("petId", "path")
    assert pet_id is not None
    assert pet_id.required  # path parameters are always required
    assert pet_id.schema == {"type": "string", "format": "uuid"}
    trace = get_pet.parameter("X-Trace")
    assert trace is not None
    assert trace.required
    assert trace.schema["minLength"] == 8


def test_structured_json_media_types_count_as_json(catalogue: Catalogue) -> None:
    assert catalogue.operations["get_pets_petId"].responses["200"] is not None


def test_a_body_that_is_not_json_has_no_request_schema(catalogue: Catalogue) -> None:
    put = catalogue.operations["put_pets_petId"]
    assert put.request_schema is None
    assert put.request_media_type is None


def test_security_is_inherited_overridden_and_switched_off(catalogue: Catalogue) -> None:
    assert catalogue.operations["listPets"].security == ("bearer",)
    assert catalogue.operations["put_pets_petId"].security == ("apiKey", "bearer")
    assert catalogue.operations["delete_pets_petId"].security == ()
    bearer, api_key = catalogue.security_schemes["bearer"], catalogue.security_schemes["apiKey"]
    assert (bearer.type, bearer.scheme) == ("http", "bearer")
    assert (api_key.type, api_key.location, api_key.parameter) == ("apiKey", "header", "X-Api-Key")


def test_synthesized_ids_never_take_a_written_id_and_are_numbered_when_they_collide() -> None:
    document = {
        "openapi": "3.0.0",
        "paths": {
            "/a-b": {"get": {"responses": {}}},
            "/a/b": {"get": {"responses": {}}, "post": {"operationId": "get_a_b", "responses": {}}},
        },
    }
    operations = build_catalogue(document).operations
    assert [(op.method, op.path) for op in operations.values()] == [
        ("GET", "/a-b"),
        ("GET", "/a/b"),
        ("POST", "/a/b"),
    ]
    assert list(operations) == ["get_a_b_2", "get_a_b_3", "get_a_b"]
    assert synthesized_id("DELETE", "/items/{item_id}") == "delete_items_item_id"


def test_the_catalogue_survives_its_json_form(catalogue: Catalogue) -> None:
    assert Catalogue.from_json(json.loads(json.dumps(catalogue.to_json()))) == catalogue


def test_the_hash_ignores_format_and_key_order() -> None:
    yaml_text = "paths: {}\nopenapi: 3.0.0\ninfo: {version: '1', title: T}\n"
    json_text = '{"openapi": "3.0.0", "info": {"title": "T", "version": "1"}, "paths": {}}'
    assert spec_hash(parse_text(yaml_text)) == spec_hash(parse_text(json_text))
    assert spec_hash(parse_text(json_text)) != spec_hash({**parse_text(json_text), "x-more": 1})
    assert len(build_catalogue(parse_text(json_text)).spec_hash) == 64


def test_a_recursive_request_schema_is_cut() -> None:
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/trees": {
                "post": {
                    "operationId": "plant",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Tree"}}}
                    },
                    "responses": {},
                }
            }
        },
        "components": {
            "schemas": {
                "Tree": {
                    "type": "object",
                    "properties": {"kids": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}},
                }
            }
        },
    }
    schema = build_catalogue(document).operations["plant"].request_schema
    assert schema is not None
    assert schema["properties"]["kids"]["items"]["properties"]["kids"]["items"] == {}


@pytest.mark.parametrize(
    ("paths", "needle"),
    [
        ({"/a": []}, "paths['/a'] must be an object"),
        ({"/a": {"get": "x"}}, "paths['/a'].get must be an object"),
        ({"/a": {"get": {"parameters": {}}}}, "must be a list"),
        ({"/a": {"get": {"parameters": [{"name": "x", "in": "body"}]}}}, "needs a 'name' and 'in'"),
        (
            {"/a": {"get": {"responses": {"200": {"content": {"application/json": {"schema": 5}}}}}}},
            "a schema must be an object",
        ),
        (
            {
                "/a": {
                    "get": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "x.yaml"}}}}}
                }
            },
            "external $ref",
        ),
    ],
)
def test_malformed_parts_are_refused_with_their_place(paths: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidDescription) as caught:
        build_catalogue({"openapi": "3.0.0", "paths": paths})
    assert needle in caught.value.detail


def test_values_postgresql_cannot_store_are_refused() -> None:
    with pytest.raises(InvalidDescription) as caught:
        build_catalogue({"openapi": "3.0.0", "paths": {}, "x": float("nan")})
    assert "finite" in caught.value.detail
    with pytest.raises(InvalidDescription) as caught:
        build_catalogue({"openapi": "3.0.0", "paths": {}, "x": "a\x00b"})
    assert "NUL" in caught.value.detail
