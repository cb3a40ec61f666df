"""DataPlans made for a test-case version against an environment: cached by (version, environment, spec
hash), and at most one pinned per test case and environment, which wins over the cached ones."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, false, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin


class StoredDataPlan(IdMixin, TenantMixin, CreatedAtMixin, Base):
    __tablename__ = "data_plans"
    __table_args__ = (
        Index(
            "uq_data_plans_pinned",
            "test_case_id",
            "environment_id",
            unique=True,
            postgresql_where=text("pinned"),
        ),
        Index("ix_data_plans_cache_key", "test_case_version_id", "environment_id", "spec_hash"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    test_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("test_cases.id", ondelete="CASCADE"))
    test_case_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("test_case_versions.id", ondelete="CASCADE")
    )
    environment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    spec_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # builtin | ollama:<model> | user (a plan a person wrote or edited)
    planner: Mapped[str] = mapped_column(String(200), nullable=False)
    notices: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(300), nullable=False)
