from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Len
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from orchestra.definitions.testcase_model import MAX_PARALLELISM
from orchestra.kit.json_storage import IDENTIFIER_PATTERN, StorableJson, is_identifier, json_storage_problem
from orchestra.models.run_states import RunStatus

Trigger = Literal["manual", "ci", "schedule", "api"]
# Default priority by trigger: a CI gate goes before a manual run, which goes before a scheduled regression.
DEFAULT_PRIORITY: dict[str, int] = {"ci": 200, "manual": 100, "api": 100, "schedule": 0}


class _RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=200, description="Project id or name.")
    environment: str = Field(min_length=1, max_length=200, description="Environment id or name.")
    priority: int | None = Field(default=None, ge=-1000, le=1000, description="Higher runs first.")
    trigger: Trigger = "api"
    variables: dict[str, StorableJson] = Field(
        default_factory=dict,
        description="Overrides of the run's variables.",
        json_schema_extra={"propertyNames": {"pattern": IDENTIFIER_PATTERN}, "maxProperties": 200},
    )

    @field_validator("variables")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 200:
            raise ValueError("at most 200 variables")
        for name in value:
            if not is_identifier(name):
                raise ValueError(f"variable name {name!r} is not an identifier")
        problem = json_storage_problem(value)
        if problem is not None:
            raise ValueError(f"{problem[0] or 'variables'}: {problem[1]}")
        return value

    def effective_priority(self) -> int:
        return self.priority if self.priority is not None else DEFAULT_PRIORITY[self.trigger]


class RunCreate(_RunRequest):
    test_case: str = Field(min_length=1, max_length=200, description="Test case id or name.")


TestCaseName = Annotated[str, Field(min_length=1, max_length=200)]


class SuiteRunCreate(_RunRequest):
    """Run a stored suite (``suite``), or an ad-hoc list of test cases (``tests`` + ``name``)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"oneOf": [{"required": ["suite"]}, {"required": ["tests"]}]}
    )

    suite: TestCaseName | SkipJsonSchema[None] = Field(default=None, description="Suite id or name.")
    tests: Annotated[list[TestCaseName], Len(1, 5000)] | SkipJsonSchema[None] = Field(
        default=None, description="Test case names."
    )
    name: str | None = Field(default=None, min_length=1, max_length=200, description="Name of an ad-hoc run.")
    parallelism: int | None = Field(
        default=None,
        ge=1,
        le=MAX_PARALLELISM,
        description="Most of its runs active at once (default: the suite's).",
    )

    @model_validator(mode="after")
    def _one_target(self) -> SuiteRunCreate:
        given = {"suite", "tests"} & self.model_fields_set
        if len(given) != 1 or getattr(self, given.pop()) is None:
            raise ValueError("give exactly one of 'suite' or 'tests'")
        return self


class SuiteRunRerun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    only_failed: bool = Field(
        default=False,
        strict=True,
        description="Only the tests that did not pass (FAILED, ERROR, TIMED_OUT, CANCELLED); the suite run "
        "must have ended.",
    )


class StepResultOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    phase: str
    name: str
    status: str
    attempts: int
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    assertions: list[dict[str, Any]]
    error: str | None
    started_at: datetime
    duration_ms: float


class RunOut(BaseModel):
    id: uuid.UUID
    name: str
    project_id: uuid.UUID
    suite_run_id: uuid.UUID | None
    test_case_id: uuid.UUID
    test_case_version_id: uuid.UUID
    test_case_version: int
    environment: str
    status: RunStatus
    status_reason: str | None
    priority: int
    trigger: str
    attempt: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    fencing_token: int
    heartbeat_at: datetime | None
    cancel_requested: bool
    variables: dict[str, Any]
    data_plan: dict[str, Any] | None = Field(
        default=None, description="The DataPlan the run used (shown with its steps; see its data steps)."
    )
    created_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    queue_position: int | None = Field(default=None, description="PENDING: place in its tenant's queue.")
    waiting_for: str | None = Field(default=None, description="PENDING: what holds it, e.g. a full limit.")
    steps: list[StepResultOut] | None = None


class SuiteRunOut(BaseModel):
    id: uuid.UUID
    name: str
    project_id: uuid.UUID
    suite_id: uuid.UUID | None
    environment: str
    status: RunStatus
    priority: int
    trigger: str
    variables: dict[str, Any]
    counts: dict[str, int]
    total: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    waiting_for: str | None = Field(default=None, description="What holds its first waiting run.")
    runs: list[RunOut]


class CreatedOut(BaseModel):
    id: uuid.UUID
    status: RunStatus
    runs: list[uuid.UUID] = Field(default_factory=list)
