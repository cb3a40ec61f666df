from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchestra.models import TestCase, TestCaseVersion
from orchestra.models.run_states import RunStatus

WriteResult = Literal["created", "updated", "unchanged"]


class LastRun(BaseModel):
    """The latest run of a test case (of any version, in any environment): its verdict so far."""

    id: uuid.UUID
    status: RunStatus
    environment: str
    test_case_version: int
    created_at: datetime
    finished_at: datetime | None


class TestCaseSummary(BaseModel):
    __test__ = False

    id: uuid.UUID
    name: str
    current_version: int
    tags: list[str]
    description: str | None
    updated_at: datetime
    last_run: LastRun | None = Field(default=None, description="The latest run; null when it never ran.")

    @classmethod
    def of(cls, case: TestCase, version: TestCaseVersion, last_run: LastRun | None = None) -> TestCaseSummary:
        return cls(
            id=case.id,
            name=case.name,
            current_version=case.current_version,
            tags=list(version.definition.get("tags", [])),
            description=version.definition.get("description"),
            updated_at=case.updated_at,
            last_run=last_run,
        )


class TestCaseSource(BaseModel):
    """A test case as the text of its YAML file, e.g. from an editor."""

    __test__ = False
    model_config = ConfigDict(extra="forbid")

    content: str = Field(description="The YAML file's text (at most 1 MiB), as `orchestra apply` reads it.")
    base_version: int | None = Field(
        default=None,
        ge=0,
        le=2_147_483_647,
        description="The version the text was edited from: refused (409) when the test case is at another "
        "version now, so no one's change is overwritten unseen. 0: the test case must not exist yet. "
        "Absent: create or update, whatever the current version.",
    )


class TestCaseOut(BaseModel):
    """A test case with its current version's definition (exactly as it was given)."""

    __test__ = False

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    current_version: int
    tags: list[str]
    description: str | None
    content_hash: str
    definition: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, case: TestCase, version: TestCaseVersion) -> TestCaseOut:
        return cls(
            id=case.id,
            project_id=case.project_id,
            name=case.name,
            current_version=case.current_version,
            tags=list(version.definition.get("tags", [])),
            description=version.definition.get("description"),
            content_hash=version.content_hash,
            definition=version.definition,
            created_at=case.created_at,
            updated_at=case.updated_at,
        )


class TestCasePutOut(TestCaseOut):
    __test__ = False

    version: int = Field(description="The current version after the request.")
    changed: bool = Field(description="False when the content was identical, so no version was added.")
    result: WriteResult

    @classmethod
    def of_write(cls, case: TestCase, version: TestCaseVersion, result: WriteResult) -> TestCasePutOut:
        return cls(
            **TestCaseOut.of(case, version).model_dump(),
            version=version.version,
            changed=result != "unchanged",
            result=result,
        )


class VersionSummary(BaseModel):
    version: int
    content_hash: str
    created_at: datetime


class VersionOut(BaseModel):
    test_case_id: uuid.UUID
    name: str
    version: int
    current: bool
    content_hash: str
    definition: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, case: TestCase, version: TestCaseVersion) -> VersionOut:
        return cls(
            test_case_id=case.id,
            name=case.name,
            version=version.version,
            current=version.version == case.current_version,
            content_hash=version.content_hash,
            definition=version.definition,
            created_at=version.created_at,
        )
