"""Apply definitions to a project: test cases first, then suites, all or nothing, idempotent.

Every problem of every item is collected before anything is written; an error leaves the transaction to
be rolled back by its owner (the request dependency, or the CLI's ``transaction()`` block)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.apply.schemas import ApplyRequest, ApplyResult, SuiteApplied, TestCaseApplied
from orchestra.definitions.loader import DefinitionError, validate_suite_data, validate_test_case_data
from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition
from orchestra.errors import InvalidDefinition, InvalidInput, NotFound
from orchestra.kit.refs import as_uuid
from orchestra.models import Project
from orchestra.projects import service as projects
from orchestra.projects.schemas import ProjectCreate, ProjectOut
from orchestra.suites import service as suites_service
from orchestra.testcases import service as testcases_service
from orchestra.testcases.service import definition_errors, storage_issues

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


async def apply_request(
    session: AsyncSession, actor: Actor, project: str, request: ApplyRequest
) -> ApplyResult:
    """Apply definitions sent as JSON (``POST /projects/{project}/apply``)."""
    errors: list[dict[str, Any]] = []
    cases: list[tuple[int, TestCaseDefinition]] = []
    suites: list[tuple[int, SuiteDefinition]] = []
    broken_names: set[str] = set()
    for index, data in enumerate(request.test_cases):
        try:
            cases.append((index, validate_test_case_data(data)))
        except DefinitionError as error:
            errors += definition_errors(error.issues, f"test_cases[{index}]")
            if isinstance(data, dict) and isinstance(data.get("name"), str):
                broken_names.add(data["name"])  # so suites listing it do not get a second, misleading error
    for index, data in enumerate(request.suites):
        try:
            suites.append((index, validate_suite_data(data)))
        except DefinitionError as error:
            errors += definition_errors(error.issues, f"suites[{index}]")
    return await _apply(session, actor, project, cases, suites, errors, broken_names)


async def apply_definitions(
    session: AsyncSession,
    actor: Actor,
    project_name: str,
    test_cases: list[TestCaseDefinition],
    suites: list[SuiteDefinition],
) -> ApplyResult:
    """Apply already parsed definitions (the CLI); the project is created if missing."""
    return await _apply(
        session, actor, project_name, list(enumerate(test_cases)), list(enumerate(suites)), [], set()
    )


async def _apply(
    session: AsyncSession,
    actor: Actor,
    project_ref: str,
    cases: list[tuple[int, TestCaseDefinition]],
    suites: list[tuple[int, SuiteDefinition]],
    errors: list[dict[str, Any]],
    broken_names: set[str],
) -> ApplyResult:
    project = await _ensure_project(session, actor, project_ref)
    for index, case in cases:
        errors += definition_errors(storage_issues(case), f"test_cases[{index}]")
    errors += _duplicates([(i, case.name) for i, case in cases], "test_cases", "name", "test case")
    errors += _duplicates([(i, suite.suite) for i, suite in suites], "suites", "suite", "suite")
    known = {case.name for _, case in cases} | broken_names
    for index, suite in suites:
        errors += await suites_service.check_definition(
            session, actor, project, suite, f"suites[{index}]", known
        )
    if errors:
        raise _invalid(errors)
    applied_cases = []
    for _, case in cases:
        _, version, result = await testcases_service.upsert_definition(session, actor, project, case)
        applied_cases.append(TestCaseApplied(name=case.name, version=version.version, result=result))
    applied_suites = []
    for _, suite in suites:
        _, result = await suites_service.upsert_definition(session, actor, project, suite)
        applied_suites.append(SuiteApplied(name=suite.suite, result=result))
    return ApplyResult(
        project=ProjectOut.model_validate(project), test_cases=applied_cases, suites=applied_suites
    )


def _invalid(errors: list[dict[str, Any]]) -> InvalidDefinition:
    errors.sort(key=lambda error: _order(error["path"]))
    shown = "; ".join(f"{error['path']}: {error['message']}" for error in errors[:MAX_DETAIL_ISSUES])
    more = f" (and {len(errors) - MAX_DETAIL_ISSUES} more)" if len(errors) > MAX_DETAIL_ISSUES else ""
    count = f"{len(errors)} problem{'s' if len(errors) > 1 else ''}"
    return InvalidDefinition(f"nothing was applied, {count} in the definitions: {shown}{more}", errors=errors)


def _order(path: str) -> tuple[int, int]:
    """test_cases before suites, then by item index (the sort is stable within an item)."""
    section, _, rest = path.partition("[")
    index = rest.split("]", 1)[0]
    return (0 if section == "test_cases" else 1, int(index) if index.isdigit() else 0)
