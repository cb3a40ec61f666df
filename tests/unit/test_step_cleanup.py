"""A request step's declared cleanup: its declaration, how it is rendered into the undo call the ledger
keeps, and how that call is sealed and shown."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from orchestra.definitions.testcase_model import CleanupSpec, RequestStep
from orchestra.kit.secret_box import SecretBox, SecretDecryptionError, new_key
from orchestra.steps.cleanup_call import join_url, render_cleanup, response_scope
from orchestra.steps.http_call import HttpCall
from orchestra.steps.templating import TemplateError, build_scope
from orchestra.testdata.undo_calls import seal_undo, shown_resource, unseal_undo

BASE = "http://sut.test:8080/api"


def response(body: str = '{"id": "i-7"}', **headers: str) -> dict[str, Any]:
    return {"status": 201, "headers": headers, "body": body, "body_truncated": False}


def render(spec: dict[str, Any], recorded: dict[str, Any] | None = None, **variables: Any) -> HttpCall:
    scope = build_scope(base_url=BASE, variables=variables, secrets={"key": "s3cret"})
    return render_cleanup(CleanupSpec.model_validate(spec), scope, recorded or response(), BASE)


def test_a_cleanup_is_a_delete_unless_it_says_otherwise() -> None:
    step = RequestStep.model_validate({"request": {"url": "/x"}, "cleanup": {"url": "/x/1"}})
    assert step.cleanup is not None
    assert step.cleanup.method == "DELETE"
    assert CleanupSpec.model_validate({"method": "post", "url": "/x"}).method == "POST"


@pytest.mark.parametrize(
    "cleanup",
    [{}, {"url": ""}, {"url": "/x", "body": "raw"}, {"url": "/x", "method": "TRACE"}, {"url": "x" * 9000}],
)
def test_an_invalid_cleanup_declaration_is_refused(cleanup: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RequestStep.model_validate({"request": {"url": "/x"}, "cleanup": cleanup})


def test_the_location_header_joins_the_base_url() -> None:
    call = render({"url": "{{ response.headers.location }}"}, response(Location="/items/i-7"))
    assert call == HttpCall("DELETE", f"{BASE}/items/i-7", {}, None)


def test_the_response_body_and_captured_variables_are_in_scope() -> None:
    call = render(
        {
            "method": "POST",
            "url": "/items/{{ response.body.id }}/archive?by={{ who }}",
            "headers": {"X-Key": "{{ secrets.key }}"},
            "json": {"id": "{{ response.body.id }}", "status": "{{ response.status }}"},
        },
        who="me",
    )
    assert call.url == f"{BASE}/items/i-7/archive?by=me"
    assert call.headers == {"X-Key": "s3cret"}
    assert call.body == {"id": "i-7", "status": 201}


def test_an_absolute_url_is_kept() -> None:
    assert render({"url": "https://other.test/things/1"}).url == "https://other.test/things/1"
    assert join_url(BASE + "/", "things") == f"{BASE}/things"


def test_a_cut_or_non_json_body_is_text() -> None:
    assert response_scope({"body": '{"id": 1', "body_truncated": True})["body"] == '{"id": 1'
    assert response_scope({"body": "plain"})["body"] == "plain"
    assert response_scope(None) == {"status": None, "headers": {}, "body": None}
    assert response_scope({"headers": {"Location": "/a"}})["headers"] == {"location": "/a"}


@pytest.mark.parametrize(
    "url",
    ["{{ response.body.missing }}", "{{ '' }}", "ftp://sut.test/x", "http:///nohost", "{{ undefined_var }}"],
)
def test_a_cleanup_that_cannot_render_to_an_http_url_is_a_template_error(url: str) -> None:
    with pytest.raises(TemplateError):
        render({"url": url})


def test_a_sealed_undo_opens_only_for_its_tenant_and_entry() -> None:
    box = SecretBox(new_key())
    tenant, entry = uuid.uuid4(), uuid.uuid4()
    call = HttpCall("DELETE", f"{BASE}/items/1?api_key=k", {"Authorization": "Bearer t0ken"}, {"a": 1})
    sealed = seal_undo(box, tenant, entry, call)
    assert "t0ken" not in sealed
    assert unseal_undo(box, tenant, entry, sealed) == call
    for other_tenant, other_entry in ((uuid.uuid4(), entry), (tenant, uuid.uuid4())):
        with pytest.raises(SecretDecryptionError):
            unseal_undo(box, other_tenant, other_entry, sealed)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://sut.test:8080/items/1?api_key=k#frag", "http://sut.test:8080/items/1"),
        ("https://user:pw@sut.test/items/1", "https://sut.test/items/1"),
        ("http://[::1]:81/x?t=1", "http://[::1]:81/x"),
        ("http://sut.test:99999/x", "(invalid URL)"),
    ],
)
def test_the_shown_resource_has_no_query_or_credentials(url: str, shown: str) -> None:
    assert shown_resource(url) == shown
