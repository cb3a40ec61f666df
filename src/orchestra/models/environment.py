from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint, false, true
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, IdMixin, TenantMixin, TimestampMixin


class Environment(IdMixin, TenantMixin, TimestampMixin, Base):
    """A SUT a project tests against: its base URL, variables and secrets (never returned by the API)."""

    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    base_url: Mapped[str] = mapped_column(String(2000), nullable=False)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # Name → ciphertext (see kit/secret_box.py); never stored or returned in clear.
    secrets: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, default=dict)
    # Send an Idempotency-Key header (stable across attempts of a step of a run) with every HTTP step.
    idempotency_keys: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    # Protects the SUT: runs active against it at once, and requests per second to it (all executors).
    max_active_runs: Mapped[int | None] = mapped_column(Integer)
    max_requests_per_s: Mapped[float | None] = mapped_column(Float)
    # Egress: hosts the executor may call besides the base URL's host (exact names or "*.example.com"),
    # and whether loopback and private addresses are allowed (link-local and metadata never are).
    allowed_hosts: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list, server_default="[]")
    allow_private_network: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # Request defaults (headers, query, auth, timeout_ms) every request to it inherits, under the suite's,
    # the test case's and the step's own (steps/request_defaults.py). ``json``: headers keep their order.
    defaults: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict, server_default="{}")
