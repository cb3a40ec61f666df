"""Bodies of the DataPlan review endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from orchestra.models import StoredDataPlan


class DataPlanOut(BaseModel):
    """A stored plan: what a run of the test case in the environment uses now (pinned wins)."""

    id: uuid.UUID
    test_case_id: uuid.UUID
    test_case_version_id: uuid.UUID
    environment_id: uuid.UUID
    spec_hash: str
    planner: str
    notices: list[str]
    pinned: bool
    created_at: datetime
    created_by: str
    plan: dict[str, Any]

    @classmethod
    def of(cls, row: StoredDataPlan) -> DataPlanOut:
        return cls(
            id=row.id,
            test_case_id=row.test_case_id,
            test_case_version_id=row.test_case_version_id,
            environment_id=row.environment_id,
            spec_hash=row.spec_hash,
            planner=row.planner,
            notices=list(row.notices),
            pinned=row.pinned,
            created_at=row.created_at,
            created_by=row.created_by,
            plan=row.plan,
        )
