"""Shapes a CMS gives its description that the built-in planner reads (Directus among them): a relation
written as the related item's key or the item itself (left out when optional: a made-up key names nothing),
a field the SUT requires that only the answer's schema describes (learnt from its refusal, sent next time
with a value from that schema), a token field filled with what the log-in answered, and an update of a
sub-path undone with what the path above it reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestra.openapi.operations import Catalogue, Operation, Parameter
from orchestra.testdata.planner.builtin import PlanRefused, plan_for_operation
from orchestra.testdata.planner.refusals import Lessons, learn_from_failures, representation_fields
from orchestra.testdata.values.generator import ValueGenerator, key_or_item


def _catalogue(*operations: Operation) -> Catalogue:
    return Catalogue("t", "0" * 64, {operation.operation_id: operation for operation in operations})


def _envelope(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"data": schema}}


def _delete(operation_id: str, path: str) -> Operation:
    return Operation(
        operation_id, "DELETE", path, parameters=(Parameter("id", "path", True, {"type": "string"}),)
    )


STEP = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "example": "2f24211d-d928-469a-aea3-3c8f53d4e426"},
        "name": {"type": "string", "example": "Log to Console"},
        "type": {"type": "string", "example": "log"},
    },
}
# ``resolve``: the step that follows, as its key or as the step itself.
STEP = {
    **STEP,
    "properties": {
        **STEP["properties"],
        "resolve": {"example": "63716273-0f29-4648-8a2a-2af2948f6f78", "oneOf": [{"type": "string"}, STEP]},
    },
}
STEPS = _catalogue(
    Operation("createStep", "POST", "/steps", request_schema=STEP, responses={"200": _envelope(STEP)}),
    _delete("deleteStep", "/steps/{id}"),
)


def _body(operation_id: str, catalogue: Catalogue, learnt: Lessons | None = None, **kw: Any) -> Any:
    plan = plan_for_operation(operation_id, catalogue, environment={}, seed=1, learnt=learnt, **kw)
    call = plan.bindings["request"].call
    assert call is not None
    return plan, call.body


def test_an_optional_key_or_item_relation_is_left_out() -> None:
    assert key_or_item(STEP["properties"]["resolve"])
    assert not key_or_item({"oneOf": [{"type": "string"}, {"type": "object", "properties": {"x": {}}}]})
    assert not key_or_item({"anyOf": [{"type": "string"}, {"type": "null"}]})
    assert not key_or_item({"type": "string"})
    _, body = _body("createStep", STEPS, secret_names=[])
    assert set(body) == {"name", "type"}  # a made-up key of a step would be refused as a foreign key
    # Nor is one generated inside an object (``PATCH /steps`` with ``{"data": {…}, "keys": […]}``).
    nested = {"type": "object", "properties": {"data": STEP}}
    for seed in range(5):
        assert "resolve" not in ValueGenerator(seed, "t").for_schema(nested)["data"]


FILE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "storage": {"type": "string", "example": "local"},
        "filename_download": {"type": "string", "example": "avatar.jpg"},
        "type": {"type": "string", "example": "image/jpeg"},
        "uploaded_on": {"type": "string", "format": "date-time", "readOnly": True},
    },
}
FILES = _catalogue(
    Operation(
        "createFile",
        "POST",
        "/files",
        request_schema={"type": "object", "properties": {"data": {"type": "string"}}},
        responses={"200": _envelope(FILE)},
    ),
    _delete("deleteFile", "/files/{id}"),
)


def test_a_field_only_the_answer_describes_is_learnt_from_a_refusal_and_sent_next_time() -> None:
    create = FILES.get("createFile")
    assert create is not None
    assert set(representation_fields(create)) == {"storage", "filename_download", "type"}
    lessons = Lessons()
    refusals = [
        {"errors": [{"message": 'Invalid payload. "type" is required.'}]},
        {
            "errors": [
                {"extensions": {"field": "storage", "type": "required"}},
                {"message": '"id" is required'},
            ]
        },
    ]
    learnt = [
        learn_from_failures(
            lessons, [{"operation": "createFile", "status": 400, "response_body": body}], FILES
        )
        for body in refusals
    ]
    assert learnt == [["createFile: type missing"], ["createFile: storage missing"]]  # never the id
    plan, body = _body("createFile", FILES, lessons, secret_names=[])
    assert set(body) == {"data", "type", "storage"}
    fields = plan.bindings["request_fields"].generate
    assert fields is not None
    assert fields.json_schema is not None
    assert fields.json_schema["properties"]["storage"]["example"] == "local"
    lesson = "learnt from the SUT: createFile needs type, storage (it refused a body without them)"
    assert lesson in plan.notes
    # A repair made from the plan's notes still sends them.
    _, again = _body("createFile", FILES, Lessons.from_notes(plan.notes), secret_names=[])
    assert set(again) == {"data", "type", "storage"}


def test_nothing_is_learnt_beyond_what_the_body_or_its_answer_describes() -> None:
    lessons = Lessons()
    refusal = {"errors": [{"message": '"checksum" is required'}, {"message": '"uploaded_on" is required'}]}
    failure = {"operation": "createFile", "status": 400, "response_body": json.dumps(refusal)}
    assert learn_from_failures(lessons, [failure], FILES) == []
    bare = Operation(
        "createBlob", "POST", "/blobs", request_schema={"type": "string"}, responses={"200": FILE}
    )
    assert representation_fields(bare) == {}  # a body that is no object has nowhere to put a field


LOGIN_ANSWER = _envelope(
    {
        "type": "object",
        "properties": {"access_token": {"type": "string"}, "refresh_token": {"type": "string"}},
    }
)
CREDENTIALS = {
    "type": "object",
    "required": ["email", "password"],
    "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
}
SESSION = _catalogue(
    Operation("login", "POST", "/auth/login", request_schema=CREDENTIALS, responses={"200": LOGIN_ANSWER}),
    Operation(
        "refresh",
        "POST",
        "/auth/refresh",
        request_schema={
            "type": "object",
            "properties": {
                "refresh_token": {"type": "string", "example": "eyJ0eXAiOiJKV..."},
                "mode": {"type": "string", "enum": ["json", "cookie"], "default": "json"},
            },
        },
        responses={"200": LOGIN_ANSWER},
    ),
    Operation(
        "hello",
        "POST",
        "/hello",
        request_schema={"type": "object", "properties": {"greeting_token": {"type": "string"}}},
        responses={"200": None},
        security=("bearer",),
    ),
)


def test_a_token_field_is_what_the_log_in_answered() -> None:
    plan, body = _body("refresh", SESSION, secret_names=["email", "password"])
    assert body["refresh_token"] == "{{ data.auth.data.refresh_token }}"
    auth = plan.bindings["auth"].call
    assert auth is not None
    assert auth.operation == "login"
    # Without credentials there is no log-in: the documented example is sent (the SUT judges it).
    _, bare = _body("refresh", SESSION, secret_names=[])
    assert bare["refresh_token"] != "{{ data.auth.data.refresh_token }}"
    # A token the log-in does not answer is not taken from it.
    _, other = _body("hello", SESSION, secret_names=["email", "password"], leftovers=True)
    assert "auth.data" not in json.dumps(other)


ME = {"type": "object", "properties": {"id": {"type": "string"}, "last_page": {"type": "string"}}}
TRACK = {"type": "object", "properties": {"last_page": {"type": "string"}}}
PROFILE = _catalogue(
    Operation("getMe", "GET", "/users/me", responses={"200": _envelope(ME)}),
    Operation("trackPage", "PATCH", "/users/me/track/page", request_schema=TRACK, responses={"200": None}),
    Operation(
        "trackOther",
        "PATCH",
        "/users/me/track/other",
        request_schema={"type": "object", "properties": {"other": {"type": "string"}}},
        responses={"200": None},
    ),
)


def test_an_update_of_a_sub_path_is_undone_with_what_the_path_above_reads() -> None:
    plan, body = _body("trackPage", PROFILE, secret_names=[])
    before = plan.bindings["request_before"].lookup
    assert before is not None
    assert before.operation == "getMe"
    cleanup = plan.bindings["request"].cleanup
    assert cleanup is not None
    assert cleanup.operation == "trackPage"
    assert cleanup.body == {"last_page": "{{ data.request_before['data'].get('last_page') }}"}
    assert set(body) == {"last_page"}
    # What the path above does not answer is not guessed: the update stays refused.
    with pytest.raises(PlanRefused, match="getMe answers none of the fields it sends"):
        plan_for_operation("trackOther", PROFILE, environment={}, secret_names=[], seed=1)


def test_a_field_the_read_may_answer_null_is_not_changed_when_the_update_cannot_send_null() -> None:
    nullable = {**ME, "properties": {**ME["properties"], "last_page": {"type": "string", "nullable": True}}}
    getter = Operation("getMe", "GET", "/users/me", responses={"200": _envelope(nullable)})
    catalogue = _catalogue(getter, *(op for op in PROFILE.operations.values() if op.method != "GET"))
    # A null before could not be written back: the user would keep the page the plan sent.
    with pytest.raises(PlanRefused, match="getMe may answer last_page as null, which it cannot send back"):
        plan_for_operation("trackPage", catalogue, environment={}, secret_names=[], seed=1)
    takes_null = {"type": "object", "properties": {"last_page": {"type": ["string", "null"]}}}
    allowed = _catalogue(
        getter, Operation("trackPage", "PATCH", "/users/me/track/page", request_schema=takes_null)
    )
    plan = plan_for_operation("trackPage", allowed, environment={}, secret_names=[], seed=1)
    assert plan.bindings["request"].cleanup is not None


COLLECTION = {
    "type": "object",
    "properties": {"collection": {"type": "string", "example": "articles"}, "note": {"type": "string"}},
}
PRESET = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "collection": {"type": "string"}, "title": {"type": "string"}},
}
GRANT = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "collection": {"type": "string"}, "action": {"type": "string"}},
}
SCHEMA = _catalogue(
    Operation(
        "createCollection",
        "POST",
        "/collections",
        request_schema=COLLECTION,
        responses={"200": _envelope(COLLECTION)},
    ),
    Operation(
        "getCollections",
        "GET",
        "/collections",
        responses={"200": {"type": "object", "properties": {"data": {"type": "array", "items": COLLECTION}}}},
    ),
    Operation(
        "getCollection",
        "GET",
        "/collections/{id}",
        parameters=(Parameter("id", "path", True, {"type": "string"}),),
        responses={"200": _envelope(COLLECTION)},
    ),
    _delete("deleteCollection", "/collections/{id}"),
    Operation(
        "updateCollection",
        "PATCH",
        "/collections/{id}",
        parameters=(Parameter("id", "path", True, {"type": "string"}),),
        request_schema=COLLECTION,
        responses={"200": _envelope(COLLECTION)},
    ),
    Operation(
        "getFields",
        "GET",
        "/fields/{collection}",
        parameters=(Parameter("collection", "path", True, {"type": "string"}),),
        responses={"200": None},
    ),
    Operation(
        "createPreset", "POST", "/presets", request_schema=PRESET, responses={"200": _envelope(PRESET)}
    ),
    _delete("deletePreset", "/presets/{id}"),
    Operation("createGrant", "POST", "/grants", request_schema=GRANT, responses={"200": _envelope(GRANT)}),
    _delete("deleteGrant", "/grants/{id}"),
)


def _call(plan: Any, name: str) -> Any:
    call = plan.bindings[name].call
    assert call is not None
    return call


def test_a_path_parameter_named_after_an_entity_is_that_entitys_key() -> None:
    plan = plan_for_operation("getFields", SCHEMA, environment={}, secret_names=[], seed=1)
    # The collection made for it, not a preset's ``collection`` (a made-up name of a collection).
    assert _call(plan, "collection").operation == "createCollection"
    assert _call(plan, "request").path == {"collection": "{{ data.collection.data.collection }}"}
    # A collection is deleted by its key, the field named after it (it has no ``id``).
    cleanup = plan.bindings["collection"].cleanup
    assert cleanup is not None
    assert cleanup.path == {"id": "{{ self.data.collection }}"}


def test_a_creation_the_sut_forbids_this_user_is_learnt_from_its_403() -> None:
    lessons = Lessons()
    forbidden = {"errors": [{"message": "You don't have permission to access this."}]}
    failures = [
        {"operation": "createCollection", "status": 403, "response_body": forbidden},
        {"operation": "getCollection", "status": 403, "response_body": forbidden},  # a read: no lesson
    ]
    assert learn_from_failures(lessons, failures, SCHEMA) == ["createCollection: forbidden"]
    assert learn_from_failures(lessons, failures, SCHEMA) == []  # once
    assert lessons.forbidden == ["createCollection"]
    note = "learnt from the SUT: createCollection is forbidden to this user (it answered 403)"
    assert Lessons.from_notes([note]).forbidden == ["createCollection"]


def test_what_needs_a_kind_this_user_may_not_create_reads_an_existing_one() -> None:
    lessons = Lessons()
    lessons.forbid("createCollection")
    lookup = {"operation": "getCollections", "select": "$.data[0].collection"}
    for operation_id in ("getFields", "getCollection"):
        plan = plan_for_operation(
            operation_id, SCHEMA, environment={}, secret_names=[], seed=1, learnt=lessons
        )
        found = plan.bindings["collection_found"].lookup
        assert found is not None
        assert found.model_dump(exclude_none=True, exclude_defaults=True) == lookup
        assert "createCollection" not in json.dumps(plan.model_dump(mode="json")["bindings"])
        note = "learnt from the SUT: createCollection is forbidden to this user (it answered 403)"
        assert note in plan.notes  # a repair made from the plan's notes still knows it
    # A body field the SUT said refers to one takes the existing one; what the grant makes is still undone.
    lessons.needs["createGrant"] = ["collection"]
    plan = plan_for_operation("createGrant", SCHEMA, environment={}, secret_names=[], seed=1, learnt=lessons)
    assert _call(plan, "request").body["collection"] == "{{ data.collection_found }}"
    assert plan.bindings["request"].cleanup is not None
    # An existing one is only read: not changed, not deleted.
    for operation_id in ("updateCollection", "deleteCollection"):
        with pytest.raises(PlanRefused, match="may not create"):
            plan_for_operation(operation_id, SCHEMA, environment={}, secret_names=[], seed=1, learnt=lessons)


def _id_path(name: str) -> Parameter:
    return Parameter(name, "path", True, {"type": "string"})


def test_a_name_every_resource_has_or_an_enum_is_no_entitys_key() -> None:
    key = {"type": "object", "properties": {"id": {"type": "integer"}, "key": {"type": "string"}}}
    setting = {"type": "object", "properties": {"value": {"type": "string"}}}
    kinds = {"type": "string", "enum": ["a", "b"]}
    catalogue = _catalogue(
        Operation("createKey", "POST", "/keys", request_schema=key, responses={"201": key}),
        _delete("deleteKey", "/keys/{id}"),
        Operation("createType", "POST", "/types", request_schema=key, responses={"201": key}),
        _delete("deleteType", "/types/{id}"),
        Operation(
            "putSetting", "PUT", "/settings/{key}", parameters=(_id_path("key"),), request_schema=setting
        ),
        Operation(
            "getByType",
            "GET",
            "/things/{type}",
            parameters=(Parameter("type", "path", True, kinds),),
            responses={"200": None},
        ),
    )
    # ``{key}`` of a setting is no key the plan makes: nothing determines it, so the upsert is refused
    # (creating a key and upserting the setting of that name would leave the setting behind).
    with pytest.raises(PlanRefused, match=r"putSetting \{key\}"):
        plan_for_operation("putSetting", catalogue, environment={}, secret_names=[], seed=1)
    plan = plan_for_operation("getByType", catalogue, environment={}, secret_names=[], seed=1)
    assert "createType" not in json.dumps(plan.model_dump(mode="json")["bindings"])  # its enum gives it


def test_a_field_named_after_the_entity_keys_it_only_when_it_is_a_scalar() -> None:
    order = {
        "type": "object",
        "properties": {
            "order": {"type": "object", "properties": {"total": {"type": "integer"}}},
            "links": {"type": "object"},
        },
    }
    catalogue = _catalogue(
        Operation(
            "createOrder", "POST", "/orders", request_schema={"type": "object"}, responses={"201": order}
        ),
        _delete("deleteOrder", "/orders/{id}"),
    )
    plan = plan_for_operation("createOrder", catalogue, environment={}, secret_names=[], seed=1)
    cleanup = plan.bindings["request"].cleanup
    assert cleanup is not None
    assert cleanup.path == {"id": "{{ self.id }}"}  # unrenderable: kept as manual, never a 404 "gone"


def test_a_bulk_update_whose_items_this_user_may_not_make_is_refused() -> None:
    folder = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
    bulk = {
        "type": "object",
        "properties": {"keys": {"type": "array", "items": {"type": "string"}}, "data": folder},
    }
    listing = {"type": "object", "properties": {"data": {"type": "array", "items": folder}}}
    catalogue = _catalogue(
        Operation(
            "createFolder", "POST", "/folders", request_schema=folder, responses={"200": _envelope(folder)}
        ),
        Operation("getFolders", "GET", "/folders", responses={"200": listing}),
        Operation("updateFolders", "PATCH", "/folders", request_schema=bulk, responses={"200": listing}),
        _delete("deleteFolder", "/folders/{id}"),
    )
    lessons = Lessons()
    lessons.forbid("createFolder")
    # Sent without keys it might change every folder, which reading the listing could not write back.
    with pytest.raises(PlanRefused, match="it changes the items its body names"):
        plan_for_operation(
            "updateFolders", catalogue, environment={}, secret_names=[], seed=1, learnt=lessons
        )
    # The creation itself is still tried (its own call is what is measured), and the lesson kept.
    plan = plan_for_operation(
        "createFolder", catalogue, environment={}, secret_names=[], seed=1, learnt=lessons
    )
    assert Lessons.from_notes(plan.notes).forbidden == ["createFolder"]


def test_a_path_above_restores_only_a_field_it_describes_as_the_update_does() -> None:
    user = {"type": "object", "properties": {"name": {"type": "string"}}}
    theme = {"type": "object", "properties": {"name": {"type": "string", "enum": ["dark", "light"]}}}
    catalogue = _catalogue(
        Operation("getMe", "GET", "/users/me", responses={"200": user}),
        Operation("setTheme", "PUT", "/users/me/preferences/theme", request_schema=theme),
    )
    # The user's ``name`` is not the theme's: writing it back would set the theme to the user's name.
    with pytest.raises(PlanRefused, match="getMe answers none of the fields it sends"):
        plan_for_operation("setTheme", catalogue, environment={}, secret_names=[], seed=1)


def test_no_token_of_the_log_in_goes_to_a_sign_out_or_a_field_named_token() -> None:
    body = {
        "type": "object",
        "properties": {"refresh_token": {"type": "string"}, "token": {"type": "string"}},
    }
    answer = _envelope(
        {"type": "object", "properties": {"access_token": {}, "refresh_token": {}, "token": {}}}
    )
    catalogue = _catalogue(
        *(op for op in SESSION.operations.values() if op.operation_id == "login"),
        Operation("logout", "POST", "/auth/logout", request_schema=body, responses={"204": None}),
        Operation("verify", "POST", "/email/verify", request_schema=body, responses={"200": answer}),
    )
    for operation_id in ("logout", "verify"):
        plan = plan_for_operation(
            operation_id,
            catalogue,
            environment={},
            secret_names=["email", "password"],
            seed=1,
            leftovers=True,
        )
        body_sent = json.dumps(plan.model_dump(mode="json")["bindings"]["request"]["call"].get("body"))
        if operation_id == "logout":
            assert "data.auth" not in body_sent  # it would end the session the plan's cleanups use
        else:
            assert "data.auth.data.refresh_token" in body_sent
            assert "data.auth.data.token" not in body_sent  # ``token`` may be an e-mail's
