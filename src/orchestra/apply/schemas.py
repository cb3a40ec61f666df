from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestra.projects.schemas import ProjectOut
from orchestra.testcases.schemas import WriteResult

MAX_ITEMS = 1000


class ApplyRequest(BaseModel):
    """Definitions exactly as in YAML files. Items are validated here, so any JSON value is accepted."""

    model_config = ConfigDict(extra="forbid")

    test_cases: list[Any] = Field(default_factory=list, max_length=MAX_ITEMS)
    suites: list[Any] = Field(default_factory=list, max_length=MAX_ITEMS)


class TestCaseApplied(BaseModel):
    __test__ = False

    name: str
    version: int
    result: WriteResult


class SuiteApplied(BaseModel):
    name: str
    result: WriteResult


class ApplyResult(BaseModel):
    project: ProjectOut
    test_cases: list[TestCaseApplied]
    suites: list[SuiteApplied]
