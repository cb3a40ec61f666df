"""What the built-in planner learnt from public APIs it did not know (a workflow server, a CMS): small
counts where a description leaves integers unbounded, no invented nested state where the server's default
is null, names linked to the entity they name, searches never taken for producers, and ``{id}`` never
filled from an unrelated entity."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orchestra.openapi.operations import Catalogue, Operation, Parameter, SecurityScheme
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.entities import parent_left_to_server
from orchestra.testdata.planner.login import choose_login
from orchestra.testdata.plans.dataplan_model import DataPlan, Request
from orchestra.testdata.resolver import BindingFailed, DataResolver
from orchestra.testdata.values.generator import ValueGenerator, generated_properties
from orchestra.testdata.values.numbers import SMALL_COUNT
from tests.unit.test_dataplan_validate import POLICY

ID = {"type": "string", "format": "uuid"}
SHOP = "https://shop.example.com"


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


def test_a_part_of_a_created_entity_that_nothing_creates_is_read_from_the_entitys_answer() -> None:
    runs = Operation(
        "createFlowRun",
        "POST",
        "/flow_runs",
        request_schema={"type": "object"},
        responses=created({"id": ID, "state_id": ID, "flow_id": ID}),
    )
    delete = Operation(
        "deleteFlowRun", "DELETE", "/flow_runs/{id}", parameters=(Parameter("id", "path", True, ID),)
    )
    state = Operation(
        "readFlowRunState", "GET", "/flow_run_states/{id}", parameters=(Parameter("id", "path", True, ID),)
    )
    plan = plan_for_operation(
        "readFlowRunState", catalogue(runs, delete, state), environment={}, secret_names=[]
    )
    assert plan.bindings["request"].call.path == {"id": "{{ data.flow_run.state_id }}"}
    assert plan.bindings["flow_run"].cleanup == Request(
        operation="deleteFlowRun", path={"id": "{{ self.id }}"}
    )
    other = Operation(  # a flow holds no state: ``{id}`` is never a field of an unrelated entity
        "readFlowState", "GET", "/flow_states/{id}", parameters=(Parameter("id", "path", True, ID),)
    )
    with pytest.raises(PlanRefused):
        plan_for_operation("readFlowState", catalogue(runs, delete, other), environment={}, secret_names=[])


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


def test_an_optional_list_of_an_entitys_names_or_ids_is_left_out() -> None:
    queues = Operation(
        "createQueue", "POST", "/queues", request_schema={"type": "object"}, responses=created({"id": ID})
    )
    names = {"type": "array", "items": {"type": "string"}}
    body = {
        "type": "object",
        "properties": {
            "queue_names": names,  # made-up names name no queue: a 404
            "queue_ids": {"anyOf": [{"type": "array", "items": ID}, {"type": "null"}]},
            "tag_names": names,  # no operation makes tags: a plain value
            "limit": {"type": "integer"},
        },
    }
    runs = Operation(
        "readScheduledRuns",
        "POST",
        "/runs/scheduled",
        request_schema=body,
        responses={"200": {"type": "array"}},
    )
    result = plan_for_operation("readScheduledRuns", catalogue(queues, runs), environment={}, secret_names=[])
    assert set(result.bindings["request"].call.body) == {"tag_names", "limit"}


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


def schedules_catalogue() -> Catalogue:
    """A deployment and its schedules, made in bulk: the creation takes a list and answers the list it
    made."""
    deployment = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    schedule = {"type": "object", "required": ["cron"], "properties": {"cron": {"type": "string"}}}
    made = {"type": "object", "properties": {"id": ID, "deployment_id": ID, "cron": {"type": "string"}}}
    deployment_id = Parameter("id", "path", True, ID)
    return catalogue(
        Operation(
            "createDeployment",
            "POST",
            "/deployments",
            request_schema=deployment,
            responses=created({"id": ID, "name": {"type": "string"}}),
        ),
        Operation("deleteDeployment", "DELETE", "/deployments/{id}", parameters=(deployment_id,)),
        Operation(
            "createSchedules",
            "POST",
            "/deployments/{id}/schedules",
            parameters=(deployment_id,),
            request_schema={"type": "array", "items": schedule},
            responses={"201": {"type": "array", "items": made}},
        ),
        Operation(
            "deleteSchedule",
            "DELETE",
            "/deployments/{id}/schedules/{schedule_id}",
            parameters=(deployment_id, Parameter("schedule_id", "path", True, ID)),
        ),
        Operation(  # an action with a shorter path that describes no answer: not what makes a schedule
            "scheduleRuns",
            "POST",
            "/deployments/{id}/schedule",
            parameters=(deployment_id,),
            request_schema={"type": "object", "properties": {"runs": {"type": "integer"}}},
            responses={"200": {}},
        ),
    )


def test_a_bulk_creation_gets_one_item_and_its_cleanup_deletes_the_item_its_answer_lists() -> None:
    plan = plan_for_operation("createSchedules", schedules_catalogue(), environment={}, secret_names=[])
    request = plan.bindings["request"]
    assert request.call is not None
    assert isinstance(request.call.body, list)
    assert len(request.call.body) == 1
    assert set(request.call.body[0]) == {"cron"}
    assert request.cleanup == Request(
        operation="deleteSchedule",
        path={"schedule_id": "{{ self.0.id }}", "id": "{{ data.deployment.id }}"},
    )
    assert "createSchedules: one item sent; its answer lists the item it made" in plan.notes


def test_a_creation_of_one_item_answering_a_list_is_never_undone_by_the_lists_first_item() -> None:
    """It may answer the whole collection after adding to it: its first item may be someone else's."""
    pet = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    listed = {"type": "array", "items": {"type": "object", "properties": {"id": ID, "name": {}}}}
    found = catalogue(
        Operation("addPet", "POST", "/pets", request_schema=pet, responses={"200": listed}),
        Operation("deletePet", "DELETE", "/pets/{id}", parameters=(Parameter("id", "path", True, ID),)),
    )
    plan = plan_for_operation("addPet", found, environment={}, secret_names=[])
    request = plan.bindings["request"]
    assert request.call is not None
    assert isinstance(request.call.body, dict)
    assert request.cleanup == Request(operation="deletePet", path={"id": "{{ self.id }}"})  # manual if a list


def test_an_item_made_in_bulk_is_named_by_the_first_item_of_its_answer() -> None:
    plan = plan_for_operation("deleteSchedule", schedules_catalogue(), environment={}, secret_names=[])
    request = plan.bindings["request"].call
    assert request is not None
    assert request.path == {"id": "{{ data.deployment.id }}", "schedule_id": "{{ data.schedule.0.id }}"}
    schedule = plan.bindings["schedule"].call
    assert schedule is not None
    assert schedule.operation == "createSchedules"  # it describes what it makes; the action does not


async def resolved_against(
    sut: Callable[[httpx.Request], httpx.Response], found: Catalogue, plan: DataPlan, *, fails: bool = False
) -> list[Any]:
    """What the resolver reports for ``plan`` against ``sut`` (``fails``: it must raise BindingFailed)."""
    results: list[Any] = []

    async def keep(result: Any) -> None:
        results.append(result)

    async with httpx.AsyncClient(transport=httpx.MockTransport(sut)) as client:
        resolver = DataResolver(
            client, found, base_url=SHOP, policy=POLICY, environment={}, secrets={}, seed=3
        )
        if fails:
            with pytest.raises(BindingFailed):
                await resolver.resolve(plan, done={}, on_result=keep)
        else:
            await resolver.resolve(plan, done={}, on_result=keep)
    return results


async def test_the_cleanup_of_a_bulk_creation_is_rendered_from_the_item_the_sut_answered() -> None:
    found = schedules_catalogue()
    plan = plan_for_operation("createSchedules", found, environment={}, secret_names=[], seed=3)
    sent: list[Any] = []

    def sut(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/deployments":
            return httpx.Response(201, json={"id": "d-1", "name": "nightly"})
        sent.append(json.loads(request.content))
        return httpx.Response(201, json=[{"id": "s-1", "deployment_id": "d-1", "cron": "* * * * *"}])

    results = await resolved_against(sut, found, plan)
    undo = next(result.undo for result in results if result.binding == "request")
    assert undo is not None
    assert undo.method == "DELETE"
    assert undo.url == f"{SHOP}/deployments/d-1/schedules/s-1"
    assert len(sent) == 1
    assert len(sent[0]) == 1


async def test_a_bulk_answer_without_an_item_leaves_a_manual_entry_instead_of_guessing() -> None:
    found = schedules_catalogue()
    plan = plan_for_operation("createSchedules", found, environment={}, secret_names=[], seed=3)

    def sut(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/deployments":
            return httpx.Response(201, json={"id": "d-1", "name": "nightly"})
        return httpx.Response(201, json=[])

    results = await resolved_against(sut, found, plan, fails=True)
    failed = next(result for result in results if result.binding == "request")
    assert failed.manual
    assert failed.undo is None


def pools_catalogue(*, body_names_pool: bool = False) -> Catalogue:
    """Work queues that belong to a work pool: ``POST /work_queues`` cannot name one (unless
    ``body_names_pool``), ``POST /work_pools/{work_pool_name}/queues`` does."""
    pool_name = Parameter("work_pool_name", "path", True, {"type": "string"})
    named = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    queue = {"id": ID, "name": {"type": "string"}, "work_pool_id": ID, "work_pool_name": {"type": "string"}}
    queue_body = dict(named)
    if body_names_pool:
        queue_body = {**named, "properties": {**named["properties"], "work_pool_name": {"type": "string"}}}
    return catalogue(
        Operation(
            "createWorkPool",
            "POST",
            "/work_pools",
            request_schema=named,
            responses=created({"id": ID, "name": {"type": "string"}}),
        ),
        Operation(
            "deleteWorkPool",
            "DELETE",
            "/work_pools/{name}",
            parameters=(Parameter("name", "path", True, {"type": "string"}),),
        ),
        Operation(
            "createWorkQueue", "POST", "/work_queues", request_schema=queue_body, responses=created(queue)
        ),
        Operation(
            "deleteWorkQueue", "DELETE", "/work_queues/{id}", parameters=(Parameter("id", "path", True, ID),)
        ),
        Operation(
            "readWorkQueueStatus",
            "GET",
            "/work_queues/{id}/status",
            parameters=(Parameter("id", "path", True, ID),),
        ),
        Operation(
            "createPoolQueue",
            "POST",
            "/work_pools/{work_pool_name}/queues",
            parameters=(pool_name,),
            request_schema=named,
            responses=created(queue),
        ),
        Operation(
            "deletePoolQueue",
            "DELETE",
            "/work_pools/{work_pool_name}/queues/{name}",
            parameters=(pool_name, Parameter("name", "path", True, {"type": "string"})),
        ),
    )


def test_an_item_whose_parent_the_sut_would_choose_is_made_where_the_plan_names_its_parent() -> None:
    found = pools_catalogue()
    assert parent_left_to_server(found, found.operations["createWorkQueue"]) == "work_pool"
    plan = plan_for_operation("readWorkQueueStatus", found, environment={}, secret_names=[])
    queue = plan.bindings["work_queue"]
    assert queue.call is not None
    assert queue.call.operation == "createPoolQueue"
    assert queue.call.path == {"work_pool_name": "{{ data.work_pool.name }}"}
    assert queue.cleanup == Request(
        operation="deletePoolQueue",
        path={"name": "{{ self.name }}", "work_pool_name": "{{ data.work_pool.name }}"},
    )
    pool = plan.bindings["work_pool"]
    assert pool.cleanup == Request(operation="deleteWorkPool", path={"name": "{{ self.name }}"})
    assert list(plan.bindings).index("work_pool") < list(plan.bindings).index("work_queue")  # undone after
    assert plan.bindings["request"].call.path == {"id": "{{ data.work_queue.id }}"}


def test_a_creation_that_leaves_its_parent_to_the_sut_is_refused_unless_leftovers_are_allowed() -> None:
    found = pools_catalogue()
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation("createWorkQueue", found, environment={}, secret_names=[])
    assert "cannot name the work_pool what it creates belongs to" in refused.value.reasons[0]
    allowed = plan_for_operation("createWorkQueue", found, environment={}, secret_names=[], leftovers=True)
    assert allowed.bindings["request"].cleanup == Request(
        operation="deleteWorkQueue", path={"id": "{{ self.id }}"}
    )


def test_a_creation_that_names_its_parent_or_sits_below_it_leaves_nothing_to_the_sut() -> None:
    named = pools_catalogue(body_names_pool=True)
    assert parent_left_to_server(named, named.operations["createWorkQueue"]) is None
    plan = plan_for_operation("createWorkQueue", named, environment={}, secret_names=[])
    assert plan.bindings["request"].call.operation == "createWorkQueue"
    found = pools_catalogue()
    assert parent_left_to_server(found, found.operations["createPoolQueue"]) is None
    assert parent_left_to_server(found, found.operations["createWorkPool"]) is None
