"""Who is acting: the tenant every service call is scoped to (identity and roles come with auth)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    tenant_id: uuid.UUID
    name: str = "local"
