"""POSTs that only read (a page, a history, a count, a reading of what exists), told apart from the
creations that look like them: a read is called once with nothing to undo; a creation is still undone, or
refused when nothing undoes it (reading a creation as a read would leave what it made in the SUT). And items
looked up where their collection makes them: by an id or name of alternatives, by the names of entities,
by a key their creation sent or must send."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.openapi.operations import Catalogue, Operation, Parameter
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.entities import is_query_post
from orchestra.testdata.planner.undo import creates, left_behind
from orchestra.testdata.plans.dataplan_model import Binding, Call, DataPlan, Request

ID = {"type": "string", "format": "uuid"}
FLOW = {"type": "object", "title": "Flow", "properties": {"id": ID, "name": {"type": "string"}}}
FLOW_FILTER = {"anyOf": [{"type": "object", "title": "FlowFilter", "properties": {}}, {"type": "null"}]}
FILTERS = {
    "type": "object",
    "properties": {"flows": FLOW_FILTER, "sort": {"type": "string"}, "limit": {"type": "integer"}},
}
PAGE = {
    "type": "object",
    "properties": {"results": {"type": "array", "items": FLOW}, "count": {"type": "integer"}},
}


def catalogue(*operations: Operation) -> Catalogue:
    create = Operation(
        "create_flow_flows_post",
        "POST",
        "/flows/",
        summary="Create Flow",
        request_schema={"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        responses={"200": FLOW},
    )
    delete = Operation(
        "delete_flow_flows__id__delete",
        "DELETE",
        "/flows/{id}",
        parameters=(Parameter("id", "path", True, ID),),
        responses={"204": None},
    )
    found = {operation.operation_id: operation for operation in (create, delete, *operations)}
    return Catalogue("t", "0" * 64, found)


def post(path: str, summary: str, body: Any = FILTERS, answer: Any = PAGE, **more: Any) -> Operation:
    operation_id = more.pop("operation_id", None) or "_".join(summary.lower().split()) + "_post"
    status = more.pop("status", "200")
    return Operation(
        operation_id, "POST", path, summary=summary, request_schema=body, responses={status: answer}, **more
    )


READS = [
    post("/flows/paginate", "Paginate Flows"),  # a verb of reading leads its summary
    post("/flows/history", "Flow History", answer={"type": "array", "items": {"type": "object"}}),
    post(  # says it reads only in its description; its body is all filters
        "/flows/lateness",
        "Average Flow Lateness",
        answer={"anyOf": [{"type": "number"}, {"type": "null"}]},
        description="Query for average lateness in seconds.\nMore text.",
    ),
    post(
        "/ui/flows/next-runs",
        "Next Runs By Flow",
        body={"type": "object", "properties": {"flow_ids": {"type": "array", "items": ID}}},
        answer={"type": "object", "additionalProperties": FLOW},
        description="Get the next run of each flow.",
    ),
    post(  # no verb at all: a body of filters, sorting and paging answered by a list
        "/flows/overview",
        "Flows Overview",
        answer={"type": "array", "items": FLOW},
    ),
]


@pytest.mark.parametrize("read", READS, ids=lambda op: op.path)
def test_a_post_that_only_reads_is_called_once_with_nothing_to_undo(read: Operation) -> None:
    found = catalogue(read)
    assert is_query_post(read)
    assert not creates(found, read)
    plan = plan_for_operation(read.operation_id, found, environment={}, secret_names=[])
    request = plan.bindings["request"]
    assert request.call is not None
    assert request.call.operation == read.operation_id
    assert request.cleanup is None
    assert [name for name, binding in plan.bindings.items() if binding.call is not None] == ["request"]


def test_a_read_below_an_item_is_a_call_not_a_change_of_that_item() -> None:
    count = Operation(
        "count_account_events_events_count_by__countable__post",
        "POST",
        "/events/count-by/{countable}",
        summary="Count Account Events",
        parameters=(Parameter("countable", "path", True, {"enum": ["day", "event"]}),),
        request_schema=FILTERS,
        responses={"200": {"type": "array", "items": {"type": "object"}}},
    )
    plan = plan_for_operation(count.operation_id, catalogue(count), environment={}, secret_names=[])
    request = plan.bindings["request"]
    assert request.call is not None
    assert request.cleanup is None
    assert request.call.path["countable"].startswith("{{ data.")


LOOK_ALIKES = [
    # Named like a read, but documented as creating (201).
    post("/flows/history", "Flow History", answer=FLOW, status="201"),
    # A verb of reading, but it answers the one item it made (an id): a creation.
    post("/flows/snapshot", "Get Flow Snapshot", answer=FLOW),
    # A body of filters only, but its summary says it writes.
    post("/flows/bulk_delete", "Bulk Delete Flows", answer={"type": "object"}),
    post("/flows/archive", "Archive Flows", answer={"type": "array", "items": {"type": "object"}}),
    # A last segment of reading, but its description begins with a verb of writing.
    post("/flows/page", "Flow Page", description="Creates a page for the flows.", answer={"type": "object"}),
    # A body of filters, an answer without an id, but it exports (a file the server keeps).
    post(
        "/flows/export", "Export Flows", answer={"type": "object", "properties": {"url": {"type": "string"}}}
    ),
    # It answers nothing: an action, not a read.
    post("/flows/paginate", "Paginate Flows", answer=None, status="204"),
    # Its operationId, beyond the words repeating its path, says it makes something.
    post("/flows/paginate", "", operation_id="generateFlowsPaginate", answer={"type": "object"}),
]


@pytest.mark.parametrize("creation", LOOK_ALIKES, ids=lambda op: f"{op.path} {op.summary}")
def test_a_creation_that_looks_like_a_read_is_still_a_creation(creation: Operation) -> None:
    found = catalogue(creation)
    assert not is_query_post(creation)
    assert creates(found, creation)
    with pytest.raises(PlanRefused) as refused:  # nothing undoes it: never sent as if it read
        plan_for_operation(creation.operation_id, found, environment={}, secret_names=[])
    assert "nothing undoes what it creates" in refused.value.reasons[0]
    plan = DataPlan(bindings={"made": Binding(call=Call(operation=creation.operation_id))})
    assert left_behind(plan, found) == [
        f"bindings.made: {creation.operation_id} creates something and has no cleanup"
    ]


def test_a_creation_answering_201_beside_its_delete_is_undone_whatever_its_name() -> None:
    history = post(
        "/histories",
        "Read History",
        body={"type": "object", "properties": {"flows": FLOW_FILTER}},
        answer={"type": "object", "properties": {"id": ID}},
        status="201",
    )
    delete = Operation(
        "deleteHistory", "DELETE", "/histories/{id}", parameters=(Parameter("id", "path", True, ID),)
    )
    plan = plan_for_operation(
        history.operation_id, catalogue(history, delete), environment={}, secret_names=[]
    )
    assert plan.bindings["request"].cleanup == Request(
        operation="deleteHistory", path={"id": "{{ self.id }}"}
    )


def limits(*more: Operation) -> Catalogue:
    """Limits made by two collections: ``POST /limits/`` and ``POST /v2/limits/``, each with its items."""
    limit = {"type": "object", "properties": {"id": ID, "name": {"type": "string"}}}
    named = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
    either = Parameter("id_or_name", "path", True, {"anyOf": [ID, {"type": "string"}]})
    operations = (
        Operation("createLimit", "POST", "/limits/", request_schema=named, responses={"200": limit}),
        Operation("deleteLimit", "DELETE", "/limits/{id}", parameters=(Parameter("id", "path", True, ID),)),
        Operation("createLimitV2", "POST", "/v2/limits/", request_schema=named, responses={"201": limit}),
        Operation("readLimitV2", "GET", "/v2/limits/{id_or_name}", parameters=(either,)),
        Operation("deleteLimitV2", "DELETE", "/v2/limits/{id_or_name}", parameters=(either,)),
    )
    return Catalogue("t", "0" * 64, {op.operation_id: op for op in (*operations, *more)})


def test_an_item_path_is_filled_by_the_creation_on_its_own_collection_and_its_first_alternative() -> None:
    plan = plan_for_operation("readLimitV2", limits(), environment={}, secret_names=[])
    made = plan.bindings["limit"]
    assert made.call is not None
    assert made.call.operation == "createLimitV2"  # not the shorter POST /limits/ of another collection
    assert made.cleanup == Request(operation="deleteLimitV2", path={"id_or_name": "{{ self.id }}"})
    assert plan.bindings["request"].call.path == {"id_or_name": "{{ data.limit.id }}"}


def test_path_parameters_naming_entities_by_name_take_the_names_of_the_entities_created() -> None:
    deployment = {"type": "object", "properties": {"id": ID, "name": {"type": "string"}, "flow_id": ID}}
    body = {
        "type": "object",
        "required": ["name", "flow_id"],
        "properties": {"name": {"type": "string"}, "flow_id": ID},
    }
    found = catalogue(
        Operation(
            "createDeployment", "POST", "/deployments/", request_schema=body, responses={"200": deployment}
        ),
        Operation(
            "deleteDeployment", "DELETE", "/deployments/{id}", parameters=(Parameter("id", "path", True, ID),)
        ),
        Operation(
            "readDeploymentByName",
            "GET",
            "/deployments/name/{flow_name}/{deployment_name}",
            parameters=(
                Parameter("flow_name", "path", True, {"type": "string"}),
                Parameter("deployment_name", "path", True, {"type": "string"}),
            ),
        ),
    )
    plan = plan_for_operation("readDeploymentByName", found, environment={}, secret_names=[])
    assert plan.bindings["request"].call.path == {
        "flow_name": "{{ data.flow.name }}",
        "deployment_name": "{{ data.deployment.name }}",
    }
    assert plan.bindings["deployment"].call.body["flow_id"] == "{{ data.flow.id }}"  # the flow it names
    assert plan.bindings["flow"].cleanup is not None
    assert plan.bindings["deployment"].cleanup is not None


def inputs_catalogue() -> Catalogue:
    """Inputs of a flow, made by ``POST /flows/{id}/input`` with a ``key`` it does not answer (``201``
    without a body), read and deleted by that key."""
    key = Parameter("key", "path", True, {"type": "string"})
    flow_id = Parameter("id", "path", True, ID)
    body = {
        "type": "object",
        "required": ["key", "value"],
        "properties": {"key": {"type": "string"}, "value": {"type": "string"}},
    }
    return catalogue(
        Operation(
            "createInput",
            "POST",
            "/flows/{id}/input",
            parameters=(flow_id,),
            request_schema=body,
            responses={"201": None},
        ),
        Operation("readInput", "GET", "/flows/{id}/input/{key}", parameters=(flow_id, key)),
        Operation("deleteInput", "DELETE", "/flows/{id}/input/{key}", parameters=(flow_id, key)),
    )


def test_an_item_its_creation_names_but_does_not_answer_is_addressed_and_undone_by_the_name_sent() -> None:
    found = inputs_catalogue()
    plan = plan_for_operation("readInput", found, environment={}, secret_names=[])
    made = plan.bindings["input"]
    assert made.call is not None
    sent = made.call.body["key"]
    assert sent.startswith("{{ data.")
    assert plan.bindings["request"].call.path == {"id": "{{ data.flow.id }}", "key": sent}
    assert made.cleanup == Request(operation="deleteInput", path={"key": sent, "id": "{{ data.flow.id }}"})
    deletion = plan_for_operation("deleteInput", found, environment={}, secret_names=[])  # what it made
    assert deletion.bindings["request"].call.path["key"] == deletion.bindings["input"].call.body["key"]
    created = plan_for_operation("createInput", found, environment={}, secret_names=[])
    assert created.bindings["request"].cleanup.path["key"] == created.bindings["request"].call.body["key"]
    for each in (plan, deletion):  # sent only after the item exists (the name alone does not wait for it)
        assert each.bindings["request"].depends_on == ["input"]


def test_an_optional_field_that_names_the_item_in_its_path_is_sent_by_its_creation() -> None:
    artifact = {"type": "object", "properties": {"id": ID, "key": {"type": ["string", "null"]}}}
    body = {
        "type": "object",
        "properties": {"key": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "id": ID},
    }
    found = catalogue(
        Operation("createArtifact", "POST", "/artifacts/", request_schema=body, responses={"200": artifact}),
        Operation(
            "deleteArtifact", "DELETE", "/artifacts/{id}", parameters=(Parameter("id", "path", True, ID),)
        ),
        Operation(
            "readLatestArtifact",
            "GET",
            "/artifacts/{key}/latest",
            parameters=(Parameter("key", "path", True, {"type": "string"}),),
        ),
    )
    plan = plan_for_operation("readLatestArtifact", found, environment={}, secret_names=[])
    assert plan.bindings["artifact"].call.body == {"key": "{{ data.artifact_fields['key'] }}"}  # not its id
    fields = plan.bindings["artifact_fields"].generate
    assert fields is not None
    assert fields.json_schema["required"] == ["key"]
    assert plan.bindings["request"].call.path == {"key": "{{ data.artifact.key }}"}
    alone = plan_for_operation("createArtifact", found, environment={}, secret_names=[])
    assert "key" not in (alone.bindings["request"].call.body or {})  # optional, when nothing needs it


def test_a_read_of_an_item_nothing_creates_takes_the_first_its_listing_answers() -> None:
    record = {"type": "object", "properties": {"id": {"type": "integer"}, "action": {"type": "string"}}}
    listing = {
        "type": "object",
        "properties": {"data": {"type": "array", "items": record}, "meta": {"type": "object"}},
    }
    item = (Parameter("id", "path", True, {"type": "integer"}),)
    found = catalogue(
        Operation("getActivities", "GET", "/activity", responses={"200": listing}),
        Operation("getActivity", "GET", "/activity/{id}", parameters=item),
        Operation("deleteActivity", "DELETE", "/activity/{id}", parameters=item),
    )
    plan = plan_for_operation("getActivity", found, environment={}, secret_names=[])
    lookup = plan.bindings["activity_found"].lookup
    assert lookup is not None
    assert (lookup.operation, lookup.select) == ("getActivities", "$.data[0].id")
    assert plan.bindings["request"].call.path == {"id": "{{ data.activity_found }}"}
    with pytest.raises(PlanRefused):  # never deleted (nor changed): the plan did not create it
        plan_for_operation("deleteActivity", found, environment={}, secret_names=[])
    needs_input = catalogue(
        Operation(
            "getActivities",
            "GET",
            "/activity",
            parameters=(Parameter("run_id", "query", True, ID),),
            responses={"200": listing},
        ),
        Operation("getActivity", "GET", "/activity/{id}", parameters=item),
    )
    with pytest.raises(PlanRefused):  # a listing that needs an input it cannot give is no source
        plan_for_operation("getActivity", needs_input, environment={}, secret_names=[])
