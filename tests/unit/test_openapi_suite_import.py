"""An OpenAPI description written as a suite: a test per operation whose inputs the planner fills, the
documented status / content type / schema checked (3.0 forms converted), lifecycle flows, security schemes
mapped to secrets by name, and files that know whether they were edited since they were generated."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.demo.sut import create_app
from orchestra.importers.generated_files import is_generated, is_unedited, updates, with_marker
from orchestra.importers.openapi_suite import base_url_of, suite_of
from orchestra.importers.requests import ImportRefused
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.errors import InvalidDescription
from orchestra.steps.templating import render_value
from orchestra.testdata.planner.builtin import plan_for
from orchestra.testdata.planner.plan_state import binding_name

PET_ID = {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
PETS_30: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "2"},
    "servers": [{"url": "https://{region}.pets.example/v1", "variables": {"region": {"default": "eu"}}}],
    "security": [{"key": []}],
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        "schemas": {
            "Pet": {
                "type": "object",
                "required": ["id", "name", "secret"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string", "nullable": True},
                    "weight": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
                    "secret": {"type": "string", "writeOnly": True},
                },
            },
            "NewPet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        },
    },
    "paths": {
        "/pets": {
            "post": {
                "operationId": "addPet",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}},
                },
                "responses": {
                    "201": {
                        "description": "created",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    }
                },
            },
        },
        "/pets/{petId}": {
            "get": {
                "operationId": "showPet",
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {
                    "200": {
                        "description": "one",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
                    },
                    "404": {"description": "none"},
                },
            },
            "delete": {
                "operationId": "removePet",
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "responses": {"204": {"description": "gone"}},
            },
        },
        "/pets/{petId}/photo": {
            "put": {
                "operationId": "uploadPhoto",
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
                ],
                "requestBody": {"required": True, "content": {"image/png": {}}},
                "responses": {"204": {"description": "stored"}},
            }
        },
    },
}


def generated(document: dict[str, Any], **options: Any) -> dict[str, dict[str, Any]]:
    return {file.name: yaml.safe_load(file.text) for file in suite_of(document, **options).files}


def test_an_openapi_30_description_becomes_tests_with_its_checks_converted() -> None:
    result = suite_of(copy.deepcopy(PETS_30))
    files = {file.name: yaml.safe_load(file.text) for file in result.files}
    assert sorted(files) == [
        "add-pet.yaml",
        "flow-pet.yaml",
        "remove-pet.yaml",
        "show-pet.yaml",
        "suite.yaml",
    ]
    assert result.base_url == "https://eu.pets.example/v1"
    assert result.notes == [
        "uploadPhoto: its request body is not JSON (no form in the test language to plan it): no test written"
    ]
    show = files["show-pet.yaml"]
    assert show["data"] == {"operations": ["showPet"]}
    assert show["defaults"] == {
        "auth": {"api_key": {"name": "X-Api-Key", "value": "{{ secrets.x_api_key }}", "in": "header"}}
    }
    step = show["steps"][0]
    assert step["request"]["url"] == "/pets/{{ data.show_pet.path['petId'] | urlencode }}"
    assert step["retry"] == {"attempts": 3, "interval_ms": 200}
    expect = step["expect"]
    assert expect["status"] == 200
    assert expect["headers"] == {"Content-Type": {"contains": "application/json"}}
    schema = expect["schema"]
    assert schema["properties"]["name"]["type"] == ["string", "null"]  # nullable
    assert schema["properties"]["weight"] == {"type": "number", "exclusiveMinimum": 0}
    assert schema["required"] == ["id", "name"]  # a response never carries the writeOnly secret
    assert [(s.name, s.purpose) for s in result.secrets] == [
        ("x_api_key", "security scheme key (API key in the header)")
    ]


def test_a_collection_post_cleans_up_what_it_creates_and_a_flow_walks_the_lifecycle() -> None:
    files = generated(copy.deepcopy(PETS_30))
    add = files["add-pet.yaml"]["steps"][0]
    assert add["request"]["json"] == "{{ data.add_pet.body }}"
    assert add["capture"] == {"pet_id": "$.id"}
    assert add["cleanup"] == {
        "method": "DELETE",
        "url": "/pets/{{ pet_id | urlencode }}",
        "headers": {"X-Api-Key": "{{ secrets.x_api_key }}"},
    }
    flow = files["flow-pet.yaml"]
    assert flow["name"] == "pet lifecycle: create, read, delete"
    assert [step["name"] for step in flow["steps"]] == [
        "create (addPet)",
        "read (showPet)",
        "delete (removePet)",
        "read after delete (showPet)",
    ]
    assert flow["steps"][-1]["expect"] == {"status": 404}
    assert flow["data"] == {"operations": ["addPet"]}


def test_the_demo_logs_in_with_secrets_named_by_its_token_operation() -> None:
    files = generated(create_app().openapi(), source_url="http://127.0.0.1:1/openapi.json")
    item = files["get-item.yaml"]
    assert item["variables"] == {"bearer_auth_token": ""}
    login = item["setup"][0]
    assert login["request"] == {
        "method": "POST",
        "url": "/auth/token",
        "auth": None,
        "json": {"username": "{{ secrets.username }}", "password": "{{ secrets.password }}"},
    }
    assert login["capture"] == {"bearer_auth_token": "$.access_token"}
    assert item["defaults"] == {"auth": {"bearer": {"token": "{{ bearer_auth_token }}"}}}
    assert "data" not in files["health.yaml"]  # no inputs, nothing to plan
    assert "schema" not in files["echo-head.yaml"]["steps"][0]["expect"]  # a HEAD answer has no body
    assert files["html-page.yaml"]["steps"][0]["expect"]["headers"] == {
        "Content-Type": {"contains": "text/html"}
    }
    assert files["delete-item.yaml"]["steps"][0]["expect"] == {"status": 204}


def test_every_test_reads_its_inputs_from_the_binding_the_planner_fills() -> None:
    catalogue = build_catalogue(create_app().openapi())
    planned = 0
    for operation_id, operation in catalogue.operations.items():
        if not operation.parameters and operation.request_schema is None:
            continue
        plan = plan_for(
            DataRequirements(operations=[operation_id], leftovers=True),  # a job: nothing deletes one
            catalogue,
            environment={},
            secret_names={"username", "password"},
        )
        binding = plan.bindings[binding_name(operation_id)]
        assert binding.value is not None, operation_id
        planned += 1
    assert planned >= 15


@pytest.mark.parametrize(
    ("scheme", "auth", "secrets"),
    [
        ({"type": "http", "scheme": "bearer"}, {"bearer": {"token": "{{ secrets.token }}"}}, ["token"]),
        (
            {"type": "http", "scheme": "basic"},
            {"basic": {"username": "{{ secrets.username }}", "password": "{{ secrets.password }}"}},
            ["username", "password"],
        ),
        (
            {"type": "apiKey", "in": "query", "name": "api-key"},
            {"api_key": {"name": "api-key", "value": "{{ secrets.api_key }}", "in": "query"}},
            ["api_key"],
        ),
    ],
)
def test_security_schemes_map_to_secrets_by_name(
    scheme: dict[str, str], auth: dict[str, Any], secrets: list[str]
) -> None:
    document = {
        "openapi": "3.1.0",
        "components": {"securitySchemes": {"s": scheme}},
        "paths": {"/a": {"get": {"security": [{"s": []}], "responses": {"200": {"description": "ok"}}}}},
    }
    result = suite_of(document, base_url="http://sut.example")
    test = yaml.safe_load(next(file.text for file in result.files if file.name == "get-a.yaml"))
    assert test["defaults"] == {"auth": auth}
    assert [secret.name for secret in result.secrets] == secrets
    assert test["steps"][0]["expect"] == {"status": 200}


@pytest.mark.parametrize(
    ("servers", "source", "expected"),
    [
        ([{"url": "/api"}], "http://127.0.0.1:8081/openapi.json", "http://127.0.0.1:8081/api"),
        ([], "http://127.0.0.1:8081/docs/openapi.json", "http://127.0.0.1:8081"),
        ([{"url": "https://api.example.com/v2/"}], None, "https://api.example.com/v2"),
        ([{"url": "/api"}], None, None),
    ],
)
def test_the_base_url_comes_from_the_servers_or_the_description_url(
    servers: list[dict[str, str]], source: str | None, expected: str | None
) -> None:
    assert base_url_of({"servers": servers}, source) == expected


def test_template_markup_in_a_description_is_sent_as_written() -> None:
    document = {
        "openapi": "3.1.0",
        "paths": {"/{{x}}": {"get": {"operationId": "odd", "responses": {"200": {"description": "ok"}}}}},
    }
    test = generated(document, base_url="http://h")["odd.yaml"]
    assert test["steps"][0]["request"]["url"] == "/{{ '{' }}{{ '{' }}x}}"
    assert render_value(test["steps"][0]["request"]["url"], {}) == "/{{x}}"


def test_hostile_descriptions_are_refused() -> None:
    cycle = {
        "openapi": "3.1.0",
        "components": {
            "schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}
        },
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}},
                        }
                    }
                }
            }
        },
    }
    with pytest.raises(InvalidDescription, match=r"\$ref cycle: #/components/schemas/A -> #/components/sch"):
        suite_of(cycle)
    with pytest.raises(ImportRefused, match="no operations"):
        suite_of({"openapi": "3.1.0", "paths": {}})
    many = {"openapi": "3.1.0", "paths": {f"/p{n}": {"get": {"responses": {}}} for n in range(1001)}}
    with pytest.raises(ImportRefused, match="1,001 operations; at most 1,000"):
        suite_of(many)


def test_a_generated_file_knows_whether_it_was_edited() -> None:
    text = with_marker(["generated from x"], "name: a\nsteps: []\n")
    assert is_generated(text)
    assert is_unedited(text)
    assert is_unedited(text.replace("# generated from x", "# a comment of mine"))
    edited = text.replace("name: a", "name: b")
    assert is_generated(edited)
    assert not is_unedited(edited)
    assert not is_generated("name: a\n")
    assert not is_unedited("name: a\n")


def test_operations_that_cannot_be_planned_are_noted_and_long_names_stay_unique() -> None:
    long_path = "/" + "x" * 300
    document = {
        "openapi": "3.1.0",
        "paths": {
            long_path: {
                "get": {"operationId": "a" * 150, "responses": {"200": {"description": "ok"}}},
                "put": {"operationId": "a" * 151, "responses": {"200": {"description": "ok"}}},
                "post": {"operationId": "b" * 201, "responses": {"200": {"description": "ok"}}},
            },
            "/c": {
                "get": {
                    "operationId": "withCookie",
                    "parameters": [{"name": "sid", "in": "cookie", "required": True}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    result = suite_of(document, base_url="http://h")
    names = [yaml.safe_load(file.text).get("name") for file in result.files if file.name != "suite.yaml"]
    assert len(names) == len(set(names)) == 3
    assert all(len(name) <= 200 for name in names)
    assert result.notes == [
        "withCookie: the required cookie(s) sid are not planned; add them to the test",
        f"{'b' * 60}…: an operationId longer than 200 characters cannot be planned: no test written",
    ]


def test_the_suite_names_the_project_it_was_imported_for() -> None:
    document = {"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}
    assert "project" not in generated(document, base_url="http://h")["suite.yaml"]
    suite = generated(document, base_url="http://h", project="shop api")["suite.yaml"]
    assert suite["project"] == "shop api"
    assert suite["tests"] == ["*"]


def test_a_documented_401_is_checked_without_credentials_before_the_call() -> None:
    document = copy.deepcopy(PETS_30)
    document["paths"]["/pets/{petId}"]["get"]["responses"]["401"] = {"description": "no key"}
    steps = generated(document)["show-pet.yaml"]["steps"]
    assert [step["name"] for step in steps] == ["GET /pets/{petId} without credentials", "GET /pets/{petId}"]
    assert steps[0]["request"] == {
        "method": "GET",
        "url": "/pets/{{ data.show_pet.path['petId'] | urlencode }}",
        "auth": None,
    }
    assert steps[0]["expect"] == {"status": 401}
    assert len(generated(copy.deepcopy(PETS_30))["show-pet.yaml"]["steps"]) == 1  # nothing documented


def test_a_reimport_replaces_only_what_is_still_as_generated() -> None:
    old_a, new_a = with_marker([], "name: a\n"), with_marker([], "name: a2\n")
    same_b = with_marker([], "name: b\n")
    old_c, new_c = with_marker([], "name: c\n"), with_marker([], "name: c2\n")
    gone = with_marker([], "name: gone\n")
    existing = {
        "a.yaml": old_a,  # untouched: replaced
        "b.yaml": same_b,  # unchanged
        "c.yaml": old_c.replace("name: c", "name: mine"),  # edited: kept
        "gone.yaml": gone,  # its operation left: removed
        "gone-edited.yaml": gone + "# my note\n",  # edited: stays
        "unreadable.yaml": None,
        "d.yaml": "name: d\n",  # no marker: the user's own file, kept
    }
    generated = {"a.yaml": new_a, "b.yaml": same_b, "c.yaml": new_c, "d.yaml": "x", "e.yaml": "y"}
    plan = updates(generated, existing)
    assert (plan.new, plan.updated, plan.unchanged) == (["e.yaml"], ["a.yaml"], ["b.yaml"])
    assert (plan.kept, plan.removed) == (["c.yaml", "d.yaml"], ["gone.yaml"])
    forced = updates(generated, existing, overwrite=True)
    assert forced.updated == ["a.yaml", "c.yaml", "d.yaml"]
    assert forced.kept == []


def test_a_log_in_answering_its_token_inside_an_envelope_is_found_as_the_planner_finds_it() -> None:
    user = {
        "type": "object",
        "required": ["user"],
        "properties": {
            "user": {
                "type": "object",
                "required": ["email", "password"],
                "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
            }
        },
    }
    signed_in = {
        "type": "object",
        "properties": {"user": {"type": "object", "properties": {"token": {"type": "string"}}}},
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "Conduit", "version": "1"},
        "components": {"securitySchemes": {"jwt": {"type": "http", "scheme": "bearer"}}},
        "paths": {
            "/users/login": {
                "post": {
                    "operationId": "Login",
                    "requestBody": {"content": {"application/json": {"schema": user}}},
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": signed_in}}}
                    },
                }
            },
            "/user": {
                "get": {
                    "operationId": "GetCurrentUser",
                    "security": [{"jwt": []}],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    files = generated(document, source_url="http://127.0.0.1:1/openapi.json")
    login = files["get-current-user.yaml"]["setup"][0]
    assert login["request"]["json"] == {
        "user": {"email": "{{ secrets.email }}", "password": "{{ secrets.password }}"}
    }
    assert login["capture"] == {"jwt_token": "$.user.token"}
    # The log-in's own test sends the environment's credentials, and is not taken for a creation.
    own = files["login.yaml"]
    assert own["steps"][-1]["request"]["json"] == login["request"]["json"]
    assert "cleanup" not in own["steps"][-1]
