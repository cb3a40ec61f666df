"""Who is acting: the tenant every service call is scoped to, the role, and a token's project."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


class Role(enum.IntEnum):
    """viewer reads; editor also writes definitions, environments, runs and schedules; admin also manages
    the tenant's tokens of any role and project-wide settings. Ordered: a higher role can do what a lower
    one can."""

    VIEWER = 1
    EDITOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Role:
        return cls[value.upper()]


@dataclass(frozen=True, slots=True)
class Actor:
    tenant_id: uuid.UUID
    name: str = "local"
    # How the actor signed in: oidc, token, local-admin, cli (the embedded engine), scheduler.
    kind: str = "cli"
    role: Role = Role.ADMIN
    # A project-scoped API token: only this project is visible (row-level security hides the rest).
    project_id: uuid.UUID | None = None
    # May change platform-wide settings (the global limit, tenants' weights); the local admin, or the
    # identity provider's platform-admin role.
    platform_admin: bool = False
    token_id: uuid.UUID | None = None

    def has(self, role: Role) -> bool:
        return self.role >= role
