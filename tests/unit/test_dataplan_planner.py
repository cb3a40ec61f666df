"""The built-in planner's decisions on a hand-built catalogue: producers for references, cleanups, enum
values from the text, authentication, notes — and its plans always validate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.openapi.operations import Catalogue, Operation, Parameter, SecurityScheme
from orchestra.testdata.planner.builtin import PlanRefused, plan_for, plan_for_operation
from orchestra.testdata.plans.dataplan_model import DataPlan
from orchestra.testdata.plans.validate import validate_plan
from tests.unit.test_dataplan_validate import POLICY, shop_catalogue

CATALOGUE = shop_catalogue()


def plan(requires: str | None = None, operations: list[str] | None = None, **kwargs: Any) -> DataPlan:
    requirements = DataRequirements(requires=requires, operations=operations or [], **kwargs)
    return plan_for(requirements, CATALOGUE, environment={"username": "u"}, secret_names=["password"])


def test_an_order_for_a_gold_customer_creates_the_customer_first_with_the_named_tier() -> None:
    result = plan("an order for a gold customer", seed=9)
    assert result.seed == 9
    order = result.bindings["order"]
    assert order.call is not None
    assert order.call.operation == "createOrder"
    assert order.call.body["customerId"] == "{{ data.customer.id }}"
    customer = result.bindings["customer"]
    assert customer.call is not None
    assert customer.call.body["tier"] == "gold"
    assert customer.cleanup is not None
    assert customer.cleanup.operation == "deleteCustomer"
    assert customer.cleanup.path == {"customerId": "{{ self.id }}"}
    assert order.cleanup is not None
    assert order.cleanup.path == {"orderId": "{{ self.id }}"}
    assert "createCustomer.tier = 'gold' (named in requires)" in result.notes
    assert "createOrder customerId: the id of the customer created with createCustomer" in result.notes
    assert validate_plan(result, CATALOGUE, POLICY) == []


def test_one_customer_serves_every_binding_that_refers_to_a_customer() -> None:
    result = plan("a customer and an order", operations=["createOrder"])
    calls = [b.call.operation for b in result.bindings.values() if b.call is not None]
    assert calls.count("createCustomer") == 1
    assert validate_plan(result, CATALOGUE, POLICY) == []


def test_operation_inputs_are_a_value_with_path_query_and_body() -> None:
    result = plan(operations=["createOrder", "getCustomer", "nope"])
    inputs = result.bindings["create_order"].value
    assert inputs["body"]["customerId"] == "{{ data.customer.id }}"
    assert inputs["body"]["quantity"] == "{{ data.create_order_fields['quantity'] }}"
    assert result.bindings["get_customer"].value["path"] == {"customerId": "{{ data.customer.id }}"}
    assert "operation nope is not in the API description: skipped" in result.notes
    assert validate_plan(result, CATALOGUE, POLICY) == []


def test_the_token_operation_is_called_when_the_environment_has_its_inputs() -> None:
    result = plan("a customer")
    auth = result.bindings["auth"]
    assert auth.call is not None
    assert auth.call.operation == "issueToken"
    assert auth.call.body == {"username": "{{ env.username }}", "password": "{{ secrets.password }}"}
    assert auth.call.capture == {}
    assert result.defaults.headers == {"Authorization": "Bearer {{ data.auth.access_token }}"}
    assert "bearerAuth: a token from issueToken with username, password" in result.notes


@pytest.mark.parametrize(
    ("variables", "secrets", "header"),
    [
        ({}, ["api_token"], "Bearer {{ secrets.api_token }}"),
        ({"token": "VALUE-OF-THE-TOKEN"}, [], "Bearer {{ env.token }}"),
        ({"token": "VALUE-OF-THE-TOKEN"}, ["access_token"], "Bearer {{ secrets.access_token }}"),
    ],
)
def test_a_token_in_the_environment_is_referenced_never_copied(
    variables: dict[str, str], secrets: list[str], header: str
) -> None:
    result = plan_for(
        DataRequirements(requires="a customer"), CATALOGUE, environment=variables, secret_names=secrets
    )
    assert result.defaults.headers == {"Authorization": header}
    assert "auth" not in result.bindings
    assert "VALUE-OF-THE-TOKEN" not in json.dumps(result.model_dump(mode="json"))


def test_without_credentials_the_plan_says_what_to_add() -> None:
    result = plan_for(DataRequirements(requires="a customer"), CATALOGUE, environment={}, secret_names=[])
    assert result.defaults.headers == {}
    assert any("add a secret named token" in note for note in result.notes)


def test_an_api_key_header_scheme_uses_the_api_key_secret() -> None:
    operation = Operation(
        "createThing", "POST", "/things", request_schema={"type": "object"}, security=("key",)
    )
    catalogue = Catalogue(
        "t",
        "0" * 64,
        {"createThing": operation},
        {"key": SecurityScheme("key", "apiKey", location="header", parameter="X-Api-Key")},
    )
    result = plan_for_operation(
        "createThing", catalogue, environment={}, secret_names=["api_key"], leftovers=True
    )
    assert result.defaults.headers == {"X-Api-Key": "{{ secrets.api_key }}"}
    assert (
        "createThing: nothing undoes what it creates (no DELETE of the item it makes or on its own path): "
        "it is left in the SUT (the test allows leftovers)"
    ) in result.notes
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation("createThing", catalogue, environment={}, secret_names=["api_key"])
    assert refused.value.reasons == [
        "createThing: nothing undoes what it creates (no DELETE of the item it makes or on its own path); "
        "set data.leftovers: true in the test case to allow that"
    ]


def test_a_required_reference_without_producer_is_refused_not_made_up() -> None:
    schema = {
        "type": "object",
        "required": ["warehouseId"],
        "properties": {"warehouseId": {"type": "string"}},
    }
    operation = Operation("createStock", "POST", "/stock", request_schema=schema)
    catalogue = Catalogue("t", "0" * 64, {"createStock": operation})
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation("createStock", catalogue, environment={}, secret_names=[], leftovers=True)
    assert refused.value.reasons == [
        "createStock warehouseId: it refers to a warehouse, and no operation creates one"
    ]
    # A value the schema itself gives is not made up: it is used.
    fixed = {**schema, "properties": {"warehouseId": {"type": "string", "enum": ["main"]}}}
    operation = Operation("createStock", "POST", "/stock", request_schema=fixed)
    catalogue = Catalogue("t", "0" * 64, {"createStock": operation})
    result = plan_for_operation("createStock", catalogue, environment={}, secret_names=[], leftovers=True)
    assert result.bindings["request"].call.body == {"warehouseId": "{{ data.request_fields['warehouseId'] }}"}


def test_entities_that_need_each_other_do_not_recurse_forever() -> None:
    def creating(entity: str, needs: str) -> Operation:
        schema = {
            "type": "object",
            "required": [f"{needs}Id"],
            "properties": {f"{needs}Id": {"type": "string"}},
        }
        response = {"201": {"type": "object", "properties": {"id": {}}}}
        return Operation(
            f"create{entity.title()}", "POST", f"/{entity}s", request_schema=schema, responses=response
        )

    catalogue = Catalogue(
        "t", "0" * 64, {"createEgg": creating("egg", "hen"), "createHen": creating("hen", "egg")}
    )
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation("createEgg", catalogue, environment={}, secret_names=[], leftovers=True)
    assert refused.value.reasons == [
        "createHen eggId: it refers to an egg, and creating one would need itself"
    ]
    assert "cannot determine createHen eggId" in str(refused.value)


def test_path_parameters_named_id_come_from_the_collection_they_follow() -> None:
    get = Operation(
        "getBox", "GET", "/boxes/{id}", parameters=(Parameter("id", "path", True, {"type": "string"}),)
    )
    create = Operation(
        "createBox",
        "POST",
        "/boxes",
        request_schema={"type": "object"},
        responses={"201": {"type": "object", "properties": {"uuid": {}}}},
    )
    catalogue = Catalogue("t", "0" * 64, {"getBox": get, "createBox": create})
    result = plan_for_operation("getBox", catalogue, environment={}, secret_names=[], leftovers=True)
    assert result.bindings["request"].call.path == {"id": "{{ data.box.uuid }}"}


def test_a_component_schema_is_generated_by_name() -> None:
    result = plan(schemas=["CustomerCreate", "Unknown"])
    assert result.bindings["customer_create"].generate.json_schema["title"] == "CustomerCreate"
    assert "schema Unknown is not used by any operation of the API description: skipped" in result.notes


@pytest.mark.parametrize("operation_id", sorted(CATALOGUE.operations))
def test_plans_for_every_operation_validate(operation_id: str) -> None:
    result = plan_for_operation(
        operation_id, CATALOGUE, environment={"username": "u"}, secret_names=["password"]
    )
    assert validate_plan(result, CATALOGUE, POLICY) == []
    assert "request" in result.bindings


def test_the_target_token_operation_gets_the_environments_credentials_not_generated_ones() -> None:
    planned = plan_for_operation(
        "issueToken", CATALOGUE, environment={"username": "u"}, secret_names=["password"]
    )
    assert planned.bindings["request"].call.body == {
        "username": "{{ env.username }}",
        "password": "{{ secrets.password }}",
    }
    assert list(planned.bindings) == ["request"]
    inputs = plan(operations=["issueToken"])
    assert inputs.bindings["issue_token"].value["body"] == {
        "username": "{{ env.username }}",
        "password": "{{ secrets.password }}",
    }
    assert list(inputs.bindings) == ["issue_token"]
    assert validate_plan(planned, CATALOGUE, POLICY) == []


PET_SCHEMES = {
    "api_key": SecurityScheme("api_key", "apiKey", location="header", parameter="api_key"),
    "petstore_auth": SecurityScheme("petstore_auth", "oauth2"),
    "bearerAuth": SecurityScheme("bearerAuth", "http", scheme="bearer"),
}


def pet_catalogue(*, get_pet: tuple[str, ...], inventory: tuple[str, ...] = ("api_key",)) -> Catalogue:
    """The Swagger Petstore's shape: creating and deleting a pet needs OAuth 2 (a bearer token), reading
    one accepts ``get_pet``, the inventory only an API key; ``issueToken`` issues bearer tokens."""
    pet_id = Parameter("petId", "path", True, {"type": "integer"})
    pet = {"type": "object", "required": ["name"], "properties": {"id": {}, "name": {"type": "string"}}}
    login = {"type": "object", "required": ["username"], "properties": {"username": {"type": "string"}}}
    operations = [
        Operation(
            "addPet",
            "POST",
            "/pet",
            request_schema=pet,
            responses={"200": pet},
            security=("petstore_auth",),
        ),
        Operation("getPetById", "GET", "/pet/{petId}", parameters=(pet_id,), security=get_pet),
        Operation("deletePet", "DELETE", "/pet/{petId}", parameters=(pet_id,), security=("petstore_auth",)),
        Operation("getInventory", "GET", "/store/inventory", security=inventory),
        Operation(
            "issueToken",
            "POST",
            "/auth/token",
            request_schema=login,
            responses={"200": {"type": "object", "properties": {"access_token": {}}}},
        ),
    ]
    return Catalogue("pets", "0" * 64, {op.operation_id: op for op in operations}, PET_SCHEMES)


def own_headers(result: DataPlan) -> dict[str, dict[str, str]]:
    """Binding (``.cleanup`` for its cleanup) → the headers its request sends beside the defaults."""
    found: dict[str, dict[str, str]] = {}
    for name, binding in result.bindings.items():
        if binding.call is not None and binding.call.headers:
            found[name] = binding.call.headers
        if binding.cleanup is not None and binding.cleanup.headers:
            found[f"{name}.cleanup"] = binding.cleanup.headers
    return found


def test_the_default_credentials_satisfy_every_call_when_one_scheme_can() -> None:
    # GET /pet/{petId} accepts the API key or OAuth 2, but the pet it reads is created (and deleted) with
    # OAuth 2 only: the bearer token serves every call, the API key none that the other does not.
    catalogue = pet_catalogue(get_pet=("api_key", "petstore_auth"))
    result = plan_for_operation(
        "getPetById", catalogue, environment={}, secret_names=["token", "api_key"], seed=1
    )
    assert result.defaults.headers == {"Authorization": "Bearer {{ secrets.token }}"}
    assert own_headers(result) == {}
    assert result.bindings["request"].call.path == {"petId": "{{ data.pet.id }}"}
    assert "petstore_auth: bearer token from secrets.token" in result.notes
    assert validate_plan(result, catalogue, None) == []


def test_a_call_the_default_scheme_does_not_serve_gets_its_own_credentials() -> None:
    # The inventory needs the API key, the pet OAuth 2: two calls (the pet's and its cleanup) take the
    # majority's bearer token as the default, the target call adds its api_key header.
    catalogue = pet_catalogue(get_pet=("api_key",))
    result = plan_for_operation("getPetById", catalogue, environment={}, secret_names=["token", "api_key"])
    assert result.defaults.headers == {"Authorization": "Bearer {{ secrets.token }}"}
    assert own_headers(result) == {"request": {"api_key": "{{ secrets.api_key }}"}}
    assert "request: its call sends its own api_key for api_key" in result.notes
    assert validate_plan(result, catalogue, None) == []


def test_the_tests_own_operation_decides_the_defaults_and_planned_calls_carry_theirs() -> None:
    # A test step only gets the defaults: they serve getInventory (API key, from the variable named for
    # the scheme); creating and deleting the pet send the bearer token themselves.
    catalogue = pet_catalogue(get_pet=("petstore_auth",))
    result = plan_for(
        DataRequirements(requires="a pet", operations=["getInventory"]),
        catalogue,
        environment={"api_key": "VALUE-OF-THE-KEY"},
        secret_names=["access_token"],
    )
    assert result.defaults.headers == {"api_key": "{{ env.api_key }}"}
    bearer = {"Authorization": "Bearer {{ secrets.access_token }}"}
    assert own_headers(result) == {"pet": bearer, "pet.cleanup": bearer}
    assert result.bindings["get_inventory"].value["headers"] == {}
    assert "VALUE-OF-THE-KEY" not in json.dumps(result.model_dump(mode="json"))
    assert validate_plan(result, catalogue, None) == []


def test_a_per_call_bearer_token_can_come_from_the_token_operation() -> None:
    catalogue = pet_catalogue(get_pet=("api_key",))
    result = plan_for(
        DataRequirements(requires="a pet", operations=["getPetById"]),
        catalogue,
        environment={"username": "u"},
        secret_names=["api_key"],
    )
    assert result.defaults.headers == {"api_key": "{{ secrets.api_key }}"}
    assert next(iter(result.bindings)) == "auth"
    assert result.bindings["auth"].call.body == {"username": "{{ env.username }}"}
    bearer = {"Authorization": "Bearer {{ data.auth.access_token }}"}
    assert own_headers(result) == {"pet": bearer, "pet.cleanup": bearer}
    assert "petstore_auth: a token from issueToken with username" in result.notes
    assert validate_plan(result, catalogue, None) == []


def test_an_operation_accepting_any_of_several_schemes_uses_one_the_environment_has() -> None:
    # With only a token, the inventory (API key or bearer) is read with the bearer token — not with the
    # token in the api_key header; without any credential the plan names both ways.
    catalogue = pet_catalogue(get_pet=("api_key",), inventory=("api_key", "bearerAuth"))
    result = plan_for_operation("getInventory", catalogue, environment={}, secret_names=["token"])
    assert result.defaults.headers == {"Authorization": "Bearer {{ secrets.token }}"}
    both = plan_for_operation("getInventory", catalogue, environment={}, secret_names=["token", "api_key"])
    assert both.defaults.headers == {"api_key": "{{ secrets.api_key }}"}
    none = plan_for_operation("getInventory", catalogue, environment={}, secret_names=[])
    assert none.defaults.headers == {}
    assert (
        "api_key: put an API key in a secret named api_key (sent in the header); "
        "or log in: issueToken needs username: set secrets named username"
    ) in none.notes
    assert any(note.startswith("bearerAuth: the operations need a token") for note in none.notes)


def test_an_api_key_prefers_the_secret_named_for_it_over_a_generic_token() -> None:
    catalogue = pet_catalogue(get_pet=("api_key",))
    result = plan_for_operation("getInventory", catalogue, environment={}, secret_names=["token", "api_key"])
    assert result.defaults.headers == {"api_key": "{{ secrets.api_key }}"}
    fallback = plan_for_operation("getInventory", catalogue, environment={}, secret_names=["token"])
    assert fallback.defaults.headers == {"api_key": "{{ secrets.token }}"}


def test_a_test_operation_the_defaults_do_not_serve_is_noted_without_copying_credentials() -> None:
    catalogue = pet_catalogue(get_pet=("petstore_auth",))
    result = plan_for(
        DataRequirements(operations=["getInventory", "getPetById"]),
        catalogue,
        environment={},
        secret_names=["token", "api_key"],
    )
    # One test operation each: the bearer token also serves creating and deleting the pet, so it is the
    # default; the other test operation's credential is named in a note, never put into data.
    assert result.defaults.headers == {"Authorization": "Bearer {{ secrets.token }}"}
    assert own_headers(result) == {}
    assert result.bindings["get_inventory"].value["headers"] == {}
    assert (
        "data.get_inventory: getInventory needs api_key, not petstore_auth: "
        "send api_key: {{ secrets.api_key }}"
    ) in result.notes


def test_schemes_that_share_the_token_operation_plan_it_once_and_add_no_headers() -> None:
    catalogue = pet_catalogue(get_pet=("bearerAuth",))
    result = plan_for_operation("getPetById", catalogue, environment={"username": "u"}, secret_names=[])
    calls = [binding.call.operation for binding in result.bindings.values() if binding.call is not None]
    assert calls.count("issueToken") == 1
    assert result.defaults.headers == {"Authorization": "Bearer {{ data.auth.access_token }}"}
    assert own_headers(result) == {}
    assert validate_plan(result, catalogue, None) == []
