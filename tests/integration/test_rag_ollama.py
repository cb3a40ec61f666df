"""The Ollama embedder against a fake Ollama speaking the real protocol over HTTP, and the fall-back to the
built-in vectors when Ollama is unreachable or fails, at indexing time and at query time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import create_async_engine

from orchestra.config import Settings
from orchestra.models import RagChunk
from orchestra.rag import retrieval
from orchestra.rag.embedders import EmbedderUnavailable, OllamaEmbedder
from orchestra.rag.indexing import embed_missing, index_document
from orchestra.runtime import Runtime
from tests.fakes.ollama_server import FakeOllama, Fault, Slow, embedding, unused_url

MODEL = "nomic-embed-text"
GUIDES = {
    "cleanup.md": "# Test data cleanup\n\nEntities created in the data phase are deleted after the test.",
    "egress.md": "# Egress\n\nThe executor calls only the host of the base URL and the allowed hosts.",
    "secrets.md": "# Secrets\n\nEnvironment secrets are encrypted at rest and never returned.",
}


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


def embedder(url: str, timeout_s: float = 5.0) -> OllamaEmbedder:
    return OllamaEmbedder(url, MODEL, timeout_s)


async def test_the_ollama_embedder_asks_the_model_in_batches(ollama: FakeOllama) -> None:
    texts = [f"text number {n}" for n in range(70)]
    model = embedder(ollama.url)
    vectors = await model.embed(texts)
    assert vectors == [embedding(text, 768) for text in texts]
    assert (model.name, model.dimensions) == (f"ollama:{MODEL}", 768)
    assert [len(request["input"]) for request in ollama.embed_requests] == [32, 32, 6]
    assert {request["model"] for request in ollama.embed_requests} == {MODEL}
    assert await model.embed([]) == []


@pytest.mark.parametrize(
    "fault",
    [
        Fault.server_error(),
        Fault.model_not_found(MODEL),
        Fault.malformed('{"model": "nomic-embed-text", "embeddings": [[0.1, '),
        Fault(200, '{"model": "nomic-embed-text", "embeddings": []}'),
        Fault(200, '{"model": "nomic-embed-text", "embeddings": [[]]}'),
        Slow(3.0),
    ],
)
async def test_a_failing_model_is_reported_as_unavailable(ollama: FakeOllama, fault: Fault | Slow) -> None:
    ollama.script(fault, path="/api/embed")
    with pytest.raises(EmbedderUnavailable, match=MODEL):
        await embedder(ollama.url, timeout_s=0.5).embed(["one text"])


async def test_after_a_failure_ollama_is_left_alone_for_a_while(ollama: FakeOllama) -> None:
    ollama.script(Fault.server_error(), path="/api/embed")
    resting = OllamaEmbedder(ollama.url, MODEL, 5.0, retry_after_s=60.0)
    with pytest.raises(EmbedderUnavailable, match="terminated"):
        await resting.embed(["one"])
    with pytest.raises(EmbedderUnavailable, match="not asked again yet"):
        await resting.embed(["two"])
    assert [request["input"] for request in ollama.embed_requests] == [["one"]]

    ollama.script(Fault.server_error(), path="/api/embed")
    eager = OllamaEmbedder(ollama.url, MODEL, 5.0, retry_after_s=0.0)
    with pytest.raises(EmbedderUnavailable):
        await eager.embed(["three"])
    assert await eager.embed(["four"]) == [embedding("four", 768)]


async def test_an_unreachable_ollama_is_reported_as_unavailable() -> None:
    with pytest.raises(EmbedderUnavailable, match="Failed to connect"):
        await embedder(unused_url()).embed(["one text"])


async def project(api: httpx.AsyncClient) -> uuid.UUID:
    response = await api.post("/projects", json={"name": "rag"})
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def index_guides(runtime: Runtime, project_id: uuid.UUID, model: OllamaEmbedder) -> None:
    """Index the guides as the API does: stored in a transaction, then embedded by the model after it."""
    async with runtime.db.transaction(runtime.tenant_id) as session:
        for source, text in GUIDES.items():
            await index_document(
                session,
                tenant_id=runtime.tenant_id,
                project_id=project_id,
                kind="markdown",
                source=source,
                title=source,
                text=text,
            )
    await embed_missing(runtime.db.transactions(runtime.tenant_id), project_id=project_id, embedder=model)


async def stored_models(runtime: Runtime, project_id: uuid.UUID) -> list[str | None]:
    async with runtime.db.transaction(runtime.tenant_id) as session:
        query = (
            select(RagChunk.embedding_model).where(RagChunk.project_id == project_id).order_by(RagChunk.id)
        )
        return list((await session.execute(query)).scalars())


async def search(runtime: Runtime, project_id: uuid.UUID, model: OllamaEmbedder, query: str) -> list[str]:
    vector = await retrieval.query_vector(model, query)
    async with runtime.db.transaction(runtime.tenant_id) as session:
        hits = await retrieval.search(session, project_id=project_id, query=query, vector=vector, limit=3)
    return [hit.source for hit in hits]


async def test_chunks_store_the_models_vectors_and_search_compares_with_them(
    api: httpx.AsyncClient, runtime: Runtime, ollama: FakeOllama
) -> None:
    project_id = await project(api)
    model = embedder(ollama.url)
    await index_guides(runtime, project_id, model)
    assert await stored_models(runtime, project_id) == [f"ollama:{MODEL}"] * 3
    async with runtime.db.transaction(runtime.tenant_id) as session:
        rows = (await session.execute(select(RagChunk.embedding, RagChunk.heading, RagChunk.text))).all()
    assert len(rows) == 3
    for vector, heading, text in rows:  # what the model answered for "heading\ntext"
        assert list(vector) == pytest.approx(embedding(f"{heading}\n{text}", 768), abs=1e-6)
    asked = len(ollama.embed_requests)
    # "host" and "executor" are words of the egress guide only: the model's vectors put it first
    assert (await search(runtime, project_id, model, "executor host"))[0] == "egress.md"
    assert ollama.embed_requests[asked]["input"] == ["executor host"]


async def test_search_falls_back_to_the_builtin_vectors_when_ollama_fails_at_query_time(
    api: httpx.AsyncClient, runtime: Runtime, ollama: FakeOllama
) -> None:
    project_id = await project(api)
    await index_guides(runtime, project_id, embedder(ollama.url))
    ollama.script(Fault.server_error(), path="/api/embed")
    hits = await search(runtime, project_id, embedder(ollama.url), "remove created entities")
    assert hits[0] == "cleanup.md"
    assert ollama.embed_requests[-1]["input"] == ["remove created entities"]  # asked, failed, fell back
    assert (await search(runtime, project_id, embedder(unused_url()), "encrypted at rest"))[0] == "secrets.md"


async def test_chunks_indexed_while_ollama_is_down_are_searchable_and_embedded_later(
    api: httpx.AsyncClient, runtime: Runtime, ollama: FakeOllama
) -> None:
    project_id = await project(api)
    down = embedder(unused_url())
    await index_guides(runtime, project_id, down)
    assert await stored_models(runtime, project_id) == [None, None, None]
    assert (await search(runtime, project_id, down, "remove created entities"))[0] == "cleanup.md"

    up = embedder(ollama.url)
    # with Ollama back, only the model's vectors count: none yet, so the vector side is empty
    vector = await retrieval.query_vector(up, "executor host")
    async with runtime.db.transaction(runtime.tenant_id) as session:
        hits = await retrieval.search(session, project_id=project_id, query="executor host", vector=vector)
    assert all(hit.vector_rank is None for hit in hits)
    transactions = runtime.db.transactions(runtime.tenant_id)
    assert await embed_missing(transactions, project_id=project_id, embedder=up) == 3
    assert await embed_missing(transactions, project_id=project_id, embedder=up) == 0
    assert await stored_models(runtime, project_id) == [f"ollama:{MODEL}"] * 3
    assert (await search(runtime, project_id, up, "executor host"))[0] == "egress.md"


async def test_the_documents_api_uses_the_configured_ollama(
    api: httpx.AsyncClient, runtime: Runtime, settings: Settings, ollama: FakeOllama
) -> None:
    await project(api)
    runtime.settings.ollama_url = ollama.url
    response = await api.post(
        "/projects/rag/documents", json={"title": "Egress", "text": GUIDES["egress.md"]}
    )
    assert response.status_code == 201, response.text
    detail = (await api.get(f"/projects/rag/documents/{response.json()['id']}")).json()
    assert [chunk["embedding_model"] for chunk in detail["content"]] == [f"ollama:{MODEL}"]
    hits = (await api.get("/projects/rag/documents/search", params={"q": "allowed hosts"})).json()["hits"]
    assert hits[0]["source"] == "Egress"
    assert hits[0]["vector_rank"] == 1
    assert ollama.embed_requests[-1]["input"] == ["allowed hosts"]

    runtime.settings.ollama_url = unused_url()  # Ollama gone: still 201 and still found
    response = await api.post(
        "/projects/rag/documents", json={"title": "Secrets", "text": GUIDES["secrets.md"]}
    )
    assert response.status_code == 201, response.text
    hits = (await api.get("/projects/rag/documents/search", params={"q": "encrypted secrets"})).json()["hits"]
    assert hits[0]["source"] == "Secrets"


async def transactions_left_idle(owner_database_url: str, longer_than_s: float) -> int:
    """Connections of this database sitting in an open transaction, doing nothing, for a while."""
    engine = create_async_engine(owner_database_url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' "
                    "AND now() - state_change > make_interval(secs => :s)"
                ),
                {"s": longer_than_s},
            )
            return int(found.scalar_one())
    finally:
        await engine.dispose()


async def test_no_transaction_waits_on_the_model(
    api: httpx.AsyncClient, runtime: Runtime, owner_database_url: str, ollama: FakeOllama
) -> None:
    """Indexing and searching call a slow model between transactions, never inside one."""
    await project(api)
    runtime.settings.ollama_url = ollama.url
    ollama.script(*[Slow(1.5)] * 4, path="/api/embed")
    adding = asyncio.create_task(
        api.post("/projects/rag/documents", json={"title": "Egress", "text": GUIDES["egress.md"]})
    )
    searching = asyncio.create_task(api.get("/projects/rag/documents/search", params={"q": "allowed hosts"}))
    await asyncio.sleep(0.9)  # both are waiting on the model now
    assert await transactions_left_idle(owner_database_url, 0.5) == 0
    added, found = await adding, await searching
    assert added.status_code == 201, added.text
    assert found.status_code == 200, found.text
    detail = (await api.get(f"/projects/rag/documents/{added.json()['id']}")).json()
    assert [chunk["embedding_model"] for chunk in detail["content"]] == [f"ollama:{MODEL}"]
