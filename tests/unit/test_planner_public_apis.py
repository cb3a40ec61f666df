"""What the built-in planner learnt from public APIs it did not know (a workflow server, a CMS): small
counts where a description leaves integers unbounded, no invented nested state where the server's default
is null, names linked to the entity they name, searches never taken for producers, and ``{id}`` never
filled from an unrelated entity."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from orchestra.openapi.operations import Catalogue, Operation, Parameter, SecurityScheme
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.login import choose_login
from orchestra.testdata.values.generator import ValueGenerator, generated_properties
from orchestra.testdata.values.numbers import SMALL_COUNT

ID = {"type": "string", "format": "uuid"}


def catalogue(*operations: Operation) -> Catalogue:
    return Catalogue("t", "0" * 64, {operation.operation_id: operation for operation in operations})


def created(properties: dict[str, Any]) -> dict[str, Any]:
    return {"201": {"type": "object", "properties": properties}}


@pytest.mark.parametrize("seed", range(20))
def test_an_unbounded_integer_is_a_small_count(seed: int) -> None:
    generator = ValueGenerator(seed, "filter")
    limit = generator.for_schema({"type": "integer"}, name="limit")
    runs = generator.for_schema({"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}]})
    assert 1 <= limit <= SMALL_COUNT
    assert 1 <= runs <= SMALL_COUNT + 1
    price = generator.for_schema({"type": "number"})  # prices and amounts keep their range
    assert 1 <= price <= 1000


def test_an_optional_property_null_by_default_is_left_to_the_server() -> None:
    schema = {
        "type": "object",
        "required": ["flow_id"],
        "properties": {
            "flow_id": ID,
            "state": {
                "anyOf": [{"type": "object", "properties": {"type": {"enum": ["RUNNING"]}}}, {"type": "null"}]
            },
            "note": {"type": "string", "nullable": True},
            "tags": {"type": ["array", "null"], "items": {"type": "string"}, "default": None},
            "paused": {"type": ["boolean", "null"], "default": False},  # a default of its own: sent
            "name": {"type": "string"},
        },
    }
    assert generated_properties(schema) == ["flow_id", "paused", "name"]
    value = ValueGenerator(1, "run").for_schema(schema)
    assert set(value) == {"flow_id", "paused", "name"}


def test_a_search_tagged_with_an_entity_is_not_its_producer() -> None:
    search = Operation(
        "readSavedSearches",
        "POST",
        "/saved_searches/filter",
        tags=("Saved Searches",),
        request_schema={"type": "object", "properties": {"limit": {"type": "integer"}}},
        responses={"200": {"type": "array", "items": {"type": "object"}}},
    )
    get = Operation(
        "readSavedSearch",
        "GET",
        "/saved_searches/{id}",
        tags=("Saved Searches",),
        parameters=(Parameter("id", "path", True, ID),),
    )
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation(
            "readSavedSearch", catalogue(search, get), environment={}, secret_names=[], leftovers=True
        )
    assert refused.value.reasons == [
        "readSavedSearch {id}: it refers to a saved_search, and no operation creates one"
    ]


def test_a_path_id_is_never_filled_from_an_unrelated_entity() -> None:
    flows = Operation(
        "createFlow", "POST", "/flows", request_schema={"type": "object"}, responses=created({"id": ID})
    )
    state = Operation(
        "readFlowRunState", "GET", "/flow_run_states/{id}", parameters=(Parameter("id", "path", True, ID),)
    )
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation(
            "readFlowRunState", catalogue(flows, state), environment={}, secret_names=[], leftovers=True
        )
    assert "no operation creates one" in refused.value.reasons[0]


def test_a_name_path_under_its_collection_names_an_entity_of_that_collection() -> None:
    create = Operation(
        "createVariable",
        "POST",
        "/variables",
        request_schema={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        responses=created({"id": ID, "name": {"type": "string"}}),
    )
    flows = Operation(
        "createFlow", "POST", "/f", request_schema={"type": "object"}, responses=created({"name": {}})
    )
    by_name = Operation(
        "readVariableByName",
        "GET",
        "/variables/name/{name}",
        parameters=(Parameter("name", "path", True, {"type": "string"}),),
    )
    found = catalogue(flows, create, by_name)
    result = plan_for_operation("readVariableByName", found, environment={}, secret_names=[], leftovers=True)
    assert result.bindings["request"].call.path == {"name": "{{ data.variable.name }}"}


def test_an_entitys_name_is_linked_when_required_and_left_out_when_optional() -> None:
    pools = Operation(
        "createWorkPool",
        "POST",
        "/work_pools",
        request_schema={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        responses=created({"id": ID, "name": {"type": "string"}}),
    )
    body = {
        "type": "object",
        "required": ["work_pool_name"],
        "properties": {
            "work_pool_name": {"type": "string"},
            "work_queue_name": {"type": "string"},  # optional, names a queue that no plan created
            "first_name": {"type": "string"},  # not an entity of this API: an ordinary value
        },
    }
    queues = Operation(
        "createQueue", "POST", "/queues", request_schema=body, responses=created({"id": ID, "name": {}})
    )
    work_queues = Operation(
        "createWorkQueue",
        "POST",
        "/work_queues",
        request_schema={"type": "object"},
        responses=created({"id": ID, "name": {"type": "string"}}),
    )
    result = plan_for_operation(
        "createQueue", catalogue(pools, queues, work_queues), environment={}, secret_names=[], leftovers=True
    )
    call = result.bindings["request"].call
    assert call.body["work_pool_name"] == "{{ data.work_pool.name }}"
    assert "work_queue_name" not in call.body
    assert call.body["first_name"] == "{{ data.request_fields['first_name'] }}"


def test_a_key_of_something_the_api_does_not_know_is_a_value_not_a_reference() -> None:
    body = {
        "type": "object",
        "required": ["task_key", "flow_id"],
        "properties": {"task_key": {"type": "string"}, "flow_id": ID},
    }
    runs = Operation(
        "createTaskRun", "POST", "/task_runs", request_schema=body, responses=created({"id": ID})
    )
    with pytest.raises(PlanRefused) as refused:  # an id still is a reference: never made up
        plan_for_operation("createTaskRun", catalogue(runs), environment={}, secret_names=[], leftovers=True)
    assert refused.value.reasons == [
        "createTaskRun flow_id: it refers to a flow, and no operation creates one"
    ]
    flows = Operation(
        "createFlow", "POST", "/flows", request_schema={"type": "object"}, responses=created({"id": ID})
    )
    result = plan_for_operation(
        "createTaskRun", catalogue(flows, runs), environment={}, secret_names=[], leftovers=True
    )
    call = result.bindings["request"].call
    assert call.body == {
        "task_key": "{{ data.request_fields['task_key'] }}",
        "flow_id": "{{ data.flow.id }}",
    }


def directus_like() -> Catalogue:
    login = Operation(
        "login",
        "POST",
        "/auth/login",
        request_schema={
            "type": "object",
            "required": ["email", "password"],
            "properties": {"email": {"type": "string"}, "password": {"type": "string", "format": "password"}},
        },
        responses={"200": {"type": "object", "properties": {"data": {"properties": {"access_token": {}}}}}},
    )
    reset = Operation(  # answers nothing documented: the OAuth 2 guess would apply to it
        "passwordReset",
        "POST",
        "/auth/password/reset",
        request_schema={
            "type": "object",
            "required": ["token", "password"],
            "properties": {"token": {"type": "string"}, "password": {"type": "string"}},
        },
        responses={"401": None},
    )
    folders = Operation("getFolders", "GET", "/folders", responses={"200": {"type": "object"}})
    presets = Operation("getPresets", "GET", "/presets", security=("Auth",))
    schemes = {
        "KeyAuth": SecurityScheme("KeyAuth", "apiKey", location="query", parameter="access_token"),
        "Auth": SecurityScheme("Auth", "apiKey", location="header", parameter="Authorization"),
    }
    operations = {op.operation_id: op for op in (login, reset, folders, presets)}
    return Catalogue("cms", "0" * 64, operations, schemes)


def test_a_log_in_documenting_its_token_wins_over_an_undocumented_answer() -> None:
    found, _ = choose_login(directus_like(), {})
    assert found is not None
    assert found.operation_id == "login"
    assert found.token == "$.data.access_token"


def test_operations_of_a_description_that_leaves_auth_unsaid_get_the_log_ins_bearer_token() -> None:
    plan = plan_for_operation(
        "getFolders", directus_like(), environment={}, secret_names=["email", "password"]
    )
    assert plan.defaults.headers == {"Authorization": "Bearer {{ data.auth.data.access_token }}"}
    assert plan.bindings["auth"].call.body == {
        "email": "{{ secrets.email }}",
        "password": "{{ secrets.password }}",
    }
    mostly_secured = directus_like()
    for name, operation in list(mostly_secured.operations.items()):
        if name != "getFolders":
            mostly_secured.operations[name] = dataclasses.replace(operation, security=("Auth",))
    plan = plan_for_operation(
        "getFolders", mostly_secured, environment={}, secret_names=["email", "password"]
    )
    assert plan.defaults.headers == {}  # most operations say what they need: one that says nothing needs none


def test_a_request_leaves_out_its_own_id_and_properties_described_as_another_entitys_identifier() -> None:
    schema = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "id": {"type": "string", "example": "63716273-0f29-4648-8a2a-2af2948f6f78"},
            "name": {"type": "string"},
            "parent": {"type": "integer", "description": "Unique identifier of the parent folder."},
            "key": {"type": "string", "description": "Key of the content version, chosen by the client."},
        },
    }
    assert generated_properties(schema) == ["name", "key"]
    assert set(ValueGenerator(1, "folder").for_schema(schema)) == {"name", "key"}
    # What a server answers has them all (an answer to check against, not a request to send).
    answered = ValueGenerator(1, "folder").for_schema(schema, for_request=False)
    assert {"id", "parent"} <= set(answered)


def test_an_optional_property_named_after_an_entity_is_a_relation_left_out() -> None:
    flows = Operation(
        "createFlow", "POST", "/flows", request_schema={"type": "object"}, responses=created({"id": ID})
    )
    body = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "flow": {"type": "string", "format": "uuid"},  # the flow's key: an invented one is refused
            "options": {"type": "object", "properties": {"level": {"type": "string"}}},
        },
    }
    operations = Operation(
        "createOperation", "POST", "/operations", request_schema=body, responses=created({"id": ID})
    )
    result = plan_for_operation(
        "createOperation", catalogue(flows, operations), environment={}, secret_names=[], leftovers=True
    )
    assert set(result.bindings["request"].call.body) == {"name", "options"}


def test_audit_fields_the_server_stamps_are_left_out_of_requests() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "user_created": {"type": "string"},
            "date_updated": {"type": "string", "format": "date-time"},
            "createdAt": {"type": "string", "format": "date-time"},
        },
    }
    assert generated_properties(schema) == ["name"]
    assert set(generated_properties(schema, for_request=False)) == set(schema["properties"])


def test_a_put_on_a_collection_with_a_delete_creates_and_its_creation_is_undone() -> None:
    body = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    put = Operation(
        "createSavedSearch", "PUT", "/saved_searches/", request_schema=body, responses=created({"id": ID})
    )
    get = Operation(
        "readSavedSearch", "GET", "/saved_searches/{id}", parameters=(Parameter("id", "path", True, ID),)
    )
    delete = Operation(
        "deleteSavedSearch", "DELETE", "/saved_searches/{id}", parameters=(Parameter("id", "path", True, ID),)
    )
    found = catalogue(put, get, delete)
    created_one = plan_for_operation(
        "createSavedSearch", found, environment={}, secret_names=[], leftovers=True
    )
    cleanup = created_one.bindings["request"].cleanup
    assert cleanup is not None
    assert cleanup.operation == "deleteSavedSearch"
    read = plan_for_operation("readSavedSearch", found, environment={}, secret_names=[], leftovers=True)
    assert read.bindings["request"].call.path == {"id": "{{ data.saved_search.id }}"}
    assert read.bindings["saved_search"].call.operation == "createSavedSearch"


def test_a_path_parameter_naming_an_entitys_field_takes_that_field_of_the_entity() -> None:
    pools = Operation(
        "createWorkPool",
        "POST",
        "/work_pools",
        request_schema={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        responses=created({"id": ID, "name": {"type": "string"}}),
    )
    runs = Operation(  # answers a work_pool_name too: not the one to follow
        "createRun",
        "POST",
        "/runs",
        request_schema={"type": "object"},
        responses=created({"id": ID, "work_pool_name": {"type": "string"}}),
    )
    queues = Operation(
        "createPoolQueue",
        "POST",
        "/work_pools/{work_pool_name}/queues",
        parameters=(Parameter("work_pool_name", "path", True, {"type": "string"}),),
        request_schema={"type": "object"},
        responses=created({"id": ID}),
    )
    result = plan_for_operation(
        "createPoolQueue", catalogue(runs, pools, queues), environment={}, secret_names=[], leftovers=True
    )
    assert result.bindings["request"].call.path == {"work_pool_name": "{{ data.work_pool.name }}"}
