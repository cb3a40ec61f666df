from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MAX_REASON = 2000
MAX_DAYS = 366  # a mute is a temporary measure: it must be looked at again within a year


class MuteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_case: str = Field(min_length=1, max_length=200, description="Test case id or name.")
    environment: str = Field(min_length=1, max_length=200, description="Environment id or name.")
    reason: str = Field(
        min_length=1, max_length=MAX_REASON, description="Why it is muted (shown in reports)."
    )
    expires_at: AwareDatetime = Field(
        description=f"When the mute ends: in the future, at most {MAX_DAYS} days ahead."
    )


class MuteOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    test_case_id: uuid.UUID
    test_case: str
    environment_id: uuid.UUID
    environment: str
    reason: str
    expires_at: datetime
    active: bool = Field(description="Not expired yet: runs created now are muted.")
    created_by: str
    created_at: datetime
