from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestra.projects.schemas import NAME_PATTERN, ProjectOut
from orchestra.testcases.schemas import WriteResult

MAX_ITEMS = 1000
MAX_PROJECTS = 100


class ApplyRequest(BaseModel):
    """Definitions exactly as in YAML files. Items are validated here, so any JSON value is accepted."""

    model_config = ConfigDict(extra="forbid")

    test_cases: list[Any] = Field(default_factory=list, max_length=MAX_ITEMS)
    suites: list[Any] = Field(default_factory=list, max_length=MAX_ITEMS)


class ProjectApply(ApplyRequest):
    """One project's definitions in ``POST /apply``."""

    project: str = Field(
        min_length=1,
        max_length=200,
        description="The project's name or id; created (with this name) if missing.",
        json_schema_extra={"pattern": NAME_PATTERN},
    )


class ApplyProjectsRequest(BaseModel):
    """The definitions of several projects, e.g. a folder whose suites name different projects."""

    model_config = ConfigDict(extra="forbid")

    projects: list[ProjectApply] = Field(min_length=1, max_length=MAX_PROJECTS)


class YamlFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, description="The file's name; problems name it.")
    content: str = Field(description="The file's text: a test case or a suite (at most 1 MiB).")


class ApplyFilesRequest(BaseModel):
    """YAML files exactly as `orchestra apply` reads them from a folder, test cases and suites mixed."""

    model_config = ConfigDict(extra="forbid")

    files: list[YamlFile] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _names_differ(self) -> ApplyFilesRequest:
        names = [file.name for file in self.files]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"each file is given once; given more than once: {', '.join(twice[:5])}")
        return self


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


class ApplyProjectsResult(BaseModel):
    projects: list[ApplyResult]
