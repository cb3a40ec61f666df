from __future__ import annotations

from sqlalchemy import Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, IdMixin, TimestampMixin


class Tenant(IdMixin, TimestampMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    # Share of the platform under saturation, relative to other tenants with pending work.
    weight: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default=text("1"))
    max_active_runs: Mapped[int | None] = mapped_column(Integer)
