from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, IdMixin, TenantMixin, TimestampMixin


class Suite(IdMixin, TenantMixin, TimestampMixin, Base):
    """A named group of test cases of one project (by name), with shared variables."""

    __tablename__ = "suites"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
