"""Hybrid retrieval: the nearest chunks by embedding and the best full-text matches, fused by Reciprocal
Rank Fusion (each list contributes 1 / (60 + rank)), so a chunk both rankings like wins, and one only a
single ranking finds (a paraphrase, or an exact identifier) still comes back."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.rag import repository
from orchestra.rag.embedders import BUILTIN, Embedder
from orchestra.rag.indexing import model_vectors, uses_model

RRF_K = 60
EXCERPT_CHARS = 500
CANDIDATES = 40  # per ranking, before fusion
# Built-in vectors of texts without a feature in common are orthogonal (similarity about 0): such a chunk
# is no answer, however few the chunks are. Model embeddings have no such floor, so no cut-off there.
BUILTIN_MAX_DISTANCE = 0.95


@dataclass(frozen=True, slots=True)
class Hit:
    chunk_id: int
    document_id: uuid.UUID
    kind: str
    source: str
    title: str
    heading: str
    excerpt: str  # at most EXCERPT_CHARS characters of the chunk
    score: float  # the fused RRF score (or 1 - cosine distance for ``similar``)
    vector_rank: int | None  # 1-based rank in the vector ranking; None: not among its candidates
    text_rank: int | None  # likewise in the full-text ranking

    def to_json(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "document_id": str(self.document_id),
            "kind": self.kind,
            "source": self.source,
            "title": self.title,
            "heading": self.heading,
            "excerpt": self.excerpt,
            "score": self.score,
            "vector_rank": self.vector_rank,
            "text_rank": self.text_rank,
        }


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "…"


def fuse(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal Rank Fusion of ranked id lists: (id, score), best first (ties: the smaller id)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def max_distance(model: str | None) -> float | None:
    return BUILTIN_MAX_DISTANCE if model is None else None


class QueryVector(NamedTuple):
    """A query's vector and the model whose chunk vectors it is compared with (None: the built-in one)."""

    vector: list[float]
    model: str | None


async def query_vector(embedder: Embedder, text: str) -> QueryVector:
    """The vector of ``text`` (the built-in one when the configured model is unreachable right now).
    Computed before a search opens its transaction: a model call may take a while."""
    if uses_model(embedder):
        vectors = await model_vectors(embedder, [text])
        if vectors is not None:
            return QueryVector(vectors[0], embedder.name)
    return QueryVector(BUILTIN.vector(text), None)


async def search(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    query: str,
    vector: QueryVector,
    kinds: Collection[str] | None = None,
    limit: int = 8,
    exclude_sources: Collection[str] = (),
) -> list[Hit]:
    """The ``limit`` best chunks of the project for ``query`` (whose ``vector`` the caller computed;
    row-level security keeps it to the transaction's tenant, ``project_id`` to the project)."""
    embedding, model = vector
    candidates = max(CANDIDATES, limit * 2)
    by_vector = await repository.vector_ranking(
        session,
        project_id=project_id,
        vector=embedding,
        model=model,
        kinds=kinds,
        exclude_sources=exclude_sources,
        limit=candidates,
        max_distance=max_distance(model),
    )
    by_text = await repository.text_ranking(
        session,
        project_id=project_id,
        query_text=query,
        kinds=kinds,
        exclude_sources=exclude_sources,
        limit=candidates,
    )
    vector_ids = [chunk_id for chunk_id, _ in by_vector]
    text_ids = [chunk_id for chunk_id, _ in by_text]
    fused = fuse([vector_ids, text_ids])[:limit]
    views = await repository.chunk_views(session, [chunk_id for chunk_id, _ in fused])
    vector_rank = {chunk_id: rank for rank, chunk_id in enumerate(vector_ids, start=1)}
    text_rank = {chunk_id: rank for rank, chunk_id in enumerate(text_ids, start=1)}
    return [
        _hit(views[chunk_id], score, vector_rank.get(chunk_id), text_rank.get(chunk_id))
        for chunk_id, score in fused
        if chunk_id in views
    ]


async def similar(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    vector: QueryVector,
    kind: str,
    limit: int = 5,
    exclude_sources: Collection[str] = (),
) -> list[Hit]:
    """The chunks of ``kind`` nearest to a text (its ``vector``) by embedding alone (e.g. similar past
    failures, where the wording of two failures differs more than their meaning); score = cosine
    similarity."""
    embedding, model = vector
    ranking = await repository.vector_ranking(
        session,
        project_id=project_id,
        vector=embedding,
        model=model,
        kinds=[kind],
        exclude_sources=exclude_sources,
        limit=limit,
        max_distance=max_distance(model),
    )
    views = await repository.chunk_views(session, [chunk_id for chunk_id, _ in ranking])
    return [
        _hit(views[chunk_id], 1.0 - distance, rank, None)
        for rank, (chunk_id, distance) in enumerate(ranking, start=1)
        if chunk_id in views
    ]


def _hit(view: repository.ChunkView, score: float, vector_rank: int | None, text_rank: int | None) -> Hit:
    return Hit(
        chunk_id=view.chunk_id,
        document_id=view.document_id,
        kind=view.kind,
        source=view.source,
        title=view.title,
        heading=view.heading,
        excerpt=excerpt(view.text),
        score=score,
        vector_rank=vector_rank,
        text_rank=text_rank,
    )
