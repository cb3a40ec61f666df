"""The documents API: adding, replacing, listing, reading and deleting Markdown documents, searching them
with the project's imported OpenAPI operations, roles, and hostile or oversized input answered with a
clear 4xx."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from orchestra.config import Settings
from orchestra.rag.indexing import MAX_CHUNKS_PER_DOCUMENT
from orchestra.runtime import Runtime
from tests.integration.conftest import assert_problem

PROJECT = "docs"
URL = f"/projects/{PROJECT}/documents"
GUIDE = (
    "# Rate limits\n\nAn environment may cap the requests per second with max_requests_per_s.\n\n"
    "## Waiting\n\nRequests above the cap wait for their slot; they are never dropped."
)
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Shop", "version": "1"},
    "paths": {
        "/customers": {
            "post": {
                "operationId": "createCustomer",
                "summary": "Create a customer",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"name": {"type": "string"}}}
                        }
                    }
                },
                "responses": {"201": {"description": "created"}},
            }
        },
        "/customers/{customerId}": {
            "delete": {
                "operationId": "deleteCustomer",
                "summary": "Delete a customer",
                "parameters": [
                    {"name": "customerId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"204": {"description": "deleted"}},
            }
        },
    },
}


@pytest.fixture
async def project(api: httpx.AsyncClient) -> str:
    response = await api.post("/projects", json={"name": PROJECT})
    assert response.status_code == 201, response.text
    return PROJECT


async def post(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post(URL, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_document_is_added_read_listed_and_deleted(api: httpx.AsyncClient, project: str) -> None:
    created = await post(api, title="Rate limits", text=GUIDE, source="rate-limits.md")
    assert (created["kind"], created["source"], created["title"], created["chunks"]) == (
        "markdown",
        "rate-limits.md",
        "Rate limits",
        2,
    )
    detail = (await api.get(f"{URL}/{created['id']}")).json()
    assert [(c["ordinal"], c["heading"]) for c in detail["content"]] == [
        (0, "Rate limits"),
        (1, "Rate limits > Waiting"),
    ]
    assert (
        detail["content"][1]["text"] == "Requests above the cap wait for their slot; they are never dropped."
    )
    assert detail["content"][0]["embedding_model"] is None  # the built-in vector has its own column

    other = await post(api, title="Second", text="Another guide.")
    assert other["source"] == "Second"  # no source: the title names it
    page = (await api.get(URL, params={"limit": 1})).json()
    assert (page["total"], page["limit"], len(page["items"])) == (2, 1, 1)
    assert page["items"][0]["title"] == "Rate limits"
    assert (await api.get(URL, params={"kind": "openapi"})).json()["total"] == 0

    response = await api.delete(f"{URL}/{created['id']}")
    assert response.status_code == 204, response.text
    assert_problem(await api.get(f"{URL}/{created['id']}"), 404, "does not exist")
    assert_problem(await api.delete(f"{URL}/{created['id']}"), 404, "does not exist")
    assert [item["id"] for item in (await api.get(URL)).json()["items"]] == [other["id"]]


async def test_posting_the_same_source_again_replaces_the_document(
    api: httpx.AsyncClient, project: str
) -> None:
    first = await post(api, title="Rate limits", text=GUIDE, source="limits.md")
    second = await post(api, title="Limits", text="# Quotas\n\nEach tenant has a quota.", source="limits.md")
    assert second["id"] == first["id"]
    assert (second["title"], second["chunks"]) == ("Limits", 1)
    assert second["content_hash"] != first["content_hash"]
    assert (await api.get(URL)).json()["total"] == 1
    hits = (await api.get(f"{URL}/search", params={"q": "quota"})).json()["hits"]
    assert [hit["heading"] for hit in hits] == ["Quotas"]
    assert (await api.get(f"{URL}/search", params={"q": "max_requests_per_s"})).json()["hits"] == []


async def test_search_finds_guides_and_the_operations_of_imported_descriptions(
    api: httpx.AsyncClient, project: str
) -> None:
    await post(api, title="Rate limits", text=GUIDE)
    response = await api.post(
        f"/projects/{PROJECT}/environments",
        json={"name": "sut", "base_url": "http://127.0.0.1:9", "allow_private_network": True},
    )
    assert response.status_code == 201, response.text
    response = await api.put(f"/projects/{PROJECT}/environments/sut/openapi", json={"document": SPEC})
    assert response.status_code == 200, response.text

    body = (await api.get(f"{URL}/search", params={"q": "how do I remove a customer", "limit": 3})).json()
    assert body["query"] == "how do I remove a customer"
    top = body["hits"][0]
    assert (top["kind"], top["heading"], top["title"]) == (
        "openapi",
        "DELETE /customers/{customerId}",
        "Shop",
    )
    assert top["excerpt"].startswith("DELETE /customers/{customerId} — Delete a customer")
    listed = (await api.get(URL, params={"kind": "openapi"})).json()
    assert (listed["total"], listed["items"][0]["chunks"]) == (1, 2)

    hits = (await api.get(f"{URL}/search", params={"q": "requests per second", "kind": "markdown"})).json()
    assert {hit["kind"] for hit in hits["hits"]} == {"markdown"}
    assert hits["hits"][0]["heading"] == "Rate limits"

    # a changed description is indexed again on the next search; the old operations are gone
    changed = {
        **SPEC,
        "paths": {
            "/items": {
                "get": {
                    "operationId": "listItems",
                    "summary": "List items",
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    response = await api.put(f"/projects/{PROJECT}/environments/sut/openapi", json={"document": changed})
    assert response.status_code == 200, response.text
    hits = (await api.get(f"{URL}/search", params={"q": "customer", "kind": "openapi"})).json()["hits"]
    assert all("customer" not in hit["heading"] for hit in hits)
    hits = (await api.get(f"{URL}/search", params={"q": "list items", "kind": "openapi"})).json()["hits"]
    assert hits[0]["heading"] == "GET /items"

    # deleting the environment drops its description; the search forgets its operations
    assert (await api.delete(f"/projects/{PROJECT}/environments/sut")).status_code == 204
    assert (await api.get(f"{URL}/search", params={"q": "list items", "kind": "openapi"})).json()[
        "hits"
    ] == []


async def test_a_viewer_reads_and_searches_but_does_not_write(
    api: httpx.AsyncClient, project: str, settings: Settings, runtime: Runtime
) -> None:
    created = await post(api, title="Rate limits", text=GUIDE)
    response = await api.post("/tokens", json={"name": "reader", "role": "viewer"})
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (await api.get(URL, headers=headers)).status_code == 200
    assert (await api.get(f"{URL}/{created['id']}", headers=headers)).status_code == 200
    assert (await api.get(f"{URL}/search", params={"q": "limits"}, headers=headers)).status_code == 200
    assert_problem(await api.post(URL, json={"title": "x", "text": "y"}, headers=headers), 403, "editor")
    assert_problem(await api.delete(f"{URL}/{created['id']}", headers=headers), 403, "editor")
    assert (await api.get(f"{URL}/{created['id']}")).status_code == 200


async def test_unknown_projects_and_documents_are_404(api: httpx.AsyncClient, project: str) -> None:
    assert_problem(await api.get("/projects/nope/documents"), 404)
    assert_problem(await api.get("/projects/nope/documents/search", params={"q": "x"}), 404)
    assert_problem(await api.post("/projects/nope/documents", json={"title": "t", "text": "x"}), 404)
    assert_problem(await api.get(f"{URL}/{uuid.uuid4()}"), 404, "does not exist")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"title": "t"}, "text"),
        ({"text": "x"}, "title"),
        ({"title": "t", "text": "   \n\t"}, "white space"),
        ({"title": "  ", "text": "x"}, "white space"),
        ({"title": "t", "text": "a\x00b"}, "NUL"),
        ({"title": "t\x00", "text": "x"}, "NUL"),
        ({"title": "t", "text": "x", "source": "s\x00"}, "NUL"),
        ({"title": "t", "text": "x", "source": ""}, "source"),
        ({"title": "t" * 501, "text": "x"}, "title"),
        ({"title": "t", "text": "x", "kind": "openapi"}, "kind"),
        ({"title": "t", "text": ["x"]}, "text"),
        ({"title": "t", "text": "x" * (1_048_576 + 1)}, "text"),
    ],
)
async def test_invalid_documents_are_refused_with_422(
    api: httpx.AsyncClient, project: str, body: dict[str, Any], needle: str
) -> None:
    assert_problem(await api.post(URL, json=body), 422, needle)
    assert (await api.get(URL)).json()["total"] == 0


async def test_a_lone_surrogate_and_an_oversized_body_are_refused(
    api: httpx.AsyncClient, project: str
) -> None:
    raw = b'{"title": "t", "text": "bad \\ud800 text"}'
    response = await api.post(URL, content=raw, headers={"Content-Type": "application/json"})
    assert_problem(response, 422, "surrogate")
    huge = b'{"title": "t", "text": "' + b"x" * 3_000_000 + b'"}'
    response = await api.post(URL, content=huge, headers={"Content-Type": "application/json"})
    assert_problem(response, 413)
    assert (await api.get(URL)).json()["total"] == 0


async def test_a_document_at_the_size_limit_is_accepted(api: httpx.AsyncClient, project: str) -> None:
    text = ("# Big\n\n" + ("A paragraph of words about customers and orders. " * 20 + "\n\n") * 1040)[
        :1_048_576
    ]
    created = await post(api, title="Big", text=text)
    assert created["chunks"] > 1000


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "a\x00b"}, "NUL"),
        ({"q": "   "}, "white space"),
        ({"q": "x", "limit": 0}, "limit"),
        ({"q": "x", "limit": 51}, "limit"),
        ({"q": "x", "limit": "many"}, "limit"),
        ({"q": "x", "kind": "secrets"}, "kind"),
    ],
)
async def test_invalid_searches_are_refused_with_422(
    api: httpx.AsyncClient, project: str, params: dict[str, Any], needle: str
) -> None:
    assert_problem(await api.get(f"{URL}/search", params=params), 422, needle)


@pytest.mark.parametrize(
    "q",
    ['"unbalanced', "-(OR !& | :* <-> \\", "' OR 1=1 --", "customer:*", "x" * 1000, "日本語の検索", "🙂"],
)
async def test_query_syntax_never_breaks_the_search(api: httpx.AsyncClient, project: str, q: str) -> None:
    await post(api, title="Rate limits", text=GUIDE)
    response = await api.get(f"{URL}/search", params={"q": q, "limit": 50})
    assert response.status_code == 200, response.text
    assert response.json()["query"] == q


async def test_a_malformed_document_id_is_422(api: httpx.AsyncClient, project: str) -> None:
    assert_problem(await api.get(f"{URL}/not-a-uuid"), 422)
    assert_problem(await api.delete(f"{URL}/not-a-uuid"), 422)


async def test_concurrent_posts_of_one_source_leave_one_whole_document(
    api: httpx.AsyncClient, project: str
) -> None:
    texts = [f"# Version {n}\n\nFirst part {n}.\n\n## More\n\nSecond part {n}." for n in range(6)]
    responses = await asyncio.gather(
        *(api.post(URL, json={"title": "Racy", "text": text, "source": "racy.md"}) for text in texts)
    )
    assert [response.status_code for response in responses] == [201] * 6, [r.text for r in responses]
    assert len({response.json()["id"] for response in responses}) == 1
    listed = (await api.get(URL)).json()
    assert listed["total"] == 1
    detail = (await api.get(f"{URL}/{listed['items'][0]['id']}")).json()
    versions = {chunk["heading"].split(" > ")[0] for chunk in detail["content"]}
    assert len(versions) == 1  # the chunks of one version, not a mix
    assert len(detail["content"]) == 2


async def test_a_document_of_too_many_tiny_sections_is_refused(api: httpx.AsyncClient, project: str) -> None:
    text = "".join(f"# H{n}\n" for n in range(MAX_CHUNKS_PER_DOCUMENT + 1))
    assert_problem(await api.post(URL, json={"title": "t", "text": text}), 422, "at most 2000")
    assert (await api.get(URL)).json()["total"] == 0
