"""Retention: a project's rule for how long finished runs are kept, and the compact verdict rows that stay
when a run is deleted (retention/)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, TenantMixin


class RetentionPolicy(TenantMixin, Base):
    """How long a project keeps its finished runs: ``keep_days`` (by creation time) and/or ``keep_last``
    (the newest finished runs of each test case). With both, a run goes once it is outside both."""

    __tablename__ = "retention_policies"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    keep_days: Mapped[int | None] = mapped_column(Integer)
    keep_last: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


class RunVerdict(TenantMixin, Base):
    """What is left of a deleted test run: its verdict and timings, which insights keep reading (pass rates,
    durations, test-case flakiness). ``id`` is the deleted run's id."""

    __tablename__ = "run_verdicts"
    __table_args__ = (
        Index("ix_run_verdicts_project_created", "project_id", "created_at"),
        Index("ix_run_verdicts_test_case_created", "test_case_id", "created_at"),
        # a day of a flakiness series (the rollup's triggers, migration 0028)
        Index(
            "ix_run_verdicts_series",
            "project_id",
            "test_case_id",
            "environment_id",
            "test_case_version_id",
            "created_at",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    test_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("test_cases.id", ondelete="CASCADE"))
    test_case_version_id: Mapped[uuid.UUID] = mapped_column()
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    suite_id: Mapped[uuid.UUID | None] = mapped_column()  # the suite of its suite run, if any
    failure_group_id: Mapped[uuid.UUID | None] = mapped_column()
    retry_of_id: Mapped[uuid.UUID | None] = mapped_column()  # the run it retried (a pass on retry is flaky)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    trigger: Mapped[str] = mapped_column(String(20), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
