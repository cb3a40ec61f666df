from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, Integer, LargeBinary, String, func, text, true
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, IdMixin, TimestampMixin


class Tenant(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    # Share of the platform under saturation, relative to other tenants with pending work.
    weight: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))
    max_active_runs: Mapped[int | None] = mapped_column(Integer)


class TenantContextKey(Base):
    """The HMAC pads of the key that signs tenant contexts (migration 0012, orchestra/tenant_context.py).
    One row, written by the owner when it migrates; only ``orchestra_system`` may read it, never the
    application role."""

    __tablename__ = "tenant_context_key"
    __table_args__ = (
        CheckConstraint("id", name="one_row"),
        CheckConstraint("length(inner_pad) = 64 AND length(outer_pad) = 64", name="pads"),
    )

    id: Mapped[bool] = mapped_column(Boolean, primary_key=True, server_default=true())
    inner_pad: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    outer_pad: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    registered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
