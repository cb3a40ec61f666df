"""Hybrid retrieval on a small corpus with known answers: Markdown guides, a hand-built OpenAPI catalogue of
a shop (customers, items, orders) and failure summaries of past runs; lexical queries, paraphrases only the
vector side finds, a query where fusion beats both rankings, filters, re-indexing and tenant isolation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from orchestra.models import Project, RagChunk
from orchestra.openapi.operations import Catalogue, Operation, Parameter
from orchestra.rag import indexing, repository, retrieval
from orchestra.rag.embedders import BUILTIN
from orchestra.rag.indexing import index_catalogue, index_document
from orchestra.runtime import Runtime
from orchestra.tenants.repository import ensure_tenant

GUIDES = {
    "authentication.md": (
        "Authentication",
        "# Authentication\n\nEvery request carries an API token in the Authorization header as a bearer "
        "token. Tokens are issued per project with a role: viewer, editor or admin.\n\n## Rotation\n\n"
        "Rotate a token by issuing a new one and revoking the old one; revoked tokens stop working at once.",
    ),
    "rate-limits.md": (
        "Rate limits",
        "# Rate limits\n\nAn environment may cap the requests per second sent to the system under test with "
        "max_requests_per_s. Requests above the cap wait for their slot; they are never dropped.",
    ),
    "schedules.md": (
        "Schedules",
        "# Schedules\n\nA schedule starts a suite at the times of a cron expression, for example every night "
        "at three. A missed fire time is caught up once when the scheduler comes back.",
    ),
    "secrets.md": (
        "Secrets",
        "# Secrets\n\nEnvironment secrets are encrypted at rest with the platform key and never returned by "
        "the API. Steps reference them as {{ secrets.name }}; step results mask their values.",
    ),
    "leases.md": (
        "Retries and leases",
        "# Retries and leases\n\nAn executor holds a lease on each run it works on and renews it with "
        "heartbeats. When an executor dies, its lease expires and the run is requeued, up to max_attempts "
        "times; then it ends in ERROR.",
    ),
    "egress.md": (
        "Egress",
        "# Egress\n\nThe executor calls only the host of the environment's base URL and the allowed_hosts. "
        "Loopback and private addresses are refused unless allow_private_network is set; cloud metadata "
        "addresses never are.",
    ),
    "timeouts.md": (
        "Troubleshooting timeouts",
        "# Troubleshooting timeouts\n\nA step that takes longer than its timeout_ms fails with a timeout "
        "error. Raise default_step_timeout_ms for slow systems, or look at the SUT's latency first.",
    ),
    "orders.md": (
        "Placing orders",
        "# Placing orders\n\nAn order needs an existing customer and an existing item: create both first, "
        "then post the order with their ids and a quantity.",
    ),
    "cleanup.md": (
        "Test data cleanup",
        "# Test data cleanup\n\nEntities created in the data phase are written to the ledger with their undo "
        "call, and deleted in reverse order after the test, whatever its verdict.",
    ),
}

FAILURES = {
    "run-order-422": (
        "create order failed",
        "Step 'place order' failed: expected status 201, got 422. The body said customerId must reference "
        "an existing customer.",
    ),
    "run-health-timeout": (
        "health check timed out",
        "Step 'health' failed: the request timed out after 30000 ms; the SUT did not answer.",
    ),
    "run-login-401": (
        "login rejected",
        "Step 'list customers' failed: expected status 200, got 401 Unauthorized; the bearer token had "
        "expired.",
    ),
}


def _id(name: str) -> Parameter:
    return Parameter(name=name, location="path", required=True, schema={"type": "string", "format": "uuid"})


def _object(**fields: str) -> dict[str, object]:
    return {
        "type": "object",
        "required": list(fields),
        "properties": {name: {"type": kind} for name, kind in fields.items()},
    }


CUSTOMER = _object(id="string", name="string", email="string")
ITEM = _object(id="string", name="string", price="number")
ORDER = _object(id="string", customerId="string", itemId="string", quantity="integer")

OPERATIONS = [
    Operation("listCustomers", "GET", "/customers", "List customers", responses={"200": {"type": "array"}}),
    Operation(
        "createCustomer",
        "POST",
        "/customers",
        "Create a customer",
        request_schema=_object(name="string", email="string"),
        responses={"201": CUSTOMER},
    ),
    Operation(
        "getCustomer",
        "GET",
        "/customers/{customerId}",
        "Get a customer",
        parameters=(_id("customerId"),),
        responses={"200": CUSTOMER, "404": None},
    ),
    Operation(
        "deleteCustomer",
        "DELETE",
        "/customers/{customerId}",
        "Delete a customer",
        parameters=(_id("customerId"),),
        responses={"204": None, "404": None},
    ),
    Operation(
        "createItem",
        "POST",
        "/items",
        "Create an item",
        request_schema=_object(name="string", price="number"),
        responses={"201": ITEM},
    ),
    Operation(
        "deleteItem",
        "DELETE",
        "/items/{itemId}",
        "Delete an item",
        parameters=(_id("itemId"),),
        responses={"204": None},
    ),
    Operation(
        "createOrder",
        "POST",
        "/orders",
        "Place an order",
        description="Orders one item for an existing customer.",
        request_schema=_object(customerId="string", itemId="string", quantity="integer"),
        responses={"201": ORDER, "422": None},
    ),
    Operation(
        "getOrder",
        "GET",
        "/orders/{orderId}",
        "Get an order",
        parameters=(_id("orderId"),),
        responses={"200": ORDER},
    ),
    Operation("health", "GET", "/health", "Liveness probe", responses={"200": None}),
]

CATALOGUE = Catalogue(
    title="Shop API",
    spec_hash="a" * 64,
    operations={operation.operation_id: operation for operation in OPERATIONS},
)


@dataclass
class Corpus:
    tenant_id: uuid.UUID
    project_id: uuid.UUID
    environment_id: uuid.UUID


async def index_corpus(runtime: Runtime, tenant_id: uuid.UUID, project_id: uuid.UUID) -> uuid.UUID:
    environment_id = uuid.uuid4()
    async with runtime.db.transaction(tenant_id) as session:
        for kind, documents in (("markdown", GUIDES), ("failure", FAILURES)):
            for source, (title, text) in documents.items():
                await index_document(
                    session,
                    tenant_id=tenant_id,
                    project_id=project_id,
                    kind=kind,
                    source=source,
                    title=title,
                    text=text,
                )
        await index_catalogue(
            session,
            tenant_id=tenant_id,
            project_id=project_id,
            environment_id=environment_id,
            catalogue=CATALOGUE,
        )
    return environment_id


@pytest.fixture
async def corpus(api: httpx.AsyncClient, runtime: Runtime) -> Corpus:
    response = await api.post("/projects", json={"name": "shop"})
    assert response.status_code == 201, response.text
    project_id = uuid.UUID(response.json()["id"])
    environment_id = await index_corpus(runtime, runtime.tenant_id, project_id)
    return Corpus(runtime.tenant_id, project_id, environment_id)


async def search(
    runtime: Runtime,
    corpus: Corpus,
    query: str,
    *,
    limit: int = 8,
    kinds: list[str] | None = None,
    exclude_sources: tuple[str, ...] | list[str] = (),
) -> list[retrieval.Hit]:
    async with runtime.db.transaction(corpus.tenant_id) as session:
        return await retrieval.search(
            session,
            project_id=corpus.project_id,
            query=query,
            vector=builtin(query),
            kinds=kinds,
            limit=limit,
            exclude_sources=exclude_sources,
        )


def builtin(text: str) -> retrieval.QueryVector:
    """The built-in vector of a query (what ``retrieval.query_vector`` gives without a model)."""
    return retrieval.QueryVector(BUILTIN.vector(text), None)


def label(hit: retrieval.Hit) -> str:
    """What a hit is: the operation ("DELETE /customers/{customerId}") or the document's source."""
    return hit.heading if hit.kind == "openapi" else hit.source


# (query, expected document or operation, worst acceptable rank)
KNOWN_ANSWERS = [
    # lexical: identifiers and exact words
    ("max_requests_per_s", "rate-limits.md", 1),
    ("allow_private_network", "egress.md", 1),
    ("deleteCustomer", "DELETE /customers/{customerId}", 1),
    ("bearer token", "authentication.md", 1),
    ("revoke a token", "authentication.md", 1),
    ("cron nightly suite", "schedules.md", 1),
    ("item price", "POST /items", 1),
    ("create customer email", "POST /customers", 1),
    # paraphrases (full-text finds nothing: see the test below)
    ("how do I remove a customer", "DELETE /customers/{customerId}", 1),
    ("fetch one order by its identifier", "GET /orders/{orderId}", 1),
    ("runs retried after losing the lease", "leases.md", 1),
    ("which hosts may the executor reach", "egress.md", 1),
    ("slow requests", "rate-limits.md", 3),
    # mixed
    ("undo created entities after the test", "cleanup.md", 1),
    ("what does an order need", "orders.md", 1),
    ("customer order", "orders.md", 1),
    ("login token expired", "run-login-401", 3),
]


@pytest.mark.parametrize(("query", "expected", "worst"), KNOWN_ANSWERS)
async def test_known_answers_come_back_near_the_top(
    corpus: Corpus, runtime: Runtime, query: str, expected: str, worst: int
) -> None:
    hits = await search(runtime, corpus, query, limit=5)
    labels = [label(hit) for hit in hits]
    assert expected in labels[:worst], labels


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how do I remove a customer", "DELETE /customers/{customerId}"),
        ("fetch one order by its identifier", "GET /orders/{orderId}"),
        ("runs retried after losing the lease", "leases.md"),
        ("which hosts may the executor reach", "egress.md"),
    ],
)
async def test_a_paraphrase_full_text_misses_is_found_by_the_vector_side(
    corpus: Corpus, runtime: Runtime, query: str, expected: str
) -> None:
    async with runtime.db.transaction(corpus.tenant_id) as session:
        by_text = await repository.text_ranking(
            session, project_id=corpus.project_id, query_text=query, kinds=None, exclude_sources=(), limit=10
        )
    assert by_text == []
    top = (await search(runtime, corpus, query, limit=3))[0]
    assert (label(top), top.vector_rank, top.text_rank) == (expected, 1, None)


async def test_fusion_ranks_first_what_each_ranking_alone_ranks_second(
    corpus: Corpus, runtime: Runtime
) -> None:
    """ "customer order": the vector side prefers GET /customers, full-text POST /orders; the guide about
    placing orders is second in both, and first once they are fused."""
    top, *rest = await search(runtime, corpus, "customer order", limit=5)
    assert label(top) == "orders.md"
    assert top.vector_rank == 2
    assert top.text_rank == 2
    firsts = {label(hit) for hit in rest if hit.vector_rank == 1 or hit.text_rank == 1}
    assert firsts == {"GET /customers", "POST /orders"}
    assert top.score == pytest.approx(2 / (retrieval.RRF_K + 2))


async def test_hits_describe_their_chunk(corpus: Corpus, runtime: Runtime) -> None:
    top = (await search(runtime, corpus, "deleteCustomer", limit=1))[0]
    assert top.kind == "openapi"
    assert top.source == str(corpus.environment_id)
    assert top.title == "Shop API"
    assert top.excerpt.startswith("DELETE /customers/{customerId} — Delete a customer")
    assert "customerId (path, string uuid, required)" in top.excerpt
    as_json = top.to_json()
    assert as_json["document_id"] == str(top.document_id)
    assert as_json["heading"] == "DELETE /customers/{customerId}"


async def test_kinds_and_excluded_sources_narrow_the_search(corpus: Corpus, runtime: Runtime) -> None:
    only_guides = await search(runtime, corpus, "customer order", kinds=["markdown"], limit=10)
    assert only_guides
    assert {hit.kind for hit in only_guides} == {"markdown"}
    without = await search(runtime, corpus, "customer order", exclude_sources=["orders.md"], limit=10)
    assert "orders.md" not in {hit.source for hit in without}
    assert label(without[0]) == "POST /orders"


async def test_similar_finds_the_past_failure_with_the_same_cause(corpus: Corpus, runtime: Runtime) -> None:
    failure = (
        "Step 'checkout' failed: got status 422 because customerId does not reference an existing customer"
    )
    async with runtime.db.transaction(corpus.tenant_id) as session:
        hits = await retrieval.similar(
            session, project_id=corpus.project_id, vector=builtin(failure), kind="failure", limit=3
        )
        excluded = await retrieval.similar(
            session,
            project_id=corpus.project_id,
            vector=builtin(failure),
            kind="failure",
            limit=3,
            exclude_sources=["run-order-422"],
        )
    assert hits[0].source == "run-order-422"
    assert {hit.kind for hit in hits} == {"failure"}
    assert hits[0].score > hits[1].score
    assert "run-order-422" not in [hit.source for hit in excluded]


async def chunk_ids(runtime: Runtime, corpus: Corpus, document_id: uuid.UUID) -> list[int]:
    async with runtime.db.transaction(corpus.tenant_id) as session:
        query = select(RagChunk.id).where(RagChunk.document_id == document_id).order_by(RagChunk.ordinal)
        return list((await session.execute(query)).scalars())


async def test_unchanged_content_is_not_indexed_again_and_changed_content_replaces_it(
    corpus: Corpus, runtime: Runtime
) -> None:
    title, text = GUIDES["egress.md"]

    async def index(new_text: str, new_title: str = title) -> uuid.UUID:
        async with runtime.db.transaction(corpus.tenant_id) as session:
            return await index_document(
                session,
                tenant_id=corpus.tenant_id,
                project_id=corpus.project_id,
                kind="markdown",
                source="egress.md",
                title=new_title,
                text=new_text,
            )

    first = await index(text)
    before = await chunk_ids(runtime, corpus, first)
    assert await index(text, "Egress policy") == first
    assert await chunk_ids(runtime, corpus, first) == before
    assert label((await search(runtime, corpus, "allow_private_network"))[0]) == "egress.md"
    assert await index("# Egress\n\nOutbound calls go through a proxy named squid.") == first
    after = await chunk_ids(runtime, corpus, first)
    assert set(after).isdisjoint(before)
    assert "egress.md" not in [hit.source for hit in await search(runtime, corpus, "allow_private_network")]
    assert label((await search(runtime, corpus, "squid proxy"))[0]) == "egress.md"


async def test_another_tenant_and_another_project_never_see_the_documents(
    corpus: Corpus, runtime: Runtime
) -> None:
    async with runtime.db.transaction(None) as session:
        other_tenant = await ensure_tenant(session, "rag-other")
    other_project = uuid.uuid4()
    async with runtime.db.transaction(other_tenant) as session:
        session.add(Project(id=other_project, tenant_id=other_tenant, name="shop"))
    async with runtime.db.transaction(other_tenant) as session:
        await index_document(
            session,
            tenant_id=other_tenant,
            project_id=other_project,
            kind="markdown",
            source="notes.md",
            title="Other notes",
            text="# Notes\n\nCustomers and orders of another company; deleteCustomer is forbidden here.",
        )
        # the other tenant asking for the first tenant's project (it knows the id) gets nothing
        assert (
            await retrieval.search(
                session,
                project_id=corpus.project_id,
                query="deleteCustomer",
                vector=builtin("deleteCustomer"),
            )
            == []
        )
        own = await retrieval.search(
            session, project_id=other_project, query="deleteCustomer", vector=builtin("deleteCustomer")
        )
    assert [hit.source for hit in own] == ["notes.md"]
    hits = await search(runtime, corpus, "deleteCustomer customers orders company", limit=50)
    assert hits
    assert "notes.md" not in {hit.source for hit in hits}
    async with runtime.db.transaction(corpus.tenant_id) as session:
        # the first tenant asking for the other tenant's project gets nothing either
        assert (
            await retrieval.search(
                session, project_id=other_project, query="deleteCustomer", vector=builtin("deleteCustomer")
            )
            == []
        )
        second = Project(id=uuid.uuid4(), tenant_id=corpus.tenant_id, name="empty")
        session.add(second)
        await session.flush()
        assert (
            await retrieval.search(
                session, project_id=second.id, query="customer", vector=builtin("customer")
            )
            == []
        )


async def test_a_huge_catalogue_is_indexed_up_to_the_chunk_limit(
    corpus: Corpus, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexing, "MAX_CHUNKS_PER_DOCUMENT", 4)
    async with runtime.db.transaction(corpus.tenant_id) as session:
        document_id = await index_catalogue(
            session,
            tenant_id=corpus.tenant_id,
            project_id=corpus.project_id,
            environment_id=uuid.uuid4(),
            catalogue=Catalogue(title="Big", spec_hash="b" * 64, operations=CATALOGUE.operations),
        )
        document = await repository.get_document(session, corpus.project_id, document_id)
    assert document is not None
    assert document.meta["truncated"] is True
    assert document.meta["operations"] == len(OPERATIONS)
    assert len(await chunk_ids(runtime, corpus, document_id)) == 4
