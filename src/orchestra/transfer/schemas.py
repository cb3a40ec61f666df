"""The project document: what ``GET /projects/{project}/export`` writes and ``POST /import`` reads.

Version 1. Test cases and suites are their definitions exactly as files and ``apply`` hold them (validated
the same way on import); environments carry the names of their secrets, never a value; schedules name
their suite and environment."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestra.apply.schemas import MAX_ITEMS, SuiteApplied, TestCaseApplied
from orchestra.definitions.testcase_model import RequestDefaults
from orchestra.environments.schemas import AllowedHosts, BaseUrl, Key, Name, Variables
from orchestra.limits.schemas import ActiveRunsLimit, RequestRate
from orchestra.retention.schemas import RetentionUpdate
from orchestra.schedules.schemas import ScheduleCreate

FORMAT = "orchestra.project"
VERSION = 1
MAX_ENVIRONMENTS = 100
MAX_SCHEDULES = 500
MAX_SECRET_NAMES = 200


class ExportedProject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: str | None = Field(default=None, max_length=10_000)
    max_active_runs: ActiveRunsLimit | None = None


class ExportedProjectOut(BaseModel):
    name: str
    description: str | None
    max_active_runs: int | None


class ExportedEnvironment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    base_url: BaseUrl
    variables: Variables = Field(default_factory=dict)
    secret_names: list[Key] = Field(
        default_factory=list,
        max_length=MAX_SECRET_NAMES,
        description="Names of the secrets the environment had; their values are never exported.",
    )
    idempotency_keys: bool = True
    max_active_runs: ActiveRunsLimit | None = None
    max_requests_per_s: RequestRate | None = None
    allowed_hosts: AllowedHosts = Field(default_factory=list)
    allow_private_network: bool = False
    defaults: RequestDefaults | None = None


class ProjectDocument(BaseModel):
    """A project as one document (``orchestra admin export``)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["orchestra.project"] = Field(description="Always 'orchestra.project'.")
    version: Literal[1] = Field(description="The document format's version.")
    exported_at: datetime | None = None
    project: ExportedProject
    retention: RetentionUpdate | None = None
    test_cases: list[Any] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Current definitions, as in files."
    )
    suites: list[Any] = Field(default_factory=list, max_length=MAX_ITEMS, description="As in files.")
    environments: list[ExportedEnvironment] = Field(default_factory=list, max_length=MAX_ENVIRONMENTS)
    schedules: list[ScheduleCreate] = Field(default_factory=list, max_length=MAX_SCHEDULES)


class ExportedRetention(BaseModel):
    keep_days: int | None
    keep_last: int | None


class ExportedEnvironmentOut(BaseModel):
    """An environment as exported: what is stored, as it is (the import validates it again)."""

    name: str
    base_url: str
    variables: dict[str, Any]
    secret_names: list[str] = Field(description="Names only: a secret's value is never exported.")
    idempotency_keys: bool
    max_active_runs: int | None
    max_requests_per_s: float | None
    allowed_hosts: list[str]
    allow_private_network: bool
    defaults: dict[str, Any] | None


class ExportedScheduleOut(BaseModel):
    name: str
    suite: str
    environment: str
    cron: str
    timezone: str
    enabled: bool
    priority: int | None
    variables: dict[str, Any]
    misfire_policy: str


class ProjectExport(BaseModel):
    """The project document as ``GET /projects/{project}/export`` writes it (``ProjectDocument`` reads it)."""

    format: Literal["orchestra.project"]
    version: Literal[1]
    exported_at: datetime
    project: ExportedProjectOut
    retention: ExportedRetention | None
    test_cases: list[dict[str, Any]]
    suites: list[dict[str, Any]]
    environments: list[ExportedEnvironmentOut]
    schedules: list[ExportedScheduleOut]


WriteResult = Literal["created", "updated", "unchanged"]


class ItemImported(BaseModel):
    name: str
    result: WriteResult


class SecretToSet(BaseModel):
    environment: str
    name: str


class ImportResult(BaseModel):
    project: str
    created: bool = Field(description="The project did not exist before.")
    test_cases: list[TestCaseApplied]
    suites: list[SuiteApplied]
    environments: list[ItemImported]
    schedules: list[ItemImported]
    secrets_to_set: list[SecretToSet] = Field(
        description="Secrets the environments had at export that are not set here: set them before running."
    )
