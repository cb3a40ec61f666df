"""All SQL of the RAG feature: documents, chunks, and the two rankings hybrid search fuses."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.kit.repository import scalar_page
from orchestra.models import ApiSpec, RagChunk, RagDocument


@dataclass(frozen=True, slots=True)
class NewChunk:
    ordinal: int
    heading: str
    text: str
    keywords: str
    builtin_embedding: list[float]  # the model's vector is added later (``set_embeddings``)


@dataclass(frozen=True, slots=True)
class ChunkView:
    chunk_id: int
    document_id: uuid.UUID
    kind: str
    source: str
    title: str
    heading: str
    text: str


async def find_document(
    session: AsyncSession, project_id: uuid.UUID, kind: str, source: str
) -> RagDocument | None:
    query = select(RagDocument).where(
        RagDocument.project_id == project_id, RagDocument.kind == kind, RagDocument.source == source
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_document(
    session: AsyncSession, project_id: uuid.UUID, document_id: uuid.UUID
) -> RagDocument | None:
    query = select(RagDocument).where(RagDocument.project_id == project_id, RagDocument.id == document_id)
    return (await session.execute(query)).scalar_one_or_none()


async def documents_page(
    session: AsyncSession, project_id: uuid.UUID, kind: str | None, limit: int, offset: int
) -> tuple[list[RagDocument], int]:
    query = select(RagDocument).where(RagDocument.project_id == project_id)
    if kind is not None:
        query = query.where(RagDocument.kind == kind)
    return await scalar_page(
        session, query.order_by(RagDocument.kind, RagDocument.title, RagDocument.id), limit, offset
    )


async def upsert_document(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    kind: str,
    source: str,
    title: str,
    content_hash: str,
    metadata: dict[str, Any],
) -> uuid.UUID:
    """Insert the document or overwrite the one with this (project, kind, source); its id. Concurrent
    writers of one source wait for each other instead of failing."""
    statement = insert(RagDocument).values(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        project_id=project_id,
        kind=kind,
        source=source,
        title=title,
        content_hash=content_hash,
        meta=metadata,
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[RagDocument.project_id, RagDocument.kind, RagDocument.source],
        set_={
            RagDocument.title: statement.excluded.title,
            RagDocument.content_hash: statement.excluded.content_hash,
            RagDocument.meta: statement.excluded["metadata"],
            RagDocument.updated_at: func.now(),
        },
    ).returning(RagDocument.id)
    return uuid.UUID(str((await session.execute(upsert)).scalar_one()))


async def delete_document(session: AsyncSession, document_id: uuid.UUID) -> None:
    await session.execute(delete(RagDocument).where(RagDocument.id == document_id))


async def delete_documents(
    session: AsyncSession, project_id: uuid.UUID, kind: str, sources: Collection[str]
) -> None:
    if sources:
        await session.execute(
            delete(RagDocument).where(
                RagDocument.project_id == project_id,
                RagDocument.kind == kind,
                RagDocument.source.in_(list(sources)),
            )
        )


async def replace_chunks(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    project_id: uuid.UUID,
    document_id: uuid.UUID,
    chunks: Sequence[NewChunk],
) -> None:
    await session.execute(delete(RagChunk).where(RagChunk.document_id == document_id))
    if chunks:
        await session.execute(
            insert(RagChunk),
            [
                {
                    "tenant_id": tenant_id,
                    "project_id": project_id,
                    "document_id": document_id,
                    "ordinal": chunk.ordinal,
                    "heading": chunk.heading,
                    "text": chunk.text,
                    "keywords": chunk.keywords,
                    "builtin_embedding": chunk.builtin_embedding,
                }
                for chunk in chunks
            ],
        )


async def chunks_without_embedding(
    session: AsyncSession, project_id: uuid.UUID, model: str, limit: int, document_id: uuid.UUID | None = None
) -> list[tuple[int, str, str]]:
    """(id, heading, text) of chunks not embedded by ``model`` yet."""
    query = select(RagChunk.id, RagChunk.heading, RagChunk.text).where(
        RagChunk.project_id == project_id, RagChunk.embedding_model.is_distinct_from(model)
    )
    if document_id is not None:
        query = query.where(RagChunk.document_id == document_id)
    rows = await session.execute(query.order_by(RagChunk.id).limit(limit))
    return [(row.id, row.heading, row.text) for row in rows]


async def set_embeddings(session: AsyncSession, model: str, vectors: dict[int, list[float]]) -> None:
    for chunk_id, vector in vectors.items():
        await session.execute(
            update(RagChunk).where(RagChunk.id == chunk_id).values(embedding=vector, embedding_model=model)
        )


async def chunk_counts(session: AsyncSession, document_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not document_ids:
        return {}
    rows = await session.execute(
        select(RagChunk.document_id, func.count())
        .where(RagChunk.document_id.in_(list(document_ids)))
        .group_by(RagChunk.document_id)
    )
    return {row[0]: int(row[1]) for row in rows}


async def document_chunks(session: AsyncSession, document_id: uuid.UUID) -> list[RagChunk]:
    rows = await session.execute(
        select(RagChunk).where(RagChunk.document_id == document_id).order_by(RagChunk.ordinal)
    )
    return list(rows.scalars())


async def spec_hashes(session: AsyncSession, project_id: uuid.UUID) -> dict[str, str]:
    """Environment id (as text) → hash of the OpenAPI description imported for it."""
    rows = await session.execute(
        select(ApiSpec.environment_id, ApiSpec.spec_hash).where(ApiSpec.project_id == project_id)
    )
    return {str(row.environment_id): row.spec_hash for row in rows}


async def spec_catalogue(session: AsyncSession, environment_id: uuid.UUID) -> dict[str, Any] | None:
    query = select(ApiSpec.catalogue).where(ApiSpec.environment_id == environment_id)
    return (await session.execute(query)).scalar_one_or_none()


async def document_hashes(session: AsyncSession, project_id: uuid.UUID, kind: str) -> dict[str, str]:
    """Source → content hash of the project's documents of this kind."""
    rows = await session.execute(
        select(RagDocument.source, RagDocument.content_hash).where(
            RagDocument.project_id == project_id, RagDocument.kind == kind
        )
    )
    return {row.source: row.content_hash for row in rows}


def _scoped(
    query: Select[Any], project_id: uuid.UUID, kinds: Collection[str] | None, exclude_sources: Collection[str]
) -> Select[Any]:
    query = query.join(RagDocument, RagDocument.id == RagChunk.document_id).where(
        RagChunk.project_id == project_id
    )
    if kinds is not None:
        query = query.where(RagDocument.kind.in_(list(kinds)))
    if exclude_sources:
        query = query.where(RagDocument.source.not_in(list(exclude_sources)))
    return query


async def vector_ranking(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    vector: list[float],
    model: str | None,
    kinds: Collection[str] | None,
    exclude_sources: Collection[str],
    limit: int,
    max_distance: float | None = None,
) -> list[tuple[int, float]]:
    """(chunk id, cosine distance), nearest first, none farther than ``max_distance``. ``model`` None:
    the built-in vectors every chunk has; else the vectors of that model only (other models' vectors live
    in other spaces). An exact scan: a project's corpus is small enough, and no index would fit vectors
    of several dimensions."""
    column = RagChunk.builtin_embedding if model is None else RagChunk.embedding
    distance = column.cosine_distance(vector).label("distance")
    query = _scoped(select(RagChunk.id, distance), project_id, kinds, exclude_sources)
    if model is not None:
        query = query.where(RagChunk.embedding_model == model)
    if max_distance is not None:
        query = query.where(column.cosine_distance(vector) <= max_distance)
    rows = await session.execute(query.order_by(distance, RagChunk.id).limit(limit))
    return [(row.id, float(row.distance)) for row in rows]


async def text_ranking(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    query_text: str,
    kinds: Collection[str] | None,
    exclude_sources: Collection[str],
    limit: int,
) -> list[tuple[int, float]]:
    """(chunk id, ts_rank_cd), best first, of chunks matching the query as a web search would read it."""
    tsquery = func.websearch_to_tsquery(literal_column("'english'"), query_text)
    rank = func.ts_rank_cd(RagChunk.search, tsquery).label("rank")
    query = _scoped(select(RagChunk.id, rank), project_id, kinds, exclude_sources).where(
        RagChunk.search.op("@@")(tsquery)
    )
    rows = await session.execute(query.order_by(rank.desc(), RagChunk.id).limit(limit))
    return [(row.id, float(row.rank)) for row in rows]


async def chunk_views(session: AsyncSession, chunk_ids: Collection[int]) -> dict[int, ChunkView]:
    if not chunk_ids:
        return {}
    rows = await session.execute(
        select(
            RagChunk.id,
            RagChunk.document_id,
            RagDocument.kind,
            RagDocument.source,
            RagDocument.title,
            RagChunk.heading,
            RagChunk.text,
        )
        .join(RagDocument, RagDocument.id == RagChunk.document_id)
        .where(RagChunk.id.in_(list(chunk_ids)))
    )
    return {row.id: ChunkView(*row) for row in rows}
