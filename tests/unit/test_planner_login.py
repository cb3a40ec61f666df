"""Finding the log-in in a description and sending each security scheme as declared: the shapes of
applications the planner was not written for, and descriptions that mislead (no log-in, two of them, the
token in a header, a password going nowhere)."""

from __future__ import annotations

from typing import Any

import pytest

from orchestra.definitions.testcase_model import DataRequirements
from orchestra.openapi.catalogue import build_catalogue
from orchestra.openapi.operations import Catalogue, SecurityScheme
from orchestra.testdata.planner.builtin import plan_for, plan_for_operation
from orchestra.testdata.planner.login import body_fields, choose_login, login_candidates, token_path
from orchestra.testdata.planner.security import shown_prefix
from orchestra.testdata.plans.validate import validate_plan

REALWORLD_SCHEME = {
    "type": "apiKey",
    "in": "header",
    "name": "Authorization",
    "description": "A JWT from /users/login, in this format:\n\n    Token xxxxxx.yyyyyyy.zzzzzz\n",
}
ARTICLE = {"type": "object", "properties": {"slug": {"type": "string"}, "title": {"type": "string"}}}


def envelope(key: str, properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        inner["required"] = required
    return {"type": "object", "required": [key], "properties": {key: inner}}


CREDENTIALS = envelope(
    "user", {"email": {"type": "string"}, "password": {"type": "string"}}, ["email", "password"]
)
SIGNED_IN = envelope("user", {"email": {"type": "string"}, "token": {"type": "string"}})


def post(operation_id: str, body: Any, answer: Any, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = {"description": "ok"}
    if answer is not None:
        response["content"] = {"application/json": {"schema": answer}}
    response.update(extra.pop("response", {}))
    operation: dict[str, Any] = {"operationId": operation_id, "responses": {"200": response}, **extra}
    if body is not None:
        operation["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return {"post": operation}


def described(paths: dict[str, Any], scheme: dict[str, Any] | None = None) -> Catalogue:
    """A description whose ``POST /articles`` needs ``scheme`` (the RealWorld one by default)."""
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/articles": post("createArticle", ARTICLE, ARTICLE, security=[{"Token": []}]),
            "/articles/{slug}": {
                "delete": {
                    "operationId": "deleteArticle",
                    "parameters": [
                        {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"204": {"description": "deleted"}},
                    "security": [{"Token": []}],
                }
            },
            **paths,
        },
        "components": {"securitySchemes": {"Token": scheme or REALWORLD_SCHEME}},
    }
    return build_catalogue(document)


REALWORLD = {"/users/login": post("login", CREDENTIALS, SIGNED_IN, security=[])}


def test_a_log_in_with_an_enveloped_body_and_token_is_planned_first_and_its_token_sent_as_declared() -> None:
    catalogue = described(REALWORLD)
    plan = plan_for_operation("createArticle", catalogue, environment={}, secret_names=["email", "password"])
    auth = plan.bindings["auth"].call
    assert auth is not None
    assert auth.operation == "login"
    assert auth.body == {"user": {"email": "{{ secrets.email }}", "password": "{{ secrets.password }}"}}
    assert auth.capture == {}  # the answer as it is: the token is read at its path
    assert next(iter(plan.bindings)) == "auth"
    assert plan.defaults.headers == {"Authorization": "Token {{ data.auth.user.token }}"}
    assert "the log-in is login (it answers a token at $.user.token)" in plan.notes
    assert validate_plan(plan, catalogue, None) == []
    # Variables serve as credentials too; secrets come first.
    plan = plan_for_operation(
        "createArticle", catalogue, environment={"email": "a@b.c", "password": "x"}, secret_names=["password"]
    )
    assert plan.bindings["auth"].call.body == {
        "user": {"email": "{{ env.email }}", "password": "{{ secrets.password }}"}
    }


def test_the_token_prefix_variable_wins_over_the_description_and_a_login_token_is_a_bearer() -> None:
    catalogue = described(REALWORLD)
    plan = plan_for_operation(
        "createArticle", catalogue, environment={"token_prefix": "JWT"}, secret_names=["email", "password"]
    )
    assert plan.defaults.headers == {"Authorization": "{{ env.token_prefix }} {{ data.auth.user.token }}"}
    plain = described(REALWORLD, {**REALWORLD_SCHEME, "description": "The token of the log-in."})
    plan = plan_for_operation("createArticle", plain, environment={}, secret_names=["email", "password"])
    # The Authorization header names its scheme first: a log-in's token, described as nothing else, is
    # a bearer token; a key of the environment goes as it is (some APIs take a bare key there).
    assert plan.defaults.headers == {"Authorization": "Bearer {{ data.auth.user.token }}"}
    plan = plan_for_operation("createArticle", plain, environment={}, secret_names=["api_key"])
    assert plan.defaults.headers == {"Authorization": "{{ secrets.api_key }}"}


@pytest.mark.parametrize(
    ("description", "prefix"),
    [
        ("Format:\n\n    Token xxxxxx.yyyyyyy.zzzzzz", "Token"),
        ("Send `Bearer <jwt>` in the header.", "Bearer"),
        ("e.g. JWT eyJhbGciOiJIUzI1NiJ9.e30.x", "JWT"),
        ("Authorization: Token {token}", "Token"),
        ("Authorization: <token>", None),  # the header's own name is not a prefix
        ("The token you get when you log in.", None),  # prose, no placeholder
        ("", None),
    ],
)
def test_a_prefix_is_read_only_where_the_description_shows_the_value(
    description: str, prefix: str | None
) -> None:
    scheme = SecurityScheme(
        "Token", "apiKey", location="header", parameter="Authorization", description=description
    )
    assert shown_prefix(scheme) == prefix


def test_without_a_log_in_the_plan_says_so_instead_of_sending_credentials_nowhere() -> None:
    catalogue = described({})
    plan = plan_for_operation("createArticle", catalogue, environment={}, secret_names=["email", "password"])
    assert plan.defaults.headers == {}
    assert "auth" not in plan.bindings
    assert any("no operation answers a token for credentials" in note for note in plan.notes)


def test_a_password_that_answers_no_token_is_no_log_in() -> None:
    catalogue = described({"/users/password": post("changePassword", CREDENTIALS, {"type": "object"})})
    assert login_candidates(catalogue) == []


def test_a_log_in_missing_a_credential_names_the_secret_to_set() -> None:
    plan = plan_for_operation(
        "createArticle", described(REALWORLD), environment={}, secret_names=["password"]
    )
    assert "auth" not in plan.bindings
    assert (
        "Token: put an API key in a secret named api_key (sent in the header); "
        "or log in: login needs user.email: set secrets named email"
    ) in plan.notes


def test_of_a_sign_up_and_a_log_in_the_log_in_is_chosen() -> None:
    sign_up = envelope(
        "user",
        {"email": {"type": "string"}, "password": {"type": "string"}, "username": {"type": "string"}},
        ["email", "password", "username"],
    )
    catalogue = described({**REALWORLD, "/users": post("createUser", sign_up, SIGNED_IN)})
    assert [login.operation_id for login in login_candidates(catalogue)] == ["login", "createUser"]
    # Even when no scheme's description names it: a sign-up asks for more than a log-in.
    plain = described(
        {
            "/users/signin": post("signIn", CREDENTIALS, SIGNED_IN),
            "/users": post("register", sign_up, SIGNED_IN),
        },
        {**REALWORLD_SCHEME, "description": ""},
    )
    assert choose_login(plain, {})[0].operation_id == "signIn"


def test_two_equally_likely_log_ins_are_not_guessed_between() -> None:
    catalogue = described(
        {
            "/login": post("logIn", CREDENTIALS, SIGNED_IN),
            "/session": post("openSession", CREDENTIALS, SIGNED_IN),
        },
        {**REALWORLD_SCHEME, "description": ""},
    )
    found, why = choose_login(catalogue, {})
    assert found is None
    assert (
        why == "logIn and openSession could both be the log-in; "
        "set the variable login_operation to the one to use"
    )
    plan = plan_for_operation("createArticle", catalogue, environment={}, secret_names=["email", "password"])
    assert "auth" not in plan.bindings
    chosen = plan_for_operation(
        "createArticle",
        catalogue,
        environment={"login_operation": "openSession"},
        secret_names=["email", "password"],
    )
    assert chosen.bindings["auth"].call.operation == "openSession"
    # Neither is chosen, yet neither is a creation: logging in makes nothing to undo.
    for operation in ("logIn", "openSession"):
        own = plan_for_operation(operation, catalogue, environment={}, secret_names=["email", "password"])
        assert own.bindings["request"].cleanup is None
        assert not [note for note in own.notes if "undo" in note or "left in" in note]
    wrong, why = choose_login(catalogue, {"login_operation": "createArticle"})
    assert wrong is None
    assert (
        why == "login_operation names createArticle, which answers no token for credentials "
        "(candidates: logIn, openSession)"
    )


def test_a_token_in_a_response_header_is_captured_from_the_header() -> None:
    headers = {"X-Auth-Token": {"schema": {"type": "string"}}, "X-CSRF-Token": {"schema": {"type": "string"}}}
    catalogue = described({"/login": post("logIn", CREDENTIALS, None, response={"headers": headers})})
    plan = plan_for_operation("createArticle", catalogue, environment={}, secret_names=["email", "password"])
    assert plan.bindings["auth"].call.capture == {"token": "header:X-Auth-Token"}
    assert plan.defaults.headers == {"Authorization": "Token {{ data.auth.token }}"}
    assert validate_plan(plan, catalogue, None) == []
    # A CSRF token is not the log-in's token.
    csrf = {"X-CSRF-Token": {"schema": {"type": "string"}}}
    assert (
        login_candidates(described({"/login": post("logIn", CREDENTIALS, {}, response={"headers": csrf})}))
        == []
    )


def test_token_and_credential_fields_are_found_through_objects_but_not_arrays_or_too_deep() -> None:
    assert token_path(SIGNED_IN) == ("user", "token")
    assert token_path({"type": "object", "properties": {"accessToken": {}}}) == ("accessToken",)
    in_array = {"type": "object", "properties": {"tokens": {"type": "array", "items": SIGNED_IN}}}
    assert token_path(in_array) is None
    deep: dict[str, Any] = {"type": "object", "properties": {"token": {"type": "string"}}}
    for name in ("a", "b", "c", "d"):
        deep = {"type": "object", "properties": {name: deep}}
    assert token_path(deep) is None
    assert token_path(None) is None
    combined = {"allOf": [CREDENTIALS, {"type": "object", "properties": {"remember": {"type": "boolean"}}}]}
    assert body_fields(combined) == (
        [("user", "email"), ("user", "password"), ("remember",)],
        [("user", "email"), ("user", "password")],
    )


@pytest.mark.parametrize(
    ("scheme", "headers", "query"),
    [
        ({"type": "http", "scheme": "bearer"}, {"Authorization": "Bearer {{ data.auth.user.token }}"}, {}),
        ({"type": "apiKey", "in": "cookie", "name": "sid"}, {"Cookie": "sid={{ data.auth.user.token }}"}, {}),
        ({"type": "apiKey", "in": "query", "name": "key"}, {}, {"key": "{{ data.auth.user.token }}"}),
    ],
)
def test_each_scheme_is_sent_where_it_is_declared(
    scheme: dict[str, Any], headers: dict[str, str], query: dict[str, str]
) -> None:
    catalogue = described(REALWORLD, scheme)
    plan = plan_for_operation("createArticle", catalogue, environment={}, secret_names=["email", "password"])
    request = plan.bindings["request"].call
    assert request is not None
    assert plan.defaults.headers == headers
    assert request.query == query  # the defaults carry headers only: a query key goes on each request
    assert validate_plan(plan, catalogue, None) == []


def test_http_basic_is_sent_from_the_username_and_password_secrets() -> None:
    catalogue = described({}, {"type": "http", "scheme": "basic"})
    plan = plan_for_operation(
        "createArticle", catalogue, environment={}, secret_names=["username", "password"]
    )
    assert plan.defaults.headers == {
        "Authorization": "Basic {{ (secrets.username ~ ':' ~ secrets.password) | b64encode }}"
    }
    none = plan_for_operation("createArticle", catalogue, environment={}, secret_names=["password"])
    assert none.defaults.headers == {}
    assert "Token: HTTP basic needs the secrets username and password" in none.notes


def test_a_test_of_the_log_in_itself_sends_the_environments_credentials() -> None:
    plan = plan_for(
        DataRequirements(operations=["login"]),
        described(REALWORLD),
        environment={},
        secret_names=["email", "password"],
    )
    assert plan.bindings["login"].value["body"] == {
        "user": {"email": "{{ secrets.email }}", "password": "{{ secrets.password }}"}
    }


def test_a_scheme_that_is_not_planned_is_named_by_its_type() -> None:
    catalogue = described({}, {"type": "mutualTLS"})
    plan = plan_for_operation("createArticle", catalogue, environment={}, secret_names=[])
    assert "Token: HTTP mutualTLS auth is not planned; set a default header" in plan.notes
