from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from orchestra.projects.schemas import NAME_PATTERN

RoleName = Literal["viewer", "editor", "admin"]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
    role: RoleName = Field(description="At most the creator's own role.")
    project: str | None = Field(
        default=None,
        max_length=200,
        description="Project (id or name) the token is limited to. Required unless an admin creates it.",
    )
    expires_at: AwareDatetime | None = Field(default=None, description="Unset: the token does not expire.")


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the secret part, to tell tokens apart.")
    role: RoleName
    project_id: uuid.UUID | None
    kind: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself: shown only in this response, stored only as a hash.")
