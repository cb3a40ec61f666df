from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from orchestra.actor import Actor


class WhoAmI(BaseModel):
    """The caller as the API sees it: what a client may offer (the API decides on every request)."""

    name: str
    kind: str = Field(description="How the caller signed in: oidc, token, local-admin.")
    role: Literal["viewer", "editor", "admin"]
    project_id: uuid.UUID | None = Field(description="A project-scoped token: the only project it sees.")
    platform_admin: bool

    @classmethod
    def of(cls, actor: Actor) -> WhoAmI:
        role: Literal["viewer", "editor", "admin"] = actor.role.label  # type: ignore[assignment]
        return cls(
            name=actor.name,
            kind=actor.kind,
            role=role,
            project_id=actor.project_id,
            platform_admin=actor.platform_admin,
        )
