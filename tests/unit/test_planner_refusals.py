"""The built-in planner learns from the SUT's refusals: the fields a 400/422 names as missing or invalid
are read from the common shapes of error bodies, sent by the next plan of that operation (a value from the
schema, or the key of a created entity for a relation), and kept in the plan's notes for a later repair."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from orchestra.openapi.operations import Catalogue, Operation, Parameter
from orchestra.testdata.planner.bodies import SLUG
from orchestra.testdata.planner.builtin import plan_for_operation
from orchestra.testdata.planner.refusals import (
    INVALID,
    MISSING,
    UNWANTED,
    Lessons,
    Named,
    learn_from_failures,
    named_fields,
)
from orchestra.testdata.values.generator import ValueGenerator

KNOWN = {"action", "policy", "collection", "fields", "name"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"detail": [{"loc": ["body", "action"], "msg": "Field required", "type": "missing"}]},
            [Named("action", MISSING)],
            id="pydantic",
        ),
        pytest.param(
            {
                "detail": [
                    {"loc": ["body", "policy", "id"], "msg": "Input should be a valid UUID", "type": "uuid"}
                ]
            },
            [Named("policy", INVALID)],
            id="pydantic-nested-invalid",
        ),
        pytest.param(
            {
                "errors": [
                    {
                        "message": 'Validation failed for field "action". Value is required.',
                        "extensions": {"field": "action", "type": "required", "code": "FAILED_VALIDATION"},
                    },
                    {
                        "message": 'Validation failed for field "policy". Value is required.',
                        "extensions": {"field": "policy", "type": "required", "code": "FAILED_VALIDATION"},
                    },
                ]
            },
            [Named("action", MISSING), Named("policy", MISSING)],
            id="directus-failed-validation",
        ),
        pytest.param(
            {"errors": [{"message": '"collection" is required', "extensions": {"code": "INVALID_PAYLOAD"}}]},
            [Named("collection", MISSING)],
            id="joi-message",
        ),
        pytest.param(
            {"errors": [{"status": "422", "source": {"pointer": "/data/attributes/name"}, "title": "blank"}]},
            [Named("name", INVALID)],
            id="json-api-pointer",
        ),
        pytest.param(
            {"type": "about:blank", "errors": {"name": ["The name field is required."]}},
            [Named("name", MISSING)],
            id="problem-json-dictionary",
        ),
        pytest.param(
            {"invalid-params": [{"name": "fields", "reason": "must be an array"}]},
            [Named("fields", INVALID)],
            id="problem-json-invalid-params",
        ),
        pytest.param(
            json.dumps({"message": "'action' is a required property"}),
            [Named("action", MISSING)],
            id="json-schema-message-as-text",
        ),
        pytest.param(
            {
                "errors": [
                    {"field": "action", "message": "invalid"},
                    {"field": "action", "message": "is required"},
                ]
            },
            [Named("action", MISSING)],
            id="missing-wins-over-invalid",
        ),
        pytest.param(
            {
                "exception_detail": [
                    {
                        "type": "value_error",
                        "loc": ["body"],
                        "msg": "Value error, Names must be provided for block documents.",
                        "input": {"action": "x"},
                    }
                ]
            },
            [Named("name", MISSING)],
            id="a-plain-word-of-a-sentence",
        ),
    ],
)
def test_the_fields_a_refusal_names_are_read_from_common_shapes(body: Any, expected: list[Named]) -> None:
    assert named_fields(body, KNOWN) == expected


@pytest.mark.parametrize(
    "body",
    [
        {"errors": [{"message": '"secret" is required'}]},  # not a field of the body: never invented
        {"detail": [{"loc": ["query", "limit"], "msg": "Field required", "type": "missing"}]},
        {"errors": [{"message": "You don't have permission to access this."}]},
        {"data": {"name": "x"}},  # an entity's name, not a problem
        {"detail": "Authentication is required; a secret must be provided"},  # words that are no field
        {"detail": "A name is too long"},  # says nothing is missing
        "<html>Bad Request</html>",
        None,
        "",
        [[[[[[[[["deep"]]]]]]]]],
    ],
)
def test_a_refusal_that_names_no_field_of_the_body_teaches_nothing(body: Any) -> None:
    assert named_fields(body, KNOWN) == []


def _catalogue(*operations: Operation) -> Catalogue:
    return Catalogue("t", "0" * 64, {operation.operation_id: operation for operation in operations})


# One schema for requests and answers, no field required: as a CMS describes itself.
PERMISSION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "collection": {"type": "string"},
        "action": {"type": "string", "nullable": True, "enum": ["create", "read", "update", "delete"]},
        "policy": {"type": "string", "format": "uuid"},
        "fields": {"type": "array", "nullable": True, "items": {"type": "string"}},
    },
}
POLICY = {
    "type": "object",
    "properties": {"id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}},
}
CMS = _catalogue(
    Operation(
        "createPermission", "POST", "/permissions", request_schema=PERMISSION, responses={"200": PERMISSION}
    ),
    Operation(
        "deletePermission",
        "DELETE",
        "/permissions/{id}",
        parameters=(Parameter("id", "path", True, {"type": "integer"}),),
    ),
    Operation("createPolicy", "POST", "/policies", request_schema=POLICY, responses={"200": POLICY}),
    Operation(
        "deletePolicy",
        "DELETE",
        "/policies/{id}",
        parameters=(Parameter("id", "path", True, {"type": "string"}),),
    ),
)
REFUSED = {
    "errors": [
        {"message": '"action" is required', "extensions": {"code": "INVALID_PAYLOAD"}},
        {"message": "x", "extensions": {"field": "policy", "type": "required", "code": "FAILED_VALIDATION"}},
    ]
}


def _plan(learnt: Lessons | None) -> dict[str, Any]:
    plan = plan_for_operation("createPermission", CMS, environment={}, secret_names=[], seed=1, learnt=learnt)
    return plan.model_dump(mode="json", exclude_none=True)


def test_what_a_refusal_names_is_sent_by_the_next_plan_a_relation_as_a_created_entitys_key() -> None:
    before = _plan(None)
    assert set(before["bindings"]["request"]["call"]["body"]) == {"collection"}
    assert "policy" not in before["bindings"]  # an optional relation: a made-up key names nothing
    lessons = Lessons()
    failures = [{"operation": "createPermission", "status": 400, "response_body": json.dumps(REFUSED)}]
    assert learn_from_failures(lessons, failures, CMS) == [
        "createPermission: action missing",
        "createPermission: policy missing",
    ]
    after = _plan(lessons)
    body = after["bindings"]["request"]["call"]["body"]
    assert body["policy"] == "{{ data.policy.id }}"
    assert after["bindings"]["policy"]["call"]["operation"] == "createPolicy"
    assert after["bindings"]["policy"]["cleanup"]["operation"] == "deletePolicy"
    fields = after["bindings"]["request_fields"]["generate"]["json_schema"]
    assert fields["properties"]["action"]["enum"] == ["create", "read", "update", "delete"]
    assert "action" in fields["required"]
    assert body["action"] == "{{ data.request_fields['action'] }}"
    # Kept in the plan's notes: a repair of this plan made from them still knows it.
    again = Lessons.from_notes(after["notes"])
    assert again.required("createPermission") == ["action", "policy"]


def test_a_free_form_string_whose_value_the_sut_refused_is_sent_as_a_slug_next_time() -> None:
    body = {
        "type": "object",
        "required": ["kind", "email"],
        "properties": {
            "name": {"anyOf": [{"type": "string", "maxLength": 40}, {"type": "null"}]},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "email": {"type": "string", "format": "email"},
        },
    }
    create = Operation("createBlock", "POST", "/blocks", request_schema=body, responses={"201": None})
    found = _catalogue(create)
    refusal = {
        "detail": [
            {"loc": ["body", "name"], "msg": "must only contain lowercase letters, numbers, and dashes"},
            {"loc": ["body", "kind"], "msg": "Input should be 'a' or 'b'"},
            {"loc": ["body", "email"], "msg": "not a valid address"},
        ]
    }
    lessons = Lessons()
    failures = [{"operation": "createBlock", "status": 422, "response_body": refusal}]
    assert learn_from_failures(lessons, failures, found) == [
        "createBlock: name invalid",
        "createBlock: kind invalid",
        "createBlock: email invalid",
    ]
    plan = plan_for_operation(
        "createBlock", found, environment={}, secret_names=[], leftovers=True, learnt=lessons
    )
    fields = plan.bindings["request_fields"].generate
    assert fields is not None
    schema = fields.json_schema
    assert schema is not None
    assert schema["properties"]["name"] == {"type": "string", "pattern": SLUG["pattern"], "maxLength": 40}
    assert schema["properties"]["kind"] == body["properties"]["kind"]  # an enum or a format says the form
    assert schema["properties"]["email"] == body["properties"]["email"]
    assert "createBlock.name: sent as a slug (the SUT refused its value)" in plan.notes
    for seed in range(20):
        name = ValueGenerator(seed, "t").for_schema(schema)["name"]
        assert re.fullmatch(r"[a-z][a-z0-9]*-[a-z0-9]+", name)


def test_only_refusals_of_a_body_teach_the_planner() -> None:
    lessons = Lessons()
    failures: list[dict[str, Any]] = [
        {"operation": "createPermission", "status": 401, "response_body": json.dumps(REFUSED)},  # credentials
        {"operation": "deletePermission", "status": 403, "response_body": json.dumps(REFUSED)},  # no creation
        {"operation": "createPermission", "status": 409, "response_body": json.dumps(REFUSED)},  # conflict
        {"operation": "unknownOperation", "status": 400, "response_body": json.dumps(REFUSED)},
        {"operation": "deletePermission", "status": 400, "response_body": json.dumps(REFUSED)},  # no body
        {"operation": "createPermission", "status": 422, "response_body": None},
    ]
    assert learn_from_failures(lessons, failures, CMS) == []
    assert not lessons
    assert _plan(lessons) == _plan(None)


def test_a_lesson_is_learnt_once() -> None:
    lessons = Lessons()
    failure = {"operation": "createPermission", "status": 400, "response_body": REFUSED}
    assert learn_from_failures(lessons, [failure], CMS)
    assert learn_from_failures(lessons, [failure], CMS) == []  # nothing new: no reason to plan again
    assert lessons.required("createPermission") == ["action", "policy"]


def test_notes_that_are_not_lessons_are_ignored() -> None:
    notes = [
        "createPermission sends action",
        "learnt from the SUT: x needs",
        "learnt from the SUT: op needs a",
    ]
    assert Lessons.from_notes(notes).needs == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {
                "errors": [
                    {"message": 'Invalid payload. "fields" is not allowed.', "extensions": {"code": "X"}}
                ]
            },
            [Named("fields", UNWANTED)],
            id="joi",
        ),
        pytest.param(
            {
                "detail": [
                    {
                        "loc": ["body", "fields"],
                        "msg": "Extra inputs are not permitted",
                        "type": "extra_forbidden",
                    }
                ]
            },
            [Named("fields", UNWANTED)],
            id="pydantic-extra-forbidden",
        ),
        pytest.param(
            {
                "errors": [{"message": '"fields" is not allowed to be empty'}]
            },  # a value refused, not the field
            [Named("fields", INVALID)],
            id="not-allowed-to-be-empty",
        ),
    ],
)
def test_a_field_the_sut_does_not_take_is_read_as_unwanted(body: Any, expected: list[Named]) -> None:
    assert named_fields(body, KNOWN) == expected


def test_a_field_the_sut_does_not_take_is_left_out_of_the_next_plan() -> None:
    lessons = Lessons()
    refusal = {"errors": [{"message": 'Invalid payload. "collection" is not allowed.'}]}
    learnt = learn_from_failures(
        lessons, [{"operation": "createPermission", "status": 400, "response_body": refusal}], CMS
    )
    assert learnt == ["createPermission: collection not allowed"]
    after = _plan(lessons)
    assert "collection" not in after["bindings"]["request"]["call"]["body"]
    assert Lessons.from_notes(after["notes"]).left_out("createPermission") == ["collection"]


FOLDER = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
BULK = _catalogue(
    Operation(
        "createFolder",
        "POST",
        "/folders",
        request_schema=FOLDER,
        responses={"200": {"type": "object", "properties": {"data": FOLDER}}},
    ),
    Operation(
        "deleteFolder",
        "DELETE",
        "/folders/{id}",
        parameters=(Parameter("id", "path", True, {"type": "string"}),),
    ),
    Operation(
        "updateFolders",
        "PATCH",
        "/folders",
        request_schema={
            "type": "object",
            "properties": {"data": FOLDER, "keys": {"type": "array", "items": {"type": "string"}}},
        },
    ),
    # One schema in an anyOf: read as that object, so its fields can be learnt and sent one by one.
    Operation("createFlow", "POST", "/flows", request_schema={"anyOf": [FOLDER]}, responses={"200": FOLDER}),
    Operation(
        "deleteFlow", "DELETE", "/flows/{id}", parameters=(Parameter("id", "path", True, {"type": "string"}),)
    ),
)


def test_a_bulk_update_names_the_items_it_changes_by_the_keys_of_created_ones() -> None:
    plan = plan_for_operation("updateFolders", BULK, environment={}, secret_names=[], seed=1)
    dumped = plan.model_dump(mode="json", exclude_none=True)
    assert dumped["bindings"]["request"]["call"]["body"]["keys"] == ["{{ data.folder.data.id }}"]
    assert dumped["bindings"]["folder"]["cleanup"]["operation"] == "deleteFolder"


def test_a_body_of_one_schema_in_an_any_of_is_that_object() -> None:
    lessons = Lessons()
    refusal = {"errors": [{"message": '"name" is required'}]}
    failures = [{"operation": "createFlow", "status": 400, "response_body": refusal}]
    assert learn_from_failures(lessons, failures, BULK) == ["createFlow: name missing"]
    plan = plan_for_operation("createFlow", BULK, environment={}, secret_names=[], seed=1, learnt=lessons)
    body = plan.model_dump(mode="json", exclude_none=True)["bindings"]["request"]["call"]["body"]
    assert "name" in body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Slots requested is greater than the limit", [Named("slots", INVALID)]),
        ("slots must be less than 5", [Named("slots", INVALID)]),
        ("Count is greater than the limit", []),  # not a field of the body
        ("Slots are too many", []),  # no bound said
        ("The slots requested exceeded", []),
    ],
)
def test_a_field_named_before_a_bound_had_its_value_refused(text: str, expected: list[Named]) -> None:
    assert named_fields({"detail": text}, {"slots", "names"}) == expected


def test_a_number_whose_value_the_sut_refused_is_sent_at_its_lower_bound_next_time() -> None:
    body = {
        "type": "object",
        "required": ["slots", "size", "mode", "step"],
        "properties": {
            "slots": {"type": "integer", "exclusiveMinimum": 0},
            "size": {"anyOf": [{"type": "number", "minimum": 60, "maximum": 600}, {"type": "null"}]},
            "mode": {"type": "integer", "enum": [2, 4]},
            "step": {"type": "integer", "minimum": 0, "multipleOf": 5},
        },
    }
    take = Operation("take", "POST", "/slots/take", request_schema=body, responses={"200": None})
    found = _catalogue(take)
    lessons = Lessons()
    refusal = {
        "detail": [
            {"loc": ["body", name], "msg": "out of range", "type": "value_error"}
            for name in ("slots", "size", "mode", "step")
        ]
    }
    learnt = learn_from_failures(
        lessons, [{"operation": "take", "status": 422, "response_body": refusal}], found
    )
    assert learnt == ["take: slots invalid", "take: size invalid", "take: mode invalid", "take: step invalid"]
    plan = plan_for_operation("take", found, environment={}, secret_names=[], leftovers=True, learnt=lessons)
    fields = plan.bindings["request_fields"].generate
    assert fields is not None
    assert fields.json_schema is not None
    schema = fields.json_schema["properties"]
    assert schema["slots"] == {"type": "integer", "minimum": 1, "maximum": 1}
    assert schema["size"] == {"type": "number", "minimum": 60, "maximum": 60}
    assert schema["mode"] == body["properties"]["mode"]  # the schema gives the value itself
    assert schema["step"] == body["properties"]["step"]  # a multiple: its lower bound may be none
    assert "take.slots: sent at its lower bound (the SUT refused its value)" in plan.notes
    values = ValueGenerator(3, "t").for_schema(fields.json_schema)
    assert (values["slots"], values["size"]) == (1, 60)


RUNS_FILTER = {
    "type": "object",
    "required": ["runs"],
    "properties": {
        "runs": {
            "type": "object",
            "properties": {
                "start_time": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {
                                "after_": {
                                    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]
                                },
                                "before_": {
                                    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]
                                },
                            },
                        },
                        {"type": "null"},
                    ],
                    "default": None,
                },
            },
        },
        "limit": {"type": "integer"},
    },
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"detail": "runs.start_time.after_ is required"},
            [Named("runs", MISSING), Named("runs.start_time.after_", MISSING)],
            id="a-path-in-a-sentence",
        ),
        pytest.param(
            {"detail": [{"loc": ["body", "runs", "start_time", "after_"], "type": "missing"}]},
            [Named("runs", MISSING), Named("runs.start_time.after_", MISSING)],
            id="pydantic-nested-missing",
        ),
        pytest.param(
            {"detail": "runs.end_time.after_ is required"},  # not a field the schema describes there
            [Named("runs", MISSING)],
            id="a-path-the-schema-lacks",
        ),
        pytest.param(
            {"detail": [{"loc": ["body", "runs", "start_time", "after_"], "type": "datetime_parsing"}]},
            [Named("runs", INVALID)],  # a value refused, not a field missing: nothing below is sent
            id="nested-invalid",
        ),
    ],
)
def test_a_field_below_the_top_named_missing_is_read_by_its_path(body: Any, expected: list[Named]) -> None:
    assert named_fields(body, {"runs", "limit"}, RUNS_FILTER) == expected


def test_a_field_below_the_top_named_missing_is_sent_by_the_next_plan() -> None:
    counts = Operation(
        "countRuns", "POST", "/runs/counts", request_schema=RUNS_FILTER, responses={"200": None}
    )
    found = _catalogue(counts)
    lessons = Lessons()
    refusal = {"detail": "runs.start_time.after_ is required"}
    failures = [{"operation": "countRuns", "status": 422, "response_body": refusal}]
    assert learn_from_failures(lessons, failures, found) == [
        "countRuns: runs missing",
        "countRuns: runs.start_time.after_ missing",
    ]
    plan = plan_for_operation("countRuns", found, environment={}, secret_names=[], learnt=lessons)
    fields = plan.bindings["request_fields"].generate
    assert fields is not None
    assert fields.json_schema is not None
    for seed in range(10):
        runs = ValueGenerator(seed, "t").for_schema(fields.json_schema, for_request=True)["runs"]
        assert isinstance(runs["start_time"]["after_"], str)
    assert "countRuns.runs: sends start_time.after_ (the SUT said it is missing)" in plan.notes
    # Kept in the notes: a repair made from them still sends it.
    assert Lessons.from_notes(plan.notes).nested("countRuns", "runs") == ["start_time.after_"]
    before = plan_for_operation("countRuns", found, environment={}, secret_names=[])
    schema = before.bindings["request_fields"].generate
    assert schema is not None
    assert schema.json_schema is not None
    assert "start_time" not in ValueGenerator(1, "t").for_schema(schema.json_schema, for_request=True)["runs"]
