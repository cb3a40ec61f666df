"""RAG: documents a project's assistant may retrieve from (imported OpenAPI operations, Markdown guides,
failure summaries), cut into chunks that carry embeddings and a full-text vector."""

from __future__ import annotations

import uuid
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, IdMixin, TenantMixin, TimestampMixin

DOCUMENT_KINDS = ("openapi", "markdown", "failure")
# The full-text vector: English stemming over the heading, the text and the identifier words split out of
# paths and camelCase names (which the English parser would keep whole).
SEARCH_EXPRESSION = "to_tsvector('english', heading || ' ' || text || ' ' || keywords)"


class RagDocument(IdMixin, TenantMixin, TimestampMixin, Base):
    """One indexed source; re-indexing the same (project, kind, source) replaces its chunks."""

    __tablename__ = "rag_documents"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "source"),
        CheckConstraint("kind IN ('openapi', 'markdown', 'failure')", name="kind"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    source: Mapped[str] = mapped_column(String(500), nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    # sha256 of the indexed text: unchanged content is not chunked or embedded again.
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    meta: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, nullable=False, default=dict, server_default="{}"
    )


class RagChunk(TenantMixin, Base):
    """A retrievable piece of a document. ``builtin_embedding`` (the offline embedder) is always stored so
    search keeps working when the configured model is unreachable; ``embedding`` is the configured
    embedder's vector, ``embedding_model`` names it (NULL: not embedded by it yet). The vector columns
    have no fixed dimension because models differ; search compares only vectors of one model."""

    __tablename__ = "rag_chunks"
    __table_args__ = (Index("ix_rag_chunks_search", "search", postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("rag_documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer, nullable=False)
    heading: Mapped[str] = mapped_column(Text, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    keywords: Mapped[str] = mapped_column(Text, nullable=False)
    builtin_embedding: Mapped[list[float]] = mapped_column(Vector(), nullable=False)
    embedding: Mapped[list[float] | None] = mapped_column(Vector())
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    search: Mapped[Any] = mapped_column(TSVECTOR, Computed(SEARCH_EXPRESSION, persisted=True))
