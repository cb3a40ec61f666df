"""Postman collections (v2.0 and v2.1, with environment and globals files) read as one Orchestra test case:
folders and order, variables by Postman's precedence, inherited auth, every body mode, plain assertion
scripts as checks, and every hostile file refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestra.definitions.loader import parse_document
from orchestra.importers.convert import from_postman, yaml_files
from orchestra.importers.postman_files import MAX_POSTMAN_BYTES, MAX_SCRIPT_CHARS
from orchestra.importers.requests import ImportRefused, ImportResult
from orchestra.steps.templating import render_value

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "postman"
V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
V20 = "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"


def collection(items: list[Any], schema: str = V21, **extra: Any) -> bytes:
    return json.dumps({"info": {"name": "c", "schema": schema}, "item": items, **extra}).encode()


def request(name: str, url: str = "{{host}}/x", **fields: Any) -> dict[str, Any]:
    return {"name": name, "request": {"method": "GET", "url": url, **fields}}


def variables_file(**values: str) -> bytes:
    return json.dumps(
        {"values": [{"key": k, "value": v, "enabled": True} for k, v in values.items()]}
    ).encode()


def imported(content: bytes, **files: bytes) -> dict[str, Any]:
    result = from_postman(content, name="c.json", environment=files.get("env"), globals_=files.get("glob"))
    assert len(result.files) == 1
    return result.files[0].definition


def test_the_shop_collection_becomes_one_valid_test_case_of_its_requests_in_folder_order() -> None:
    result = from_postman(
        (FIXTURES / "shop.postman_collection.json").read_bytes(),
        name="shop.postman_collection.json",
        environment=(FIXTURES / "shop.postman_environment.json").read_bytes(),
    )
    [(file_name, text)] = yaml_files(result)
    assert file_name == "demo-shop.yaml"
    assert parse_document(text, file_name) is not None  # what is written loads as it is
    definition = result.files[0].definition
    assert [step["name"] for step in definition["steps"]] == [
        "Auth / log in",
        "Items / create item",
        "Items / read item",
        "Items / list with an api key too",
        "Items / delete item",
        "Bodies / form",
        "Bodies / multipart",
        "Bodies / graphql",
        "Bodies / basic auth",
    ]
    assert definition["defaults"] == {"auth": {"bearer": {"token": "{{ token }}"}}}
    login, create, read, listing, delete, form, multipart, graphql, basic = definition["steps"]
    assert login["request"]["auth"] is None  # the folder's noauth
    assert "X-Disabled" not in login["request"]["headers"]
    assert login["request"]["headers"]["X-Trace"] == "{{ uuid4() }}"
    assert login["request"]["body"] == '{"username": "{{ username }}", "password": "{{ password }}"}'
    assert login["capture"] == {"token": "$.access_token"}
    assert login["expect"]["status"] == 200
    assert {"path": "$.token_type", "name": "a bearer token", "equals": "bearer"} in login["expect"]["json"]
    assert create["expect"]["status"] == 201
    assert create["capture"] == {"item_id": "$.id"}
    assert "auth" not in create["request"]  # inherits the collection's
    assert read["request"]["url"] == "{{ base_url }}/items/{{ item_id }}"  # path variable, renamed variable
    assert read["request"]["query"] == {"trace": "{{ timestamp() }}"}  # the disabled one dropped
    assert "expect" not in listing  # its script has a statement with no declarative form: kept
    assert "pm.response.to.have.header" in listing["test_script"]
    assert delete["expect"] == {"status": 204}
    assert form["request"]["form"] == {"color": "blue"}
    assert multipart["request"]["multipart"] == {"weather": "sunny"}
    assert graphql["request"]["json"] == {"query": "query { items(first: $n) { id } }", "variables": {"n": 3}}
    assert basic["request"]["auth"] == {
        "basic": {"username": "{{ username }}", "password": "{{ secrets.password_2 }}"}
    }
    assert [(s.name, s.source) for s in result.secrets] == [
        ("password", "environment value password"),
        ("password_2", "request 'Bodies / basic auth' basic"),
    ]
    assert "demo-password" not in "".join(text for _, text in yaml_files(result))
    assert definition["variables"]["password"] == "{{ secrets.password }}"  # read by scripts too
    assert definition["variables"]["base_url"] == "http://localhost:1"
    assert "1 request(s) keep a test script as JavaScript" in " ".join(result.notes)
    assert any("base-url → base_url" in note for note in result.notes)


def test_variables_follow_postmans_precedence_global_then_collection_then_environment() -> None:
    content = collection(
        [request("r")],
        variable=[{"key": "a", "value": "collection"}, {"key": "b", "value": "collection"}],
    )
    definition = imported(
        content, env=variables_file(a="environment"), glob=variables_file(a="global", b="global", c="global")
    )
    assert definition["variables"] == {"a": "environment", "b": "collection", "c": "global"}


def test_a_variable_referring_to_another_is_written_after_it_and_renders() -> None:
    content = collection(
        [request("r")],
        variable=[{"key": "url", "value": "{{host}}/v1"}, {"key": "host", "value": "http://h"}],
    )
    definition = imported(content)
    assert list(definition["variables"]) == ["host", "url"]
    assert render_value("{{ url }}", {"host": "http://h", "url": "http://h/v1"}) == "http://h/v1"


def test_reserved_and_odd_variable_names_become_template_names() -> None:
    content = collection(
        [request("r", url="http://h/{{env}}/{{user.id}}/{{1st}}")],
        variable=[
            {"key": "env", "value": "e"},
            {"key": "user.id", "value": "7"},
            {"key": "1st", "value": "x"},
        ],
    )
    step = imported(content)["steps"][0]
    assert step["request"]["url"] == "http://h/{{ pm_env }}/{{ user_id }}/{{ pm_1st }}"


def test_a_v2_0_collection_with_mapping_auth_and_a_url_string_is_read() -> None:
    content = collection(
        [{"name": "r", "request": "http://h/ping"}],
        schema=V20,
        auth={"type": "apikey", "apikey": {"key": "X-Key", "value": "{{k}}", "in": "header"}},
    )
    definition = imported(content)
    assert definition["defaults"]["auth"] == {
        "api_key": {"name": "X-Key", "value": "{{ k }}", "in": "header"}
    }
    assert definition["steps"][0]["request"] == {"method": "GET", "url": "http://h/ping"}
    assert "v2.0" in definition["description"]


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (
            {"type": "bearer", "bearer": [{"key": "token", "value": "{{t}}"}]},
            {"bearer": {"token": "{{ t }}"}},
        ),
        (
            {"type": "oauth2", "oauth2": [{"key": "accessToken", "value": "{{t}}"}]},
            {"bearer": {"token": "{{ t }}"}},
        ),
        (
            {
                "type": "oauth2",
                "oauth2": [
                    {"key": "accessToken", "value": "{{t}}"},
                    {"key": "headerPrefix", "value": "Token"},
                ],
            },
            {"api_key": {"name": "Authorization", "value": "Token {{ t }}", "in": "header"}},
        ),
        (
            {
                "type": "oauth2",
                "oauth2": [
                    {"key": "accessToken", "value": "{{t}}"},
                    {"key": "addTokenTo", "value": "queryParams"},
                ],
            },
            {"api_key": {"name": "access_token", "value": "{{ t }}", "in": "query"}},
        ),
        (
            {
                "type": "apikey",
                "apikey": [
                    {"key": "key", "value": "k"},
                    {"key": "value", "value": "{{v}}"},
                    {"key": "in", "value": "query"},
                ],
            },
            {"api_key": {"name": "k", "value": "{{ v }}", "in": "query"}},
        ),
    ],
)
def test_auth_kinds_are_mapped_to_the_auth_helpers(auth: dict[str, Any], expected: dict[str, Any]) -> None:
    step = imported(collection([request("r", url="http://h/x", auth=auth)]))["steps"][0]
    assert step["request"]["auth"] == expected


def test_a_literal_bearer_token_becomes_a_secret_and_an_unsupported_auth_kind_is_noted() -> None:
    content = collection(
        [
            request(
                "r",
                url="http://h/x",
                auth={"type": "bearer", "bearer": [{"key": "token", "value": "abc.def"}]},
            ),
            request("d", url="http://h/y", auth={"type": "digest", "digest": []}),
        ]
    )
    result = from_postman(content, name="c.json")
    first, second = result.files[0].definition["steps"]
    assert first["request"]["auth"] == {"bearer": {"token": "{{ secrets.token }}"}}
    assert result.secrets[0].value == "abc.def"
    assert "auth" not in second["request"]
    assert any("'digest' is not supported" in note for note in result.notes)


def test_dynamic_variables_become_template_functions_that_render() -> None:
    url = "http://h/{{$guid}}/{{$timestamp}}/{{$randomInt}}/{{$randomEmail}}/{{$randomAlphaNumeric}}"
    step = imported(collection([request("r", url=url)]))["steps"][0]
    rendered = render_value(step["request"]["url"], {})
    guid, stamp, number, email, alnum = rendered.removeprefix("http://h/").split("/")
    assert len(guid) == 36
    assert stamp.isdigit()
    assert 0 <= int(number) <= 1000
    assert "@" in email
    assert len(alnum) == 1


def test_an_unknown_dynamic_variable_is_refused_by_name() -> None:
    with pytest.raises(ImportRefused, match=r"\$randomNope"):
        from_postman(collection([request("r", url="http://h/{{$randomNope}}")]), name="c.json")


def test_text_that_looks_like_template_markup_is_sent_as_written() -> None:
    body = {"mode": "raw", "raw": "{% raw %} {{a}} {#x#}", "options": {"raw": {"language": "text"}}}
    step = imported(collection([request("r", url="http://h/x", body=body)]))["steps"][0]
    assert render_value(step["request"]["body"], {"a": "A"}) == "{% raw %} A {#x#}"
    assert step["request"]["headers"] == {"Content-Type": "text/plain"}


@pytest.mark.parametrize(
    ("script", "expect", "capture"),
    [
        (["pm.test('ok', function () { pm.response.to.be.ok; });"], {"status": 200}, {}),
        (
            ["pm.test('c', () => { pm.expect(pm.response.code).to.be.oneOf([200, 201]); });"],
            {"status": [200, 201]},
            {},
        ),
        (
            [
                "const d = pm.response.json();",
                "pm.test('n', function () { pm.expect(d.items).to.have.lengthOf(2) })",
            ],
            {"json": [{"path": "$.items", "name": "n", "length": 2}]},
            {},
        ),
        (
            ["pm.test('big', function () { pm.expect(pm.response.json()['a-b'][0]).to.be.above(3); });"],
            {"json": [{"path": "$['a-b'][0]", "name": "big", "gt": 3}]},
            {},
        ),
        (
            ["// a comment", "pm.collectionVariables.set('next', pm.response.json().next);"],
            {},
            {"next": "$.next"},
        ),
        (['tests["is 404"] = responseCode.code === 404;'], {"status": 404}, {}),
    ],
)
def test_plain_assertion_scripts_become_checks_and_captures(
    script: list[str], expect: dict[str, Any], capture: dict[str, Any]
) -> None:
    item = {**request("r", url="http://h/x"), "event": [{"listen": "test", "script": {"exec": script}}]}
    result = from_postman(collection([item]), name="c.json")
    step = result.files[0].definition["steps"][0]
    assert step.get("expect", {}) == expect
    assert step.get("capture", {}) == capture
    assert not any("not converted" in note for note in result.notes)


@pytest.mark.parametrize(
    "script",
    [
        "pm.test('x', function () { pm.expect(pm.response.json().a).to.match(/b/); });",
        "if (pm.response.code === 200) { pm.environment.set('a', 1); }",
        "pm.sendRequest('http://h', function () {});",
        "pm.test('s', function () { pm.response.to.have.status(200); pm.response.to.have.status(201); });",
        "pm.test('broken', function () {",
    ],
)
def test_a_script_with_a_statement_that_has_no_declarative_form_is_kept_whole(script: str) -> None:
    item = {**request("r", url="http://h/x"), "event": [{"listen": "test", "script": {"exec": [script]}}]}
    result = from_postman(collection([item]), name="c.json")
    step = result.files[0].definition["steps"][0]
    assert "expect" not in step
    assert "capture" not in step
    assert step["test_script"] == script


def test_scripts_are_kept_in_postmans_order_collection_folder_request() -> None:
    def event(listen: str, text: str) -> dict[str, Any]:
        return {"listen": listen, "script": {"exec": [text]}}

    item = {
        **request("r", url="http://h/x"),
        "event": [event("prerequest", "r1"), event("test", "if (1) {}")],
    }
    folder = {"name": "f", "item": [item], "event": [event("prerequest", "f1")]}
    content = collection(
        [folder],
        event=[event("prerequest", "c1"), event("test", "pm.test('ok', () => { pm.response.to.be.ok })")],
    )
    step = from_postman(content, name="c.json").files[0].definition["steps"][0]
    assert step["pre_request_script"] == ["c1", "f1", "r1"]
    assert step["expect"] == {"status": 200}  # the collection's plain assertion
    assert step["test_script"] == "if (1) {}"


def test_disabled_query_parameters_headers_and_form_fields_are_dropped() -> None:
    fields = {
        "url": {
            "raw": "http://h/x?a=1&b=2",
            "query": [{"key": "a", "value": "1"}, {"key": "b", "value": "2", "disabled": True}],
        },
        "header": [{"key": "H", "value": "1", "disabled": True}],
        "body": {
            "mode": "formdata",
            "formdata": [{"key": "f", "value": "v", "disabled": True}, {"key": "g", "value": "w"}],
        },
    }
    step = imported(collection([request("r", **fields)]))["steps"][0]
    assert step["request"]["query"] == {"a": "1"}
    assert "headers" not in step["request"]
    assert step["request"]["multipart"] == {"g": "w"}


def hostile(content: bytes, needle: str, **files: bytes) -> None:
    with pytest.raises(ImportRefused, match=needle):
        from_postman(content, name="c.json", environment=files.get("env"), globals_=files.get("glob"))


def test_hostile_or_unsupported_files_are_refused_with_the_reason() -> None:
    hostile(b"{not json", "the collection is not JSON")
    hostile(b"[" * 10_000 + b"]" * 10_000, "nests deeper than 96 levels")
    hostile(b" " * (MAX_POSTMAN_BYTES + 1), "at most 10,485,760 are read")
    hostile(b"\xff\xfe{}", "not UTF-8")
    hostile(json.dumps({"info": {"name": "c"}, "item": []}).encode(), "schema 'none' is not supported")
    v1 = {"info": {"schema": "https://schema.getpostman.com/json/collection/v1.0.0/collection.json"}}
    hostile(json.dumps(v1).encode(), "v1.0.0.*is not supported")
    hostile(collection([]), "holds no request")
    hostile(collection([{"name": "r", "request": {"method": "GET", "url": 5}}]), "url is not an object")
    folder: dict[str, Any] = request("r", url="http://h/x")
    for level in range(30):
        folder = {"name": f"f{level}", "item": [folder]}
    hostile(collection([folder]), "folders nest deeper than 20 levels")
    script = {"listen": "test", "script": {"exec": ["x"] * (MAX_SCRIPT_CHARS // 2 + 1)}}
    hostile(collection([{**request("r", url="http://h/x"), "event": [script]}]), "a script of .* characters")
    hostile(collection([request("r", url="http://h/x")] * 2001), "more than 2,000 requests")
    hostile(
        collection([{"name": "r", "request": {"method": "PURGE", "url": "http://h/x"}}]),
        "PURGE is not supported",
    )
    hostile(collection([request("r", url="http://h/x")]), "has no 'values'", env=b"{}")
    body = {"mode": "file", "file": {"src": "/etc/passwd"}}
    hostile(collection([request("r", url="http://h/x", body=body)]), "mode 'file' cannot be imported")


def test_a_collection_as_the_postman_api_answers_it_is_read() -> None:
    wrapped = json.dumps({"collection": json.loads(collection([request("r", url="http://h/x")]))}).encode()
    result: ImportResult = from_postman(wrapped, name="c.json")
    assert result.files[0].definition["steps"][0]["request"]["url"] == "http://h/x"


def test_fake_draws_only_the_kinds_it_lists() -> None:
    from orchestra.steps.templating import TemplateError

    assert "@" in render_value("{{ fake('email') }}", {})
    with pytest.raises(TemplateError, match="fake\\(\\) knows no '__class__'"):
        render_value("{{ fake('__class__') }}", {})


@pytest.mark.parametrize(
    ("scripts", "needle"),
    [
        ("x" * 65_537, "at most 65536 characters"),
        (["a"] * 21, "at most 20 items"),
        ([], "at least 1 item"),
        ("", "at least 1 character"),
    ],
)
def test_oversized_or_empty_scripts_are_refused_by_the_test_language(scripts: Any, needle: str) -> None:
    from orchestra.definitions.loader import DefinitionError, validate_test_case_data

    step = {"request": {"url": "http://h/x"}, "test_script": scripts}
    with pytest.raises(DefinitionError, match=needle):
        validate_test_case_data({"name": "t", "steps": [step]})
