"""What the built-in planner undoes, and what it refuses because nothing could undo it: actions and
sub-resources undone on their own path, log-ins and reading POSTs that create nothing, updates of shared
data read first and written back, deletions of what the plan did not create, and plans of any planner that
would leave something behind."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.kit.egress import EgressPolicy
from orchestra.openapi.operations import Catalogue, Operation, Parameter
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.entities import undoer_of
from orchestra.testdata.planner.undo import left_behind
from orchestra.testdata.plans.dataplan_model import Binding, Call, DataPlan, Request
from orchestra.testdata.provider import PlanUnavailable, Situation, checked_plan

SLUG = Parameter("slug", "path", True, {"type": "string"})
NAME = Parameter("name", "path", True, {"type": "string", "enum": ["main"]})
ARTICLE = {"type": "object", "properties": {"slug": {"type": "string"}, "title": {"type": "string"}}}
USER = {
    "type": "object",
    "properties": {"email": {"type": "string"}, "bio": {"type": "string"}, "password": {"type": "string"}},
}


def catalogue(*operations: Operation) -> Catalogue:
    return Catalogue("t", "0" * 64, {operation.operation_id: operation for operation in operations})


def op(operation_id: str, method: str, path: str, **extra: Any) -> Operation:
    parameters = tuple(p for p in (SLUG, NAME) if "{" + p.name + "}" in path)
    return Operation(operation_id, method, path, parameters=parameters, **extra)


CREATE = op("createArticle", "POST", "/articles", request_schema=ARTICLE, responses={"201": ARTICLE})
DELETE = op("deleteArticle", "DELETE", "/articles/{slug}")
FAVORITE = op("favorite", "POST", "/articles/{slug}/favorite", responses={"200": ARTICLE})
UNFAVORITE = op("unfavorite", "DELETE", "/articles/{slug}/favorite")


def test_an_action_on_an_item_is_undone_by_the_delete_on_its_own_path() -> None:
    found = catalogue(CREATE, DELETE, FAVORITE, UNFAVORITE)
    assert undoer_of(found, FAVORITE) == (UNFAVORITE, None)
    plan = plan_for_operation("favorite", found, environment={}, secret_names=[])
    assert plan.bindings["request"].cleanup == Request(
        operation="unfavorite", path={"slug": "{{ data.article.slug }}"}
    )
    assert "unfavorite undoes what favorite makes (the same path)" in plan.notes
    assert left_behind(plan, found) == []


def test_a_delete_of_a_whole_collection_never_undoes_a_creation_in_it() -> None:
    wipe = op("deleteAllArticles", "DELETE", "/articles")
    assert undoer_of(catalogue(CREATE, wipe), CREATE) is None
    with pytest.raises(PlanRefused, match="nothing undoes what it creates"):
        plan_for_operation("createArticle", catalogue(CREATE, wipe), environment={}, secret_names=[])


@pytest.mark.parametrize(
    ("operation_id", "path"),
    [("searchArticles", "/articles/search"), ("validateOrder", "/orders/validation")],
)
def test_a_post_that_reads_or_checks_creates_nothing(operation_id: str, path: str) -> None:
    reading = op(operation_id, "POST", path, request_schema={"type": "object"}, responses={"200": ARTICLE})
    plan = plan_for_operation(operation_id, catalogue(reading), environment={}, secret_names=[])
    assert plan.bindings["request"].cleanup is None
    assert not any("undo" in note for note in plan.notes)


def test_an_action_of_a_created_item_that_nothing_undoes_goes_with_the_item() -> None:
    upload = op("uploadImage", "POST", "/articles/{slug}/image", responses={"200": ARTICLE})
    found = catalogue(CREATE, DELETE, upload)
    plan = plan_for_operation("uploadImage", found, environment={}, secret_names=[])
    assert plan.bindings["request"].cleanup is None
    assert any("it goes with what it belongs to" in note for note in plan.notes)
    assert left_behind(plan, found) == []


def test_an_update_of_shared_data_is_read_first_and_only_what_is_read_back_is_sent() -> None:
    read = op("getUser", "GET", "/user", responses={"200": {"type": "object", "properties": {"user": USER}}})
    body = {"type": "object", "required": ["user"], "properties": {"user": USER}}
    update = op("updateUser", "PUT", "/user", request_schema=body, responses={"200": body})
    plan = plan_for_operation("updateUser", catalogue(read, update), environment={}, secret_names=[])
    assert plan.bindings["request_before"].lookup is not None
    assert plan.bindings["request_before"].lookup.operation == "getUser"
    request = plan.bindings["request"]
    assert request.depends_on == ["request_before"]
    assert request.cleanup == Request(
        operation="updateUser",
        body={
            "user": {
                "email": "{{ data.request_before['user'].get('email') }}",
                "bio": "{{ data.request_before['user'].get('bio') }}",
            }
        },
    )


def test_an_update_never_changes_credentials_privileges_or_odd_names() -> None:
    props = {
        "email": {"type": "string"},
        "password": {"type": "string"},
        "api_key": {"type": "string"},
        "role": {"type": "string"},
        "pin": {"type": "string", "writeOnly": True},
        "code": {"type": "string", "format": "password"},
        "x'] ~ secrets.t ~ ['": {"type": "string"},
        "bio": {"type": "string"},
    }
    user = {"type": "object", "properties": props}
    read = op("getUser", "GET", "/user", responses={"200": user})
    update = op("updateUser", "PATCH", "/user", request_schema=user)
    plan = plan_for_operation("updateUser", catalogue(read, update), environment={}, secret_names=["email"])
    assert plan.bindings["request"].cleanup == Request(
        operation="updateUser", body={"bio": "{{ data.request_before.get('bio') }}"}
    )


def test_an_update_that_cannot_be_written_back_is_refused_unless_leftovers_are_allowed() -> None:
    answered = {"type": "object", "properties": {"email": {"type": "string"}}}
    needs = {"type": "object", "required": ["email", "password"], "properties": USER["properties"]}
    read = op("getUser", "GET", "/user", responses={"200": answered})
    update = op("updateUser", "PATCH", "/user", request_schema=needs)
    with pytest.raises(PlanRefused) as refused:
        plan_for_operation("updateUser", catalogue(read, update), environment={}, secret_names=[])
    assert refused.value.reasons == [
        "updateUser: it changes something the plan did not create and it requires password, which getUser "
        "does not answer, so the previous value could not be written back; set data.leftovers: true in the "
        "test case to allow that"
    ]
    plan = plan_for_operation(
        "updateUser", catalogue(update), environment={}, secret_names=[], leftovers=True
    )
    assert plan.bindings["request"].cleanup is None
    assert any("it is left in the SUT (the test allows leftovers)" in note for note in plan.notes)


def test_a_delete_of_what_the_plan_did_not_create_is_refused() -> None:
    branch = op("deleteBranch", "DELETE", "/branches/{name}")  # its name is fixed by an enum: "main"
    with pytest.raises(PlanRefused, match="deleteBranch: it deletes something the plan did not create"):
        plan_for_operation("deleteBranch", catalogue(branch), environment={}, secret_names=[])


def test_an_update_on_a_collection_names_a_created_item_by_its_id() -> None:
    pet = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    create = op("addPet", "POST", "/pet", request_schema=pet, responses={"200": pet})
    delete = Operation(
        "deletePet",
        "DELETE",
        "/pet/{petId}",
        parameters=(Parameter("petId", "path", True, {"type": "integer"}),),
    )
    update = op("updatePet", "PUT", "/pet", request_schema=pet, responses={"200": pet})
    plan = plan_for_operation("updatePet", catalogue(create, delete, update), environment={}, secret_names=[])
    call = plan.bindings["request"].call
    assert call is not None
    assert call.body["id"] == "{{ data.pet.id }}"
    assert plan.bindings["pet"].cleanup is not None


def test_any_plan_that_would_create_without_a_cleanup_is_named() -> None:
    found = catalogue(CREATE, DELETE, FAVORITE, UNFAVORITE)
    article = Binding(call=Call(operation="createArticle"))
    favourite = Binding(call=Call(operation="favorite", path={"slug": "{{ data.article.slug }}"}))
    plan = DataPlan(bindings={"article": article, "fav": favourite})
    assert left_behind(plan, found) == [
        "bindings.article: createArticle creates something and has no cleanup",
        "bindings.fav: favorite creates something and has no cleanup",
    ]
    undone = article.model_copy(
        update={"cleanup": Request(operation="deleteArticle", path={"slug": "{{ self.slug }}"})}
    )
    # The favourite belongs to an article the plan deletes: it goes with it.
    assert left_behind(DataPlan(bindings={"article": undone, "fav": favourite}), found) == []


def test_a_plan_of_any_planner_that_would_leave_something_is_not_run_unless_allowed() -> None:
    found = catalogue(CREATE, DELETE)
    situation = Situation(
        found,
        "sut",
        {},
        (),
        EgressPolicy.for_environment("http://sut.example", [], allow_private=False, environment="sut"),
        "t",
        None,
        None,
    )
    leaving = {"bindings": {"article": {"call": {"operation": "createArticle", "body": {"title": "x"}}}}}
    with pytest.raises(PlanUnavailable) as unavailable:
        checked_plan(leaving, situation, leftovers=False)
    assert str(unavailable.value) == (
        "the plan would leave what it creates in the SUT: bindings.article: createArticle creates something "
        "and has no cleanup; add the cleanup that undoes it, or set data.leftovers: true in the test case to "
        "allow that"
    )
    assert checked_plan(leaving, situation, leftovers=True).bindings["article"].cleanup is None
    undone = {
        "article": {
            **leaving["bindings"]["article"],
            "cleanup": {"operation": "deleteArticle", "path": {"slug": "{{ self.slug }}"}},
        }
    }
    assert (
        checked_plan({"bindings": undone}, situation, leftovers=False).bindings["article"].cleanup is not None
    )
