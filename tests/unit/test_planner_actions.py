"""Actions on a collection (``POST /limits/increment``): the items their body names are created by the plan,
their inverse undoes them, an action that only acts on created items goes with them, and a field naming a
part something's answer holds (``lease_id``) is filled from it; look-alikes that must not be read so."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.openapi.operations import Catalogue, Operation, Parameter
from orchestra.testdata.planner.actions import (
    action_collection,
    inverse_of,
    item_made_by_action,
    item_name_field,
    naming_fields,
)
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.undo import left_behind
from orchestra.testdata.plans.dataplan_model import Binding, Call, DataPlan, Request

ID = Parameter("id", "path", True, {"type": "string"})
LEASE = Parameter("lease_id", "path", True, {"type": "string", "format": "uuid"})
TAG = Parameter("tag", "path", True, {"type": "string"})
LIMIT = {
    "type": "object",
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "size": {"type": "integer"}},
}
NEW_LIMIT = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
NAMES = {"type": "array", "items": {"type": "string"}, "minItems": 1}
SLOTS = {
    "type": "object",
    "required": ["names", "slots"],
    "properties": {"names": NAMES, "slots": {"type": "integer", "minimum": 1}},
}
LIMITS = {"type": "array", "items": LIMIT}
LEASED = {
    "type": "object",
    "properties": {"lease_id": {"type": "string", "format": "uuid"}, "limits": LIMITS},
}
BY_LEASE = {"type": "object", "required": ["lease_id"], "properties": {"lease_id": {"type": "string"}}}


def catalogue(*operations: Operation) -> Catalogue:
    return Catalogue("t", "0" * 64, {operation.operation_id: operation for operation in operations})


def op(operation_id: str, method: str, path: str, **extra: Any) -> Operation:
    parameters = tuple(p for p in (ID, LEASE, TAG) if "{" + p.name + "}" in path)
    return Operation(operation_id, method, path, parameters=parameters, **extra)


CREATE = op("createLimit", "POST", "/limits/", request_schema=NEW_LIMIT, responses={"201": LIMIT})
READ = op("readLimit", "GET", "/limits/{id}", responses={"200": LIMIT})
DELETE = op("deleteLimit", "DELETE", "/limits/{id}")
INCREMENT = op("increment", "POST", "/limits/increment", request_schema=SLOTS, responses={"200": LIMITS})
DECREMENT = op("decrement", "POST", "/limits/decrement", request_schema=SLOTS, responses={"200": LIMITS})
TAKE = op("take", "POST", "/limits/increment-with-lease", request_schema=SLOTS, responses={"200": LEASED})
GIVE_BACK = op(
    "giveBack", "POST", "/limits/decrement-with-lease", request_schema=BY_LEASE, responses={"204": None}
)
RENEW = op("renew", "POST", "/limits/leases/{lease_id}/renew", responses={"204": None})
LIMITS_API = (CREATE, READ, DELETE, INCREMENT, DECREMENT, TAKE, GIVE_BACK, RENEW)


def plan(operation_id: str, found: Catalogue) -> DataPlan:
    return plan_for_operation(operation_id, found, environment={}, secret_names=[])


def test_an_action_on_a_collection_names_an_item_created_there_and_its_inverse_undoes_it() -> None:
    found = catalogue(*LIMITS_API)
    assert action_collection(found, INCREMENT) is CREATE
    assert inverse_of(found, INCREMENT) is DECREMENT
    made = plan("increment", found)
    call = made.bindings["request"].call
    assert call is not None
    assert call.body["names"] == ["{{ data.limit.name }}"]
    assert made.bindings["limit"].cleanup == Request(operation="deleteLimit", path={"id": "{{ self.id }}"})
    assert made.bindings["request"].cleanup == Request(
        operation="decrement", body={"names": ["{{ data.limit.name }}"], "slots": call.body["slots"]}
    )
    assert "decrement undoes what increment does (its inverse)" in made.notes
    assert left_behind(made, found) == []


def test_an_action_whose_answer_names_what_it_made_is_undone_by_its_inverse_with_that_field() -> None:
    found = catalogue(*LIMITS_API)
    assert inverse_of(found, TAKE) is GIVE_BACK
    made = plan("take", found)
    assert made.bindings["request"].cleanup == Request(
        operation="giveBack", body={"lease_id": "{{ self.lease_id }}"}
    )


def test_an_inverse_is_only_taken_one_way_an_action_on_created_items_goes_with_them() -> None:
    found = catalogue(*LIMITS_API)
    assert inverse_of(found, DECREMENT) is None  # a decrement of nothing held is no increment's undo
    made = plan("decrement", found)
    assert made.bindings["request"].cleanup is None
    assert any("it acts on what its body names, which the plan creates and deletes" in n for n in made.notes)
    assert left_behind(made, found) == []


def test_a_field_naming_a_part_nothing_creates_is_filled_from_the_answer_that_names_it() -> None:
    found = catalogue(*LIMITS_API)
    made = plan("giveBack", found)
    call = made.bindings["request"].call
    assert call is not None
    lease = call.body["lease_id"]
    assert lease.endswith(".lease_id }}")
    holder = lease.removeprefix("{{ data.").split(".")[0]
    assert made.bindings[holder].call == Call(
        operation="take",
        body={"names": ["{{ data.limit.name }}"], "slots": made.bindings[holder].call.body["slots"]},
    )
    assert made.bindings[holder].cleanup is not None
    assert made.bindings["request"].cleanup is None  # it goes with the lease the plan takes and gives back
    assert left_behind(made, found) == []
    renewed = plan("renew", found).bindings["request"].call
    assert renewed is not None
    assert renewed.path["lease_id"].endswith(".lease_id }}")


def test_items_without_a_name_are_named_by_the_key_an_item_path_addresses_them_by() -> None:
    limit = {"type": "object", "properties": {"id": {"type": "string"}, "tag": {"type": "string"}}}
    create = op("createTagLimit", "POST", "/tag_limits", request_schema=limit, responses={"200": limit})
    by_tag = op("readByTag", "GET", "/tag_limits/tag/{tag}", responses={"200": limit})
    delete = op("deleteTagLimit", "DELETE", "/tag_limits/{id}")
    release = op("release", "POST", "/tag_limits/decrement", request_schema=SLOTS, responses={"200": LIMITS})
    found = catalogue(create, by_tag, delete, release)
    assert item_name_field(found, create) == "tag"
    call = plan("release", found).bindings["request"].call
    assert call is not None
    assert call.body["names"] == ["{{ data.tag_limit.tag }}"]


def test_look_alikes_are_not_actions_on_named_items() -> None:
    rules = op("createRule", "POST", "/limits/rules", request_schema=SLOTS, responses={"201": LIMIT})
    rule = op("readRule", "GET", "/limits/rules/{id}", responses={"200": LIMIT})
    on_item = op("bump", "POST", "/limits/{id}/increment", request_schema=SLOTS, responses={"200": LIMIT})
    optional = {"type": "object", "required": ["slots"], "properties": SLOTS["properties"]}
    loose = op("loosen", "POST", "/limits/loosen", request_schema=optional, responses={"200": LIMITS})
    found = catalogue(*LIMITS_API, rules, rule, on_item, loose)
    assert action_collection(found, rules) is None  # a collection of its own
    assert naming_fields(found, rules) == {}
    assert action_collection(found, on_item) is None  # an action on one item: its path names it
    assert naming_fields(found, loose) == {}  # an optional ``names`` is left out, as elsewhere
    with pytest.raises(PlanRefused, match="loosen: nothing undoes what it creates"):
        plan("loosen", found)


@pytest.mark.parametrize(
    ("operation_id", "path", "answer"),
    [
        ("importLimits", "/limits/import", LIMITS),  # a verb of making: new items named so
        ("bulkLimits", "/limits/bulk", LIMITS),  # a bulk creation
        ("mergeLimits", "/limits/merge", LIMIT),  # it answers one identified item: a creation
    ],
)
def test_an_action_that_makes_new_items_is_refused_though_its_body_names_created_ones(
    operation_id: str, path: str, answer: Any
) -> None:
    making = op(operation_id, "POST", path, request_schema=SLOTS, responses={"200": answer})
    found = catalogue(*LIMITS_API, making)
    with pytest.raises(PlanRefused, match="nothing undoes what it creates"):
        plan(operation_id, found)
    named = DataPlan(
        bindings={
            "limit": Binding(
                call=Call(operation="createLimit", body={"name": "a"}),
                cleanup=Request(operation="deleteLimit", path={"id": "{{ self.id }}"}),
            ),
            "request": Binding(
                call=Call(operation=operation_id, body={"names": ["{{ data.limit.name }}"], "slots": 1})
            ),
        }
    )
    assert left_behind(named, found) == [
        f"bindings.request: {operation_id} creates something and has no cleanup"
    ]


def test_a_bulk_deletion_by_filter_stays_refused() -> None:
    by_filter = {"type": "object", "properties": {"limits": {"type": "object", "title": "LimitFilter"}}}
    wipe = op("bulkDelete", "POST", "/limits/bulk_delete", request_schema=by_filter, responses={"204": None})
    with pytest.raises(PlanRefused, match="bulkDelete: nothing undoes what it creates"):
        plan("bulkDelete", catalogue(*LIMITS_API, wipe))


def test_an_action_naming_items_the_plan_does_not_delete_is_named_by_any_planner() -> None:
    found = catalogue(*LIMITS_API)
    kept = DataPlan(
        bindings={
            "limit": Binding(call=Call(operation="createLimit", body={"name": "a"})),
            "request": Binding(
                call=Call(operation="decrement", body={"names": ["{{ data.limit.name }}"], "slots": 1})
            ),
        }
    )
    assert "bindings.request: decrement creates something and has no cleanup" in left_behind(kept, found)
    written = DataPlan(
        bindings={"request": Binding(call=Call(operation="decrement", body={"names": ["main"], "slots": 1}))}
    )
    assert left_behind(written, found) == ["bindings.request: decrement creates something and has no cleanup"]


def test_a_field_naming_a_part_that_no_answer_names_stays_refused() -> None:
    found = catalogue(CREATE, READ, DELETE, GIVE_BACK)  # nothing answers a lease_id
    with pytest.raises(PlanRefused, match="lease_id: it refers to a lease, and no operation creates one"):
        plan("giveBack", found)


POOL = Parameter("pool_name", "path", True, {"type": "string"})
WORKER = Parameter("name", "path", True, {"type": "string"})
POOL_BODY = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
NAMED = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "every": {"type": "integer"}},
}


def pool_api(*extra: Operation, heartbeat_body: Any = NAMED) -> Catalogue:
    return catalogue(
        Operation("createPool", "POST", "/pools", request_schema=POOL_BODY, responses={"201": POOL_BODY}),
        Operation("deletePool", "DELETE", "/pools/{pool_name}", parameters=(POOL,)),
        Operation(
            "heartbeat",
            "POST",
            "/pools/{pool_name}/workers/heartbeat",
            parameters=(POOL,),
            request_schema=heartbeat_body,
            responses={"204": None},
        ),
        Operation("deleteWorker", "DELETE", "/pools/{pool_name}/workers/{name}", parameters=(POOL, WORKER)),
        *extra,
    )


def test_an_item_an_action_makes_by_the_name_it_sends_is_undone_and_addressed_by_that_name() -> None:
    found = pool_api()
    assert item_made_by_action(found, found.operations["heartbeat"]) == (
        found.operations["deleteWorker"],
        "name",
    )
    made = plan("deleteWorker", found)
    heartbeat = made.bindings["heartbeat"]
    assert heartbeat.call is not None
    sent = heartbeat.call.body["name"]
    assert heartbeat.cleanup == Request(
        operation="deleteWorker", path={"name": sent, "pool_name": "{{ data.pool.name }}"}
    )
    request = made.bindings["request"]
    assert request.call is not None
    assert request.call.path == {"pool_name": "{{ data.pool.name }}", "name": sent}
    assert request.depends_on == ["heartbeat"]
    assert plan("heartbeat", found).bindings["request"].cleanup == Request(
        operation="deleteWorker",
        path={"name": "{{ data.request_fields['name'] }}", "pool_name": "{{ data.pool.name }}"},
    )


def test_look_alikes_of_an_action_making_an_item_by_name() -> None:
    optional = {"type": "object", "properties": NAMED["properties"]}
    unnamed = pool_api(heartbeat_body=optional)
    assert item_made_by_action(unnamed, unnamed.operations["heartbeat"]) is None
    with pytest.raises(PlanRefused, match=r"deleteWorker \{name\}"):
        plan("deleteWorker", pool_api(heartbeat_body=optional))  # its body does not name the worker
    own = Operation(
        "addWorker", "POST", "/pools/{pool_name}/workers", parameters=(POOL,), request_schema=NAMED
    )
    with_creation = pool_api(own)
    assert item_made_by_action(with_creation, with_creation.operations["heartbeat"]) is None
    reading = Operation(
        "filterWorkers", "POST", "/pools/{pool_name}/workers/filter", parameters=(POOL,), request_schema=NAMED
    )
    found = pool_api(reading)
    assert item_made_by_action(found, reading) is None  # a read makes nothing
