from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from orchestra.definitions.testcase_model import NAME_PATTERN
from orchestra.limits.schemas import ActiveRunsLimit

__all__ = ["NAME_PATTERN", "ProjectCreate", "ProjectOut", "ProjectUpdate"]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    description: str | None = Field(default=None, max_length=10_000)
    max_active_runs: ActiveRunsLimit | None = None


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    description: str | None = Field(default=None, max_length=10_000)
    max_active_runs: ActiveRunsLimit | None = Field(default=None, description="null removes the limit.")


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str | None
    max_active_runs: int | None
    created_at: datetime
    updated_at: datetime
