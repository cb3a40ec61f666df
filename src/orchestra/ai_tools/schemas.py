"""Bodies of the tool endpoints (the ai-service's only way to data; see docs on delegation tokens)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EnvironmentView(BaseModel):
    """What a model may know of an environment: secret names, never their values."""

    id: uuid.UUID
    name: str
    base_url: str
    allowed_hosts: list[str]
    variables: dict[str, Any]
    secret_names: list[str]


class TestCaseView(BaseModel):
    __test__ = False

    id: uuid.UUID
    name: str
    version: int
    definition: dict[str, Any]


class PlanProblemOut(BaseModel):
    path: str
    code: str
    message: str


class ValidatePlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment_id: uuid.UUID
    plan: Any = Field(description="The DataPlan to check (any JSON: structural problems are reported too).")


class ValidatePlanResult(BaseModel):
    problems: list[PlanProblemOut]


class RunSummary(BaseModel):
    id: uuid.UUID
    name: str
    status: str
    status_reason: str | None
    test_case: str
    environment: str


class EvidenceItemOut(BaseModel):
    id: str
    kind: str
    title: str
    excerpt: str
    ref: dict[str, Any]


class SimilarRun(BaseModel):
    run_id: str
    score: float
    summary: str


class Evidence(BaseModel):
    run: RunSummary
    items: list[EvidenceItemOut]
    last_passing_run_id: str | None
    similar_runs: list[SimilarRun]


class LedgerEntity(BaseModel):
    operation: str
    label: str | None
    resource: str | None
    status: str
    created_at: str
    run_id: str | None


class Entities(BaseModel):
    entities: list[LedgerEntity]


class SearchHits(BaseModel):
    hits: list[dict[str, Any]]
