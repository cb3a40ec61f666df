from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Len
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from orchestra.definitions.data_rows import MAX_DATA_COLUMNS, MAX_DATA_ROWS, DataFileError, check_rows
from orchestra.definitions.testcase_model import MAX_PARALLELISM, RESERVED_NAMES, RetryFailed
from orchestra.kit.json_storage import IDENTIFIER_PATTERN, StorableJson, is_identifier, json_storage_problem
from orchestra.models.run_states import RunStatus

Trigger = Literal["manual", "ci", "schedule", "api"]
# The orders GET /runs lists in ("-": descending); ties are broken by id, so paging is stable.
RunSort = Literal["-created_at", "created_at", "name", "-name", "status", "-status", "duration", "-duration"]
# One row of test data: its columns name variables (none of the reserved names).
DataRow = Annotated[
    dict[str, StorableJson],
    Field(
        json_schema_extra={
            "propertyNames": {"pattern": IDENTIFIER_PATTERN, "not": {"enum": sorted(RESERVED_NAMES)}},
            "maxProperties": MAX_DATA_COLUMNS,
        }
    ),
]
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
    retry_failed: RetryFailed | None = Field(
        default=None,
        description="Run a FAILED run once more, as a new run linked to it (0: never, 1: once); a pass on "
        "retry marks it flaky. Default: the suite's `retry_failed`, else the test case's.",
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

    data: Annotated[list[DataRow], Len(1, MAX_DATA_ROWS)] | SkipJsonSchema[None] = Field(
        default=None,
        description="Data-driven: every test case runs once per row, with the row's values as variables "
        "(over the test cases' and the suite's variables, under `variables`).",
    )

    @field_validator("data")
    @classmethod
    def _data_rows(cls, rows: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if rows is None:
            return None
        try:
            check_rows(rows)
        except DataFileError as error:
            raise ValueError(str(error)) from None
        problem = json_storage_problem(rows)
        if problem is not None:
            raise ValueError(f"{problem[0] or 'data'}: {problem[1]}")
        return rows

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
    skipped_reason: str | None = Field(
        default=None,
        description="Why a skipped step did not run: its condition was false ('if … : false'), its loop had "
        "no items, or the run had stopped ('the run stopped: …'). Its skipped checks carry a 'reason'.",
    )

    @model_validator(mode="after")
    def _skipped_reason(self) -> StepResultOut:
        if self.status == "skipped" and self.skipped_reason is None:
            self.skipped_reason = self.error or "not run"
        return self


class RunMute(BaseModel):
    """The mute a run was created under, kept with the run as it was then."""

    id: uuid.UUID
    reason: str


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
    mute: RunMute | None = Field(
        default=None, description="The mute of its test case and environment in force when it was created."
    )
    muted: bool = Field(
        default=False,
        description="A failure (FAILED, ERROR, TIMED_OUT) its mute covers: it does not fail its suite run.",
    )
    failure_group_id: uuid.UUID | None = Field(
        default=None, description="Its failure's group (GET /insights/failure-groups/{id}), once grouped."
    )
    known_issue: str | None = Field(
        default=None, description="The issue its failure is known as (its failure group's, linked before it)."
    )
    retry_failed: int = Field(default=0, description="Retries a FAILED verdict gets (0 or 1), as created.")
    retry_of: uuid.UUID | None = Field(default=None, description="The FAILED run this run retries.")
    retried_by: uuid.UUID | None = Field(
        default=None,
        description="Its retry: this FAILED verdict was run again, and the retry's verdict is the test's "
        "(a suite run, the reports and the CLI count the retry, not this run).",
    )
    flaky: bool = Field(
        default=False, description="Passed on retry: the run it retries FAILED (the test is flaky)."
    )
    steps: list[StepResultOut] | None = None


class SuitePhaseOut(BaseModel):
    """A suite run's setup or teardown: a run of its own, with its steps and (setup) what it shares."""

    id: uuid.UUID
    phase: Literal["setup", "teardown"]
    status: RunStatus
    status_reason: str | None
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    shared: dict[str, Any] = Field(
        default_factory=dict,
        description="Its variables as stored (secrets masked): the setup's are suite.<name> in the tests.",
    )
    steps: list[StepResultOut] = Field(default_factory=list)


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
    muted: int = Field(
        default=0, description="How many of its runs are muted failures (counted in `counts`)."
    )
    flaky: int = Field(
        default=0, description="How many of its tests passed on retry (counted as PASSED in `counts`)."
    )
    total: int = Field(
        description="Its tests: its runs less those that were retried (`counts` counts the same runs)."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    waiting_for: str | None = Field(default=None, description="What holds its first waiting run.")
    runs: list[RunOut]
    setup: SuitePhaseOut | None = Field(default=None, description="The suite's setup run, if it has one.")
    teardown: SuitePhaseOut | None = Field(default=None, description="The suite's teardown run, if any.")


class CreatedOut(BaseModel):
    id: uuid.UUID
    status: RunStatus
    runs: list[uuid.UUID] = Field(default_factory=list)
