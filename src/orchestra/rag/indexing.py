"""Putting documents into the index: chunk, embed, store — only when the content changed.

Every chunk stores the built-in embedder's vector (computed in-process), so search works offline and
whenever the configured model is unreachable. The configured model's vectors are stored beside it by
``embed_missing``, which calls the model outside any transaction: the caller indexes, commits, then calls
it; chunks it could not embed (the model was unreachable) are caught up by a later call."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.db import Transactions
from orchestra.errors import InvalidInput
from orchestra.openapi.operations import Catalogue
from orchestra.rag import repository
from orchestra.rag.chunking import Chunk, chunk_catalogue, chunk_markdown
from orchestra.rag.embedders import BUILTIN, Embedder, EmbedderUnavailable
from orchestra.rag.repository import NewChunk
from orchestra.rag.words import keywords

log = structlog.get_logger(__name__)
EMBED_CATCH_UP = 256
# Bounds the rows (and vectors) one document may add: 1 MiB of prose is about 1,300 chunks, but 1 MiB of
# one-line sections would be hundreds of thousands.
MAX_CHUNKS_PER_DOCUMENT = 2000


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embedding_text(heading: str, text: str) -> str:
    return f"{heading}\n{text}" if heading else text


def uses_model(embedder: Embedder) -> bool:
    """Whether ``embedder`` fills the model column (the built-in one lives in its own column)."""
    return embedder.name != BUILTIN.name


async def index_document(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    kind: str,
    source: str,
    title: str,
    text: str,
    metadata: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Index Markdown ``text`` as the document (project, kind, source), replacing what that source had.
    Unchanged content keeps its chunks (only the title and metadata are updated)."""
    digest = content_hash(text)
    return await _store(
        session,
        tenant_id=tenant_id,
        project_id=project_id,
        kind=kind,
        source=source,
        title=title,
        digest=digest,
        metadata=metadata or {},
        chunks=lambda: _markdown_chunks(text),
    )


async def index_catalogue(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    environment_id: uuid.UUID,
    catalogue: Catalogue,
) -> uuid.UUID:
    """Index an environment's operations (one chunk each, the first ``MAX_CHUNKS_PER_DOCUMENT``) as the
    document ('openapi', environment id); the catalogue's spec hash is its content hash, so an unchanged
    description is not indexed again."""
    return await _store(
        session,
        tenant_id=tenant_id,
        project_id=project_id,
        kind="openapi",
        source=str(environment_id),
        title=catalogue.title or "OpenAPI description",
        digest=catalogue.spec_hash,
        metadata={
            "environment_id": str(environment_id),
            "operations": len(catalogue.operations),
            "truncated": len(catalogue.operations) > MAX_CHUNKS_PER_DOCUMENT,
        },
        chunks=lambda: chunk_catalogue(catalogue)[:MAX_CHUNKS_PER_DOCUMENT],
    )


async def ensure_operation_docs(session: AsyncSession, *, tenant_id: uuid.UUID, project_id: uuid.UUID) -> int:
    """Bring the project's 'openapi' documents in line with its imported descriptions: index those whose
    spec hash changed since they were indexed, drop those whose description is gone. How many it indexed."""
    specs = await repository.spec_hashes(session, project_id)
    indexed = await repository.document_hashes(session, project_id, "openapi")
    await repository.delete_documents(session, project_id, "openapi", set(indexed) - set(specs))
    changed = 0
    for environment, spec_hash in sorted(specs.items()):
        if indexed.get(environment) == spec_hash:
            continue
        data = await repository.spec_catalogue(session, uuid.UUID(environment))
        if data is None:
            continue
        await index_catalogue(
            session,
            tenant_id=tenant_id,
            project_id=project_id,
            environment_id=uuid.UUID(environment),
            catalogue=Catalogue.from_json(data),
        )
        changed += 1
    return changed


async def embed_missing(
    transactions: Transactions,
    *,
    project_id: uuid.UUID,
    embedder: Embedder,
    limit: int = EMBED_CATCH_UP,
    document_id: uuid.UUID | None = None,
) -> int:
    """Embed with the model (up to ``limit``) chunks it has not embedded yet: just indexed, or indexed while
    it was unreachable. No transaction is open during the model call; a chunk replaced meanwhile is simply
    not updated. How many it embedded; 0 when the model is unreachable (or none is configured)."""
    if not uses_model(embedder):
        return 0
    async with transactions() as session:
        rows = await repository.chunks_without_embedding(
            session, project_id, embedder.name, limit, document_id
        )
    if not rows:
        return 0
    vectors = await model_vectors(embedder, [embedding_text(heading, text) for _, heading, text in rows])
    if vectors is None:
        return 0
    async with transactions() as session:
        await repository.set_embeddings(
            session, embedder.name, {row[0]: vector for row, vector in zip(rows, vectors, strict=True)}
        )
    return len(rows)


async def model_vectors(embedder: Embedder, texts: list[str]) -> list[list[float]] | None:
    """The model's vectors, or None when it is unavailable (logged; callers fall back to built-in)."""
    try:
        return await embedder.embed(texts)
    except EmbedderUnavailable as error:
        log.warning("rag.embedder_unavailable", embedder=embedder.name, error=str(error))
        return None


def _markdown_chunks(text: str) -> list[Chunk]:
    chunks = chunk_markdown(text)
    if len(chunks) > MAX_CHUNKS_PER_DOCUMENT:
        raise InvalidInput(
            f"the document splits into {len(chunks)} chunks (sections and ~1,000-character pieces); at most "
            f"{MAX_CHUNKS_PER_DOCUMENT} are allowed: merge small sections or split it into several documents"
        )
    return chunks


async def _store(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    kind: str,
    source: str,
    title: str,
    digest: str,
    metadata: dict[str, Any],
    chunks: Callable[[], list[Chunk]],
) -> uuid.UUID:
    existing = await repository.find_document(session, project_id, kind, source)
    document_id = await repository.upsert_document(
        session,
        tenant_id=tenant_id,
        project_id=project_id,
        kind=kind,
        source=source,
        title=title,
        content_hash=digest,
        metadata=metadata,
    )
    if existing is not None and existing.content_hash == digest:
        return document_id
    new_chunks = await _embedded(chunks())
    await repository.replace_chunks(
        session, tenant_id=tenant_id, project_id=project_id, document_id=document_id, chunks=new_chunks
    )
    log.info("rag.document_indexed", kind=kind, source=source, chunks=len(new_chunks))
    return document_id


async def _embedded(chunks: Sequence[Chunk]) -> list[NewChunk]:
    """The chunks with their built-in vectors; the model's come later (``embed_missing``)."""
    texts = [embedding_text(chunk.heading, chunk.text) for chunk in chunks]
    builtin = await BUILTIN.embed(texts)
    return [
        NewChunk(
            ordinal=ordinal,
            heading=chunk.heading,
            text=chunk.text,
            keywords=keywords(embedding_text(chunk.heading, chunk.text)),
            builtin_embedding=builtin[ordinal],
        )
        for ordinal, chunk in enumerate(chunks)
    ]
