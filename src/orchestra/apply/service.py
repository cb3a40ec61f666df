"""Apply definitions to a project: test cases first, then suites, all or nothing, idempotent.

Every problem of every item is collected before anything is written; an error leaves the transaction to
be rolled back by its owner (the request dependency, or the CLI's ``transaction()`` block)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.apply.schemas import (
    ApplyFilesRequest,
    ApplyProjectsRequest,
    ApplyProjectsResult,
    ApplyRequest,
    ApplyResult,
    SuiteApplied,
    TestCaseApplied,
)
from orchestra.definitions.loader import (
    DefinitionError,
    DefinitionIssue,
    LoadedDefinitions,
    validate_suite_data,
    validate_test_case_data,
)
from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition
from orchestra.definitions.yaml_text import load_texts, parse_path
from orchestra.errors import InvalidDefinition, InvalidInput, NotFound
from orchestra.kit.refs import as_uuid
from orchestra.models import Project
from orchestra.projects import service as projects
from orchestra.projects.schemas import ProjectCreate, ProjectOut
from orchestra.suites import service as suites_service
from orchestra.testcases import service as testcases_service
from orchestra.testcases.service import definition_errors, join_path, listed, storage_issues

MAX_DETAIL_ISSUES = 3


async def _ensure_project(session: AsyncSession, actor: Actor, ref: str) -> Project:
    """The project with this id or name, created (with this name) if missing."""
    try:
        return await projects.get(session, actor, ref)
    except NotFound:
        if as_uuid(ref) is not None:  # an id names an existing project; never create one named so
            raise

    try:
        data = ProjectCreate(name=ref)
    except ValidationError:
        raise InvalidInput(
            f"invalid project name {ref[:200]!r}: 1 to 200 characters, letters, digits, '.', '_', '-' and "
            "spaces, starting with a letter or digit"
        ) from None
    return await projects.create(session, actor, data)


def _error(path: str, message: str) -> dict[str, Any]:
    return {"path": path, "line": None, "column": None, "message": message}


def _duplicates(names: list[tuple[int, str]], section: str, key: str, what: str) -> list[dict[str, Any]]:
    first: dict[str, int] = {}
    errors = []
    for index, name in names:
        if name in first:
            message = f"duplicate {what} name {name!r} (also {section}[{first[name]}])"
            errors.append(_error(f"{section}[{index}].{key}", message))
        else:
            first[name] = index
    return errors


@dataclass
class _Items:
    """One project's definitions, parsed: (index in the request, definition), and the problems found."""

    cases: list[tuple[int, TestCaseDefinition]] = field(default_factory=list)
    suites: list[tuple[int, SuiteDefinition]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    broken_names: set[str] = field(default_factory=set)


def _parse(request: ApplyRequest) -> _Items:
    items = _Items()
    for index, data in enumerate(request.test_cases):
        try:
            items.cases.append((index, validate_test_case_data(data)))
        except DefinitionError as error:
            items.errors += definition_errors(error.issues, f"test_cases[{index}]")
            if isinstance(data, dict) and isinstance(data.get("name"), str):
                items.broken_names.add(data["name"])  # so suites listing it get no second, misleading error
    for index, data in enumerate(request.suites):
        try:
            items.suites.append((index, validate_suite_data(data)))
        except DefinitionError as error:
            items.errors += definition_errors(error.issues, f"suites[{index}]")
    return items


def _parsed(test_cases: list[TestCaseDefinition], suites: list[SuiteDefinition]) -> _Items:
    return _Items(list(enumerate(test_cases)), list(enumerate(suites)))


async def apply_request(
    session: AsyncSession, actor: Actor, project: str, request: ApplyRequest
) -> ApplyResult:
    """Apply definitions sent as JSON (``POST /projects/{project}/apply``)."""
    (result,) = await _apply_all(session, actor, [(project, await asyncio.to_thread(_parse, request))])
    return result


async def apply_projects_request(
    session: AsyncSession, actor: Actor, request: ApplyProjectsRequest
) -> ApplyProjectsResult:
    """Apply the definitions of several projects sent as JSON (``POST /apply``), all or nothing."""
    items = [(entry.project, await asyncio.to_thread(_parse, entry)) for entry in request.projects]
    return ApplyProjectsResult(projects=await _apply_all(session, actor, items))


async def apply_files(
    session: AsyncSession, actor: Actor, project: str, request: ApplyFilesRequest
) -> ApplyResult:
    """Apply YAML files (``POST /projects/{project}/apply/files``) as ``orchestra apply --project`` applies
    a folder: all or nothing, every problem named by its file, line and column."""
    try:
        loaded = load_texts([(file.name, file.content) for file in request.files])
    except DefinitionError as error:
        raise _invalid_files([_file_error(issue) for issue in error.issues]) from None
    items = _parsed([case for _, case in loaded.test_cases], [suite for _, suite in loaded.suites])
    try:
        (result,) = await _apply_all(session, actor, [(project, items)])
    except InvalidDefinition as error:
        raise _invalid_files([_placed(found, loaded) for found in error.extra["errors"]]) from None
    return result


def _file_error(issue: DefinitionIssue) -> dict[str, Any]:
    line, column = issue.line or None, issue.column or None
    return {"file": issue.file, "path": issue.path, "line": line, "column": column, "message": issue.message}


def _placed(error: dict[str, Any], loaded: LoadedDefinitions) -> dict[str, Any]:
    """A problem of ``test_cases[i]``/``suites[i]`` at the file, line and column it comes from."""
    section, _, rest = error["path"].partition("[")
    index, _, inner = rest.partition("]")
    files = {
        "test_cases": [path for path, _ in loaded.test_cases],
        "suites": [path for path, _ in loaded.suites],
    }.get(section, [])
    if not index.isdigit() or int(index) >= len(files):
        return {"file": None, **error}
    path = files[int(index)]
    return _file_error(loaded.issue_at(path, parse_path(inner.removeprefix(".")), error["message"]))


def _invalid_files(errors: list[dict[str, Any]]) -> InvalidDefinition:
    def place(error: dict[str, Any]) -> str:
        where = [str(part) for part in (error["file"], error["line"], error["column"]) if part is not None]
        return ":".join(where) + (f": {error['path']}" if error["path"] else "")

    shown = "; ".join(f"{place(error)}: {error['message']}" for error in errors[:MAX_DETAIL_ISSUES])
    more = f" (and {len(errors) - MAX_DETAIL_ISSUES} more)" if len(errors) > MAX_DETAIL_ISSUES else ""
    count = f"{len(errors)} problem{'s' if len(errors) > 1 else ''}"
    return InvalidDefinition(f"nothing was applied, {count} in the files: {shown}{more}", errors=errors)


async def apply_definitions(
    session: AsyncSession,
    actor: Actor,
    project_name: str,
    test_cases: list[TestCaseDefinition],
    suites: list[SuiteDefinition],
) -> ApplyResult:
    """Apply already parsed definitions (the CLI); the project is created if missing."""
    (result,) = await apply_definition_groups(session, actor, [(project_name, test_cases, suites)])
    return result


async def apply_definition_groups(
    session: AsyncSession,
    actor: Actor,
    groups: Sequence[tuple[str, list[TestCaseDefinition], list[SuiteDefinition]]],
) -> list[ApplyResult]:
    """Apply already parsed definitions of several projects (the CLI), all or nothing; each project is
    created if missing."""
    return await _apply_all(
        session, actor, [(name, _parsed(cases, suites)) for name, cases, suites in groups]
    )


async def _apply_all(
    session: AsyncSession, actor: Actor, groups: list[tuple[str, _Items]]
) -> list[ApplyResult]:
    """Every project's problems are collected before anything is written; a project named twice (by name
    and by id, say) is a problem too, since its definitions would overwrite each other."""
    checked: list[tuple[Project, _Items]] = []
    errors: list[dict[str, Any]] = []
    first: dict[uuid.UUID, int] = {}
    several = len(groups) > 1
    for index, (ref, items) in enumerate(groups):
        owner, found = await _check(session, actor, ref, items)
        prefix = f"projects[{index}]" if several else ""
        if owner.id in first:
            message = f"project '{owner.name}' is also projects[{first[owner.id]}]: give each project once"
            found.append(_error("project", message))
        first.setdefault(owner.id, index)
        errors += [{**error, "path": join_path(prefix, error["path"])} for error in found]
        checked.append((owner, items))
    if errors:
        raise _invalid(errors)
    return [await _write(session, actor, owner, items) for owner, items in checked]


async def _check(
    session: AsyncSession, actor: Actor, project_ref: str, items: _Items
) -> tuple[Project, list[dict[str, Any]]]:
    """The project (created if missing) and every problem of its definitions, test cases first."""
    project = await _ensure_project(session, actor, project_ref)
    errors = list(items.errors)
    for index, case in items.cases:
        errors += definition_errors(storage_issues(case), f"test_cases[{index}]")
    errors += _duplicates([(i, case.name) for i, case in items.cases], "test_cases", "name", "test case")
    errors += _duplicates([(i, suite.suite) for i, suite in items.suites], "suites", "suite", "suite")
    known = {case.name for _, case in items.cases} | items.broken_names
    for index, suite in items.suites:
        errors += await suites_service.check_definition(
            session, actor, project, suite, f"suites[{index}]", known, applying=True
        )
    errors.sort(key=lambda error: _order(error["path"]))
    return project, errors


async def _write(session: AsyncSession, actor: Actor, project: Project, items: _Items) -> ApplyResult:
    applied_cases = []
    for _, case in items.cases:
        _, version, result = await testcases_service.upsert_definition(session, actor, project, case)
        applied_cases.append(TestCaseApplied(name=case.name, version=version.version, result=result))
    applied_suites = []
    for _, suite in items.suites:
        _, result = await suites_service.upsert_definition(session, actor, project, suite)
        applied_suites.append(SuiteApplied(name=suite.suite, result=result))
    return ApplyResult(
        project=ProjectOut.model_validate(project), test_cases=applied_cases, suites=applied_suites
    )


def _invalid(errors: list[dict[str, Any]]) -> InvalidDefinition:
    total = len(errors)
    count = f"{total} problem{'s' if total > 1 else ''}"
    shown = "; ".join(f"{error['path']}: {error['message']}" for error in errors[:MAX_DETAIL_ISSUES])
    more = f" (and {total - MAX_DETAIL_ISSUES} more)" if total > MAX_DETAIL_ISSUES else ""
    errors = listed(errors)
    return InvalidDefinition(f"nothing was applied, {count} in the definitions: {shown}{more}", errors=errors)


def _order(path: str) -> tuple[int, int]:
    """test_cases before suites, then by item index (the sort is stable within an item)."""
    section, _, rest = path.partition("[")
    index = rest.split("]", 1)[0]
    return (0 if section == "test_cases" else 1, int(index) if index.isdigit() else 0)
