from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin


class TestMute(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A test case muted on one environment until ``expires_at``: its runs created meanwhile still run and
    are recorded, but their failures do not fail a suite run or the CLI (quarantine/)."""

    __test__ = False
    __tablename__ = "test_mutes"
    __table_args__ = (UniqueConstraint("test_case_id", "environment_id"),)

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    test_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("test_cases.id", ondelete="CASCADE"))
    environment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(300), nullable=False)
