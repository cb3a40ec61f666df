"""Envelopes, non-id path parameters and OpenAPI links as the built-in planner reads them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from orchestra.ai.planning import builtin_plan
from orchestra.ai_client.messages import PlanRequest, TestCaseRef
from orchestra.errors import InvalidInput
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue, Link, Operation
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.entities import envelope_key, field_for, id_field

THING = {"type": "object", "properties": {"handle": {"type": "string"}, "name": {"type": "string"}}}


def document(created: dict[str, Any], links: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": "created",
        "content": {"application/json": {"schema": created}},
    }
    if links is not None:
        response["links"] = links
    return {
        "openapi": "3.1.0",
        "info": {"title": "things", "version": "1"},
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "requestBody": {"content": {"application/json": {"schema": THING}}},
                    "responses": {"201": response},
                }
            },
            "/lookups/{key}": {
                "get": {
                    "operationId": "getLookup",
                    "parameters": [
                        {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }


def catalogue(created: dict[str, Any], links: Any = None) -> Catalogue:
    return build_catalogue(document(created, links))


def op(schema: dict[str, Any], path: str = "/articles") -> Operation:
    return Operation("createArticle", "POST", path, responses={"201": schema})


def test_a_single_key_envelope_is_seen_through_and_other_shapes_are_not() -> None:
    enveloped = {"type": "object", "properties": {"article": THING}}
    assert envelope_key(enveloped) == "article"
    assert id_field(op(enveloped)) == "article.id"  # no id field: "id", under the key
    assert field_for(op(enveloped), "handle") == "article.handle"
    two_keys = {"type": "object", "properties": {"article": THING, "meta": THING}}
    assert envelope_key(two_keys) is None
    a_list = {"type": "object", "properties": {"articles": {"type": "array", "items": THING}}}
    assert envelope_key(a_list) is None
    scalar = {"type": "object", "properties": {"id": {"type": "integer"}}}
    assert envelope_key(scalar) is None
    assert id_field(op(scalar)) == "id"
    assert envelope_key({"type": "string"}) is None
    assert envelope_key(None) is None


def test_path_parameters_match_fields_by_name_in_either_case_and_ids_of_their_own_entity() -> None:
    comment = {
        "type": "object",
        "properties": {"comment": {"type": "object", "properties": {"id": {"type": "integer"}}}},
    }
    producer = Operation("createComment", "POST", "/articles/{slug}/comments", responses={"201": comment})
    assert field_for(producer, "commentId") == "comment.id"
    assert field_for(producer, "comment_id") == "comment.id"
    assert field_for(producer, "id") == "comment.id"
    assert field_for(producer, "articleId") is None  # another entity's id is not this one's
    user = {"type": "object", "properties": {"user": {"type": "object", "properties": {"user_name": {}}}}}
    assert field_for(Operation("createUser", "POST", "/users", responses={"201": user}), "userName") == (
        "user.user_name"
    )


def test_a_link_of_the_description_fills_a_parameter_no_name_tells() -> None:
    link = {"operationId": "getLookup", "parameters": {"path.key": "$response.body#/thing/handle"}}
    found = catalogue({"type": "object", "properties": {"thing": THING}}, {"Lookup": link})
    assert found.operations["createThing"].links == (Link("getLookup", "key", ("thing", "handle")),)
    plan = plan_for_operation("getLookup", found, environment={}, secret_names=(), leftovers=True)
    request = plan.bindings["request"].call
    assert request is not None
    assert request.path == {"key": "{{ data.thing.thing.handle }}"}
    assert any("(its link)" in note for note in plan.notes)
    again = Operation.from_json(found.operations["createThing"].to_json())
    assert again.links == found.operations["createThing"].links


def test_without_a_link_the_parameter_is_refused_not_made_up() -> None:
    found = catalogue({"type": "object", "properties": {"thing": THING}})
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation("getLookup", found, environment={}, secret_names=())
    assert refused.value.reasons == [
        "getLookup {key}: no link, producer or response field fills it, and its schema fixes no value"
    ]


def test_links_that_cannot_be_followed_are_left_out() -> None:
    links = {
        "ref": {"operationRef": "#/paths/~1lookups~1{key}/get", "parameters": {"key": "$response.body#/x"}},
        "header": {"operationId": "getLookup", "parameters": {"key": "$response.header.Location"}},
        "constant": {"operationId": "getLookup", "parameters": {"key": "fixed"}},
        "array": {"operationId": "getLookup", "parameters": {"key": "$response.body#/items/0"}},
        "empty": {"operationId": "getLookup", "parameters": {"key": "$response.body#"}},
        "odd": {"operationId": "getLookup", "parameters": ["key"]},
        "not an object": "getLookup",
    }
    found = catalogue({"type": "object", "properties": {"thing": THING}}, links)
    assert found.operations["createThing"].links == ()
    assert catalogue(THING, "not links").operations["createThing"].links == ()


def test_the_ai_services_builtin_planner_answers_a_refusal_as_invalid_input_saying_which() -> None:
    found = catalogue({"type": "object", "properties": {"thing": THING}})
    request = PlanRequest(
        project_id=str(uuid.uuid4()),
        environment_id=str(uuid.uuid4()),
        test_case=TestCaseRef(name="t", requirements={"operations": ["getLookup"]}),
    )
    with pytest.raises(InvalidInput) as refused:
        builtin_plan(request, {"variables": {}, "secret_names": []}, found)
    assert refused.value.status == 422
    assert "cannot determine getLookup {key}: no link, producer or response field fills it" in str(
        refused.value
    )
