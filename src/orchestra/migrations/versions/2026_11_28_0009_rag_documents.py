"""RAG: documents and their chunks with pgvector embeddings and a full-text index

Creates the ``vector`` extension (pgvector): this migration runs as the schema owner, and an external
PostgreSQL needs pgvector installed (the embedded server has it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_VISIBLE = (
    "tenant_id = orchestra_tenant() AND (orchestra_project_scope() IS NULL "
    "OR project_id = orchestra_project_scope())"
)
_SEARCH = "to_tsvector('english', heading || ' ' || text || ' ' || keywords)"


def _foreign_key(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _isolate(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_VISIBLE}) WITH CHECK ({_VISIBLE})")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "rag_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('openapi', 'markdown', 'failure')", name=op.f("ck_rag_documents_kind")),
        _foreign_key("rag_documents", "tenant_id", "tenants"),
        _foreign_key("rag_documents", "project_id", "projects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_documents")),
        sa.UniqueConstraint(
            "project_id", "kind", "source", name=op.f("uq_rag_documents_project_id_kind_source")
        ),
    )
    op.create_index(op.f("ix_rag_documents_tenant_id"), "rag_documents", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_rag_documents_project_id"), "rag_documents", ["project_id"], unique=False)
    op.create_table(
        "rag_chunks",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("builtin_embedding", Vector(), nullable=False),
        sa.Column("embedding", Vector(), nullable=True),
        sa.Column("embedding_model", sa.String(length=200), nullable=True),
        sa.Column("search", postgresql.TSVECTOR(), sa.Computed(_SEARCH, persisted=True), nullable=True),
        _foreign_key("rag_chunks", "tenant_id", "tenants"),
        _foreign_key("rag_chunks", "project_id", "projects"),
        _foreign_key("rag_chunks", "document_id", "rag_documents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rag_chunks")),
    )
    op.create_index(op.f("ix_rag_chunks_tenant_id"), "rag_chunks", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_rag_chunks_project_id"), "rag_chunks", ["project_id"], unique=False)
    op.create_index(op.f("ix_rag_chunks_document_id"), "rag_chunks", ["document_id"], unique=False)
    op.create_index("ix_rag_chunks_search", "rag_chunks", ["search"], unique=False, postgresql_using="gin")
    _isolate("rag_documents")
    _isolate("rag_chunks")


def downgrade() -> None:
    op.drop_table("rag_chunks")
    op.drop_table("rag_documents")
    # The extension stays: other objects of the database may use it.
