from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from orchestra.models import Suite
from orchestra.testcases.schemas import WriteResult


class SuiteSummary(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    tests: list[str]
    parallelism: int | None
    updated_at: datetime

    @classmethod
    def of(cls, suite: Suite) -> SuiteSummary:
        return cls(
            id=suite.id,
            name=suite.name,
            description=suite.definition.get("description"),
            tests=list(suite.definition.get("tests", [])),
            parallelism=suite.definition.get("parallelism"),
            updated_at=suite.updated_at,
        )


class SuiteOut(SuiteSummary):
    project_id: uuid.UUID
    variables: dict[str, Any]
    definition: dict[str, Any] = Field(description="The suite definition as given (without 'project').")
    created_at: datetime

    @classmethod
    def of(cls, suite: Suite) -> SuiteOut:
        return cls(
            **SuiteSummary.of(suite).model_dump(),
            project_id=suite.project_id,
            variables=dict(suite.definition.get("variables", {})),
            definition=suite.definition,
            created_at=suite.created_at,
        )


class SuitePutOut(SuiteOut):
    changed: bool = Field(description="False when the content was identical to the stored one.")
    result: WriteResult

    @classmethod
    def of_write(cls, suite: Suite, result: WriteResult) -> SuitePutOut:
        return cls(**SuiteOut.of(suite).model_dump(), changed=result != "unchanged", result=result)
