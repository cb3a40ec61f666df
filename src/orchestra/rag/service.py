"""The documents of a project: adding Markdown guides, listing, reading, deleting, and searching them
together with the operations of the project's imported OpenAPI descriptions."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.db import Transactions
from orchestra.errors import InvalidInput, NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import Project, RagDocument
from orchestra.projects import service as projects
from orchestra.rag import repository, retrieval
from orchestra.rag.embedders import Embedder
from orchestra.rag.indexing import embed_missing, ensure_operation_docs, index_document
from orchestra.rag.schemas import (
    ChunkOut,
    DocumentCreate,
    DocumentDetail,
    DocumentKind,
    DocumentOut,
    HitOut,
    SearchResult,
    storable,
)


async def create(
    transactions: Transactions, actor: Actor, project: Project | str, data: DocumentCreate, embedder: Embedder
) -> DocumentOut:
    """Index a Markdown document; one with the same source is replaced. The model embeds its chunks after
    the document is stored, with no transaction open meanwhile."""
    async with transactions() as session:
        owner = await projects.get(session, actor, project)
        document_id = await index_document(
            session,
            tenant_id=actor.tenant_id,
            project_id=owner.id,
            kind="markdown",
            source=data.source or data.title,
            title=data.title,
            text=data.text,
        )
    await embed_missing(transactions, project_id=owner.id, embedder=embedder, document_id=document_id)
    async with transactions() as session:
        document = await _document(session, owner, document_id)
        counts = await repository.chunk_counts(session, [document.id])
    return DocumentOut.of(document, counts.get(document.id, 0))


async def list_page(
    session: AsyncSession,
    actor: Actor,
    project: Project | str,
    params: PageParams,
    kind: DocumentKind | None = None,
) -> Page[DocumentOut]:
    owner = await projects.get(session, actor, project)
    rows, total = await repository.documents_page(session, owner.id, kind, params.limit, params.offset)
    counts = await repository.chunk_counts(session, [row.id for row in rows])
    return Page[DocumentOut](
        items=[DocumentOut.of(row, counts.get(row.id, 0)) for row in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


async def get(
    session: AsyncSession, actor: Actor, project: Project | str, document_id: uuid.UUID
) -> DocumentDetail:
    owner = await projects.get(session, actor, project)
    document = await _document(session, owner, document_id)
    chunks = await repository.document_chunks(session, document.id)
    summary = DocumentOut.of(document, len(chunks))
    return DocumentDetail(**summary.model_dump(), content=[ChunkOut.of(chunk) for chunk in chunks])


async def delete(session: AsyncSession, actor: Actor, project: Project | str, document_id: uuid.UUID) -> None:
    owner = await projects.get(session, actor, project)
    document = await _document(session, owner, document_id)
    await repository.delete_document(session, document.id)


async def search(
    transactions: Transactions,
    actor: Actor,
    project: Project | str,
    query: str,
    embedder: Embedder,
    *,
    kind: DocumentKind | None = None,
    limit: int = 8,
) -> SearchResult:
    """Hybrid search of the project's documents; imported OpenAPI descriptions that changed since they
    were last indexed are indexed first, and chunks the model has not embedded yet are caught up. The
    model is only called between transactions."""
    try:
        storable(query)
    except ValueError as error:
        raise InvalidInput(f"q: {error}") from None
    if not query.strip():
        raise InvalidInput("q must contain more than white space")
    async with transactions() as session:
        owner = await projects.get(session, actor, project)
        await ensure_operation_docs(session, tenant_id=actor.tenant_id, project_id=owner.id)
    await embed_missing(transactions, project_id=owner.id, embedder=embedder)
    vector = await retrieval.query_vector(embedder, query)
    async with transactions() as session:
        hits = await retrieval.search(
            session,
            project_id=owner.id,
            query=query,
            vector=vector,
            kinds=[kind] if kind else None,
            limit=limit,
        )
    return SearchResult(query=query, hits=[HitOut.of(hit) for hit in hits])


async def _document(session: AsyncSession, owner: Project, document_id: uuid.UUID) -> RagDocument:
    document = await repository.get_document(session, owner.id, document_id)
    if document is None:
        raise NotFound(f"document '{document_id}' does not exist in project '{owner.name}'")
    return document
