"""The data ledger: every entity a run created in a SUT, with the sealed call that undoes it, until undone."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, TenantMixin


class LedgerEntry(TenantMixin, Base):
    """One created entity. ``undo`` is the sealed HttpCall (headers carry tokens); the other columns are what
    a user needs to see. Status: pending → done | gone (already absent) | failed (retried by sweeps)."""

    __tablename__ = "data_ledger"
    __table_args__ = (
        Index("ix_data_ledger_test_run_id", "test_run_id", "step_seq"),
        Index("ix_data_ledger_environment_status", "environment_id", "status"),
        # What sweeps look for: entries not undone yet.
        Index("ix_data_ledger_open", "tenant_id", postgresql_where=text("status IN ('pending', 'failed')")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    # SET NULL: an entry outlives a deleted run, so what it created is still swept.
    test_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("test_runs.id", ondelete="SET NULL"))
    step_seq: Mapped[int] = mapped_column(Integer, nullable=False)  # the creating step; undo in reverse
    source: Mapped[str] = mapped_column(String(10), nullable=False)  # data (a plan binding) | step
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    operation: Mapped[str] = mapped_column(String(200), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    resource: Mapped[str] = mapped_column(Text, nullable=False)  # the undo URL without its query
    undo: Mapped[str] = mapped_column(Text, nullable=False)  # sealed (kit/secret_box.py)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
