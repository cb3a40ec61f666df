from __future__ import annotations

import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin

SIGNATURE_DIMENSIONS = 512  # the built-in embedder's (rag/embedders.py)


class FailureGroup(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """Failures of a project with one cause: the same normalised message (``fingerprint``), or one close to
    it in meaning (``embedding``). Runs join it through ``test_runs.failure_group_id`` (insights/grouping.py);
    ``issue_url`` links it to a known issue."""

    __tablename__ = "failure_groups"
    __table_args__ = (UniqueConstraint("project_id", "fingerprint"),)

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    signature: Mapped[str] = mapped_column(Text, nullable=False)  # the normalised message
    embedding: Mapped[list[float]] = mapped_column(Vector(SIGNATURE_DIMENSIONS), nullable=False)
    first_run_id: Mapped[uuid.UUID] = mapped_column(nullable=False)  # no key: the run may be deleted
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    issue_url: Mapped[str | None] = mapped_column(String(2000))
    issue_linked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
