"""The daily rollups of insights (migration 0028), kept by triggers in the transaction that writes runs,
verdicts and steps: never written by the application itself (docs/insights.md)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, TenantMixin


class FlakinessDay(TenantMixin, Base):
    """One UTC day of a flakiness series (a test-case version on an environment): its verdicts counted, the
    flips, recoveries and breaks between its consecutive runs, and its first and last run."""

    __tablename__ = "flakiness_days"
    __table_args__ = (Index("ix_flakiness_days_project_day", "project_id", "day"),)

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    test_case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    environment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    test_case_version_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    passes: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    flips: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    recoveries: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    breaks: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    passed_on_retry: Mapped[int] = mapped_column(Integer, server_default="0", nullable=False)
    first_run_id: Mapped[uuid.UUID | None] = mapped_column()
    first_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_status: Mapped[str | None] = mapped_column(String(16))
    last_run_id: Mapped[uuid.UUID | None] = mapped_column()
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[str | None] = mapped_column(String(16))


class StepFlakinessDay(TenantMixin, Base):
    """The steps of one UTC day of a flakiness series, per phase and name: their occurrences, failures,
    passes on a later attempt, the transitions and flips between consecutive runs of the day, and what the
    day's first run (its occurrences, their passes) and last run (its last occurrence) hold for the
    comparisons across days."""

    __tablename__ = "step_flakiness_days"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    test_case_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    environment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    test_case_version_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    phase: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    runs: Mapped[int] = mapped_column(Integer, nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    transitions: Mapped[int] = mapped_column(Integer, nullable=False)
    flips: Mapped[int] = mapped_column(Integer, nullable=False)
    retried_passes: Mapped[int] = mapped_column(Integer, nullable=False)
    first_occurrences: Mapped[int] = mapped_column(Integer, nullable=False)
    first_passes: Mapped[int] = mapped_column(Integer, nullable=False)
    last_passed: Mapped[bool | None] = mapped_column(Boolean)


class OperationDay(TenantMixin, Base):
    """The calls of one SUT operation (method and path template) on an environment on a UTC day (of the
    runs' creation) whose latency fell in one logarithmic bucket, and how many of them erred."""

    __tablename__ = "operation_days"
    __table_args__ = (Index("ix_operation_days_project_day", "project_id", "day"),)

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    environment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    method: Mapped[str] = mapped_column(Text, primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    calls: Mapped[int] = mapped_column(BigInteger, nullable=False)
    errors: Mapped[int] = mapped_column(BigInteger, nullable=False)


class OperationBacklog(TenantMixin, Base):
    """A run whose verdict the reaper gave: its calls are not in ``operation_days`` (the reaper may not read
    step results), the operations page counts them from its steps."""

    __tablename__ = "operation_backlog"

    test_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("test_runs.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)


class TrendDay(TenantMixin, Base):
    """The verdicts (PASSED, FAILED, ERROR, TIMED_OUT) of the runs of a project on an environment on a UTC
    day (of the runs' creation), kept and deleted ones (``run_verdicts``), whose duration fell in one
    logarithmic bucket (migration 0029): how many, and how many passed."""

    __tablename__ = "trend_days"

    project_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    environment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    runs: Mapped[int] = mapped_column(BigInteger, nullable=False)
    passes: Mapped[int] = mapped_column(BigInteger, nullable=False)
