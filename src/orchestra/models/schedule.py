from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin, TimestampMixin


class Schedule(IdMixin, TenantMixin, TimestampMixin, Base):
    """A cron expression in a time zone that starts a suite of its project on one of its environments."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint("misfire_policy IN ('latest', 'skip', 'all')", name="misfire_policy"),
        # The firing pass: enabled schedules whose next fire time has come.
        Index("ix_schedules_due", "next_fire_at", postgresql_where=text("enabled")),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    suite_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("suites.id", ondelete="CASCADE"), index=True)
    environment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    cron: Mapped[str] = mapped_column(String(200), nullable=False)  # standard 5 fields
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)  # IANA name
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    priority: Mapped[int | None] = mapped_column(Integer)  # None: the "schedule" trigger's default
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    misfire_policy: Mapped[str] = mapped_column(String(10), nullable=False, default="latest")
    next_fire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # UTC; None: disabled
    last_fire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ScheduleFire(TenantMixin, CreatedAtMixin, Base):
    """One due time of a schedule that was handled. The unique (schedule, fire time) pair is what makes a
    due time start at most one suite run, whichever replica fires it."""

    __tablename__ = "schedule_fires"
    __table_args__ = (UniqueConstraint("schedule_id", "fire_time"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    fire_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    suite_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("suite_runs.id", ondelete="SET NULL"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)  # why no suite run was started (e.g. an empty suite)
