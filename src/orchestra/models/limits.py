from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, TenantMixin, TimestampMixin


class PlatformLimits(TimestampMixin, Base):
    """Platform-wide limits set through the API (one row); unset falls back to the settings."""

    __tablename__ = "platform_limits"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    max_active_runs: Mapped[int | None] = mapped_column(Integer)


class EnvironmentRateSlot(TenantMixin, Base):
    """The next free request slot of a rate-limited environment, shared by every executor."""

    __tablename__ = "environment_rate_slots"

    environment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    next_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
