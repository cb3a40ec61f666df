from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from orchestra.kit.json_storage import IDENTIFIER_PATTERN, StorableJson, is_identifier, json_storage_problem
from orchestra.models import Schedule
from orchestra.projects.schemas import NAME_PATTERN
from orchestra.schedules.cron import CRON_PATTERN, MisfirePolicy, known_zones

MAX_VARIABLES = 200
NEXT_TIMES_SHOWN = 5


def _check_variables(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(value) > MAX_VARIABLES:
        raise ValueError(f"at most {MAX_VARIABLES} variables")
    for name in value:
        if not is_identifier(name):
            raise ValueError(f"variable name {name[:200]!r} is not an identifier")
    problem = json_storage_problem(value)
    if problem is not None:
        raise ValueError(f"{problem[0] or 'variables'}: {problem[1]}")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]
Ref = Annotated[str, Field(min_length=1, max_length=200)]
Cron = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="A standard 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "
        '"30 2 * * 1-5", or a macro: @hourly, @daily, @weekly, @monthly, @yearly.',
        json_schema_extra={"pattern": CRON_PATTERN},
    ),
]
TimeZone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="An IANA time zone name.",
        json_schema_extra={"enum": known_zones()},
    ),
]
Priority = Annotated[int, Field(ge=-1000, le=1000, description="Higher runs first.")]
Variables = Annotated[
    dict[str, StorableJson],
    Field(
        json_schema_extra={"propertyNames": {"pattern": IDENTIFIER_PATTERN}, "maxProperties": MAX_VARIABLES}
    ),
    AfterValidator(_check_variables),
]
POLICY_HELP = (
    "What a pass does about fire times missed while the platform was down: 'latest' runs once for the most "
    "recent one, 'skip' runs none missed by more than 60 s, 'all' runs each (at most the 10 most recent)."
)


class ScheduleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    suite: Ref = Field(description="Suite id or name (of the same project).")
    environment: Ref = Field(description="Environment id or name (of the same project).")
    cron: Cron
    timezone: TimeZone = "UTC"
    enabled: bool = True
    priority: Priority | None = Field(default=None, description="Default: the 'schedule' trigger's (0).")
    variables: Variables = Field(default_factory=dict, description="Overrides of the suite's variables.")
    misfire_policy: MisfirePolicy = Field(default="latest", description=POLICY_HELP)


class ScheduleUpdate(BaseModel):
    """Fields to change; omitted ones are kept. ``priority: null`` goes back to the trigger's default."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    suite: Ref | None = None
    environment: Ref | None = None
    cron: Cron | None = None
    timezone: TimeZone | None = None
    enabled: bool | None = None
    priority: Priority | None = None
    variables: Variables | None = None
    misfire_policy: MisfirePolicy | None = None


class ScheduleOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    suite_id: uuid.UUID
    suite: str
    environment_id: uuid.UUID
    environment: str
    cron: str
    timezone: str
    enabled: bool
    priority: int | None
    variables: dict[str, Any]
    misfire_policy: str
    next_fire_at: datetime | None = Field(description="When it fires next (UTC); null while disabled.")
    last_fire_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, schedule: Schedule, suite: str, environment: str) -> ScheduleOut:
        return cls(
            id=schedule.id,
            project_id=schedule.project_id,
            name=schedule.name,
            suite_id=schedule.suite_id,
            suite=suite,
            environment_id=schedule.environment_id,
            environment=environment,
            cron=schedule.cron,
            timezone=schedule.timezone,
            enabled=schedule.enabled,
            priority=schedule.priority,
            variables=schedule.variables,
            misfire_policy=schedule.misfire_policy,
            next_fire_at=schedule.next_fire_at,
            last_fire_at=schedule.last_fire_at,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
        )


class ScheduleDetail(ScheduleOut):
    next_fire_times: list[datetime] = Field(
        description=f"The next {NEXT_TIMES_SHOWN} times the expression gives (UTC), enabled or not."
    )


class NextFireTimes(BaseModel):
    cron: str
    timezone: str
    times: list[datetime] = Field(description="UTC.")
    local_times: list[datetime] = Field(description="The same times in the schedule's time zone.")


class FireOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fire_time: datetime = Field(description="The due time this fire was for (UTC).")
    suite_run_id: uuid.UUID | None
    error: str | None = Field(description="Why no suite run was started, if none was.")
    created_at: datetime = Field(description="When it fired.")
