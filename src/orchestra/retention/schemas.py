from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_KEEP_DAYS = 36_500
MAX_KEEP_LAST = 1_000_000


class RetentionUpdate(BaseModel):
    """A project's retention rule; a field left out keeps its value, null switches that limit off."""

    model_config = ConfigDict(extra="forbid")

    keep_days: int | None = Field(
        default=None,
        ge=1,
        le=MAX_KEEP_DAYS,
        description="Keep finished runs created in the last N days (null: no limit by age).",
    )
    keep_last: int | None = Field(
        default=None,
        ge=1,
        le=MAX_KEEP_LAST,
        description="Keep the newest N finished runs of each test case (null: no limit by count). With "
        "`keep_days` too, a run is deleted only once it is outside both.",
    )


class RetentionOut(BaseModel):
    project_id: uuid.UUID
    keep_days: int | None
    keep_last: int | None
    updated_at: datetime | None = Field(description="When the rule was last set (null: never set).")
    verdicts: int = Field(description="Compact verdict rows kept of the project's deleted runs.")
