from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestra.models.run_states import RunStatus

Classification = Literal["healthy", "flaky", "broken"]
WINDOW_DAYS = Field(default=30, ge=1, le=366, description="The window: the last this many days.")


class FlipOut(BaseModel):
    from_run: uuid.UUID
    to_run: uuid.UUID
    from_status: RunStatus
    to_status: RunStatus


class StepFlakinessOut(BaseModel):
    phase: str
    name: str
    score: float = Field(description="Verdict flips of the step over consecutive runs of one series.")
    runs: int
    failures: int
    flips: int
    transitions: int
    retried_passes: int = Field(description="Runs in which the step passed only on a later attempt.")
    failed_runs: list[uuid.UUID]
    retried_runs: list[uuid.UUID]


class FlakinessOut(BaseModel):
    test_case_id: uuid.UUID
    test_case: str
    classification: Classification
    score: float = Field(
        description="Flips over consecutive pairs of runs of one version on one environment."
    )
    runs: int
    passes: int
    failures: int
    flips: int
    transitions: int
    recoveries: int = Field(
        description="Failures followed by a pass of the same version on the same environment."
    )
    retried_passes: int
    latest_run: uuid.UUID
    evidence: list[FlipOut] = Field(description="The flips (at most 20): which runs changed verdict.")
    passed_on_retry: int = Field(
        default=0, description="Failed runs whose automatic retry passed (each makes the test flaky)."
    )
    retry_evidence: list[FlipOut] = Field(
        default_factory=list, description="The failed runs and their passing retries (at most 20)."
    )
    steps: list[StepFlakinessOut]


class DifferenceOut(BaseModel):
    path: str
    change: Literal["added", "removed", "changed"]
    left: Any = None
    right: Any = None


class CheckComparison(BaseModel):
    check: str
    left_passed: bool | None
    right_passed: bool | None
    expected: Any = None
    left_actual: Any = None
    right_actual: Any = None


class StepComparison(BaseModel):
    phase: str
    name: str
    left_status: str | None = Field(description="None: the step is not in the left run.")
    right_status: str | None
    left_duration_ms: float | None
    right_duration_ms: float | None
    left_response_status: int | None
    right_response_status: int | None
    same: bool = Field(description="Same verdict, checks, response status and body.")
    checks: list[CheckComparison]
    body: list[DifferenceOut] = Field(description="The response bodies' differences, left to right.")


class RunSide(BaseModel):
    id: uuid.UUID
    status: RunStatus
    test_case_version: int
    environment: str
    created_at: datetime
    duration_ms: float | None


class RunComparison(BaseModel):
    test_case_id: uuid.UUID
    left: RunSide
    right: RunSide
    steps: list[StepComparison]
    captured: list[DifferenceOut] = Field(description="The runs' variables (masked), left to right.")


class TrendBucket(BaseModel):
    start: datetime
    runs: int
    passes: int
    pass_rate: float | None
    duration_p50_ms: float | None
    duration_p95_ms: float | None


class StepFailures(BaseModel):
    phase: str
    name: str
    failures: int


class TrendsOut(BaseModel):
    bucket: Literal["hour", "day", "week"]
    since: datetime
    buckets: list[TrendBucket]
    failures_by_step: list[StepFailures]


class OperationStats(BaseModel):
    method: str
    path: str = Field(description="The path template: ids in the path are shown as {id}.")
    calls: int
    errors: int = Field(description="Calls answered 5xx or not answered at all.")
    error_rate: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class FailureGroupOut(BaseModel):
    id: uuid.UUID
    signature: str = Field(description="The normalised message of the group's first failure.")
    failures: int = Field(description="Its failures in the window (and the filters).")
    test_cases: int = Field(description="How many test cases those failures are in.")
    first_run_id: uuid.UUID = Field(description="The run in which the group appeared.")
    first_seen_at: datetime
    last_seen_at: datetime = Field(description="Its latest failure in the window.")
    issue_url: str | None = Field(description="The known issue it is linked to.")
    issue_linked_at: datetime | None
    failures_since_issue: int = Field(description="Its failures in the window since the issue was linked.")


class GroupRunOut(BaseModel):
    id: uuid.UUID
    test_case: str
    environment: str
    status: str
    created_at: datetime
    known_issue: str | None = Field(description="The group's issue, for a failure since it was linked.")


class TestCaseCount(BaseModel):
    test_case: str
    failures: int


class FirstChange(BaseModel):
    """What changed between the group's first run and the last pass of its test case on its environment."""

    first_run: uuid.UUID
    previous_pass: uuid.UUID | None = Field(description="None: the test case never passed there before.")
    test_case_version: tuple[int | None, int | None] = Field(description="(last pass, first failure)")
    environment: str
    environment_changed: bool = Field(
        description="The environment (base URL, variables, secrets …) was edited between the two runs."
    )
    variables: list[DifferenceOut] = Field(description="The runs' variables, last pass → first failure.")
    step: str | None = Field(description="The step that failed first (phase/name).")
    response_status: tuple[int | None, int | None] = Field(description="That step's SUT status, pass → fail.")
    response_body: list[DifferenceOut] = Field(description="That step's SUT body differences, pass → fail.")


class FailureGroupDetail(FailureGroupOut):
    total_failures: int = Field(description="All its failures, whatever the window.")
    by_test_case: list[TestCaseCount]
    latest_runs: list[GroupRunOut]
    first_change: FirstChange | None = Field(description="None when its first run is no longer stored.")


class IssueLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2000,
        # No control character or space anywhere, as ECMA-262 and Python read it alike.
        pattern="^https?://[^\\u0000-\\u0020\\u007f/?#]+[^\\u0000-\\u0020\\u007f]*$",
        description="The issue's address (http or https).",
    )
