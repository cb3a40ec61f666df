"""What the ledger API shows of an entry: never the undo call itself (it is sealed; headers carry tokens)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

LedgerStatus = Literal["pending", "done", "gone", "failed", "manual"]


class LedgerEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    test_run_id: uuid.UUID | None
    environment_id: uuid.UUID
    source: str
    label: str
    operation: str
    method: str
    resource: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    undone_at: datetime | None


class SweepFailure(BaseModel):
    id: uuid.UUID
    label: str
    operation: str
    resource: str
    error: str


class SweepReportOut(BaseModel):
    cleaned: int
    already_gone: int
    failed: list[SweepFailure]
