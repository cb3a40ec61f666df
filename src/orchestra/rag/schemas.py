"""Request and response bodies of the documents API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from orchestra.kit.json_storage import STORABLE_NON_BLANK_TEXT, json_storage_problem
from orchestra.models import RagChunk, RagDocument
from orchestra.rag.retrieval import Hit

MAX_TEXT_CHARS = 1_048_576  # 1 MiB of Markdown is a long guide; more is not a document but a dump
MAX_QUERY_CHARS = 1000
MAX_SEARCH_LIMIT = 50
DocumentKind = Literal["openapi", "markdown", "failure"]


def storable(value: str) -> str:
    """Text PostgreSQL can store (no NUL, no lone surrogate): otherwise a clear 422, never a 500."""
    problem = json_storage_problem(value)
    if problem:
        raise ValueError(problem[1])
    return value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain more than white space")
    return value


Title = Annotated[
    str,
    Field(min_length=1, max_length=500, json_schema_extra={"pattern": STORABLE_NON_BLANK_TEXT}),
    AfterValidator(storable),
    AfterValidator(not_blank),
]
Source = Annotated[
    str,
    Field(min_length=1, max_length=500, json_schema_extra={"pattern": STORABLE_NON_BLANK_TEXT}),
    AfterValidator(storable),
    AfterValidator(not_blank),
]
Text = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TEXT_CHARS, json_schema_extra={"pattern": STORABLE_NON_BLANK_TEXT}),
    AfterValidator(storable),
    AfterValidator(not_blank),
]


class DocumentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    text: Text = Field(description="Markdown; split into chunks by headings and paragraphs.")
    source: Source | None = Field(
        default=None,
        description="What the document is (a file name, a URL); posting the same source again replaces "
        "that document. Default: the title.",
    )


class DocumentOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    kind: DocumentKind
    source: str
    title: str
    content_hash: str
    metadata: dict[str, Any]
    chunks: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, document: RagDocument, chunks: int) -> DocumentOut:
        return cls(
            id=document.id,
            project_id=document.project_id,
            kind=document.kind,
            source=document.source,
            title=document.title,
            content_hash=document.content_hash,
            metadata=document.meta,
            chunks=chunks,
            created_at=document.created_at,
            updated_at=document.updated_at,
        )


class ChunkOut(BaseModel):
    ordinal: int
    heading: str
    text: str
    embedding_model: str | None = Field(description="The configured model's vector, if it made one.")

    @classmethod
    def of(cls, chunk: RagChunk) -> ChunkOut:
        return cls(
            ordinal=chunk.ordinal,
            heading=chunk.heading,
            text=chunk.text,
            embedding_model=chunk.embedding_model,
        )


class DocumentDetail(DocumentOut):
    content: list[ChunkOut]


class HitOut(BaseModel):
    chunk_id: int
    document_id: uuid.UUID
    kind: DocumentKind
    source: str
    title: str
    heading: str
    excerpt: str
    score: float = Field(description="Reciprocal Rank Fusion score of the vector and full-text rankings.")
    vector_rank: int | None
    text_rank: int | None

    @classmethod
    def of(cls, hit: Hit) -> HitOut:
        return cls.model_validate(hit.to_json())


class SearchResult(BaseModel):
    query: str
    hits: list[HitOut]
