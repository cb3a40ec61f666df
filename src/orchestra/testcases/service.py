"""Test cases and their immutable versions: an edit with new content adds a version, identical content not."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.definitions.loader import (
    MAX_REPORTED_ISSUES,
    DefinitionError,
    DefinitionIssue,
    LoadedDefinitions,
    parse_text,
    validate_test_case_data,
)
from orchestra.definitions.testcase_model import ParametersFile, TestCaseDefinition
from orchestra.definitions.yaml_text import download_name, yaml_of_test_case
from orchestra.errors import Conflict, InvalidDefinition, InvalidInput, NotFound
from orchestra.kit.json_storage import json_storage_problem
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import Project, TestCase, TestCaseVersion
from orchestra.projects import service as projects
from orchestra.testcases import repository
from orchestra.testcases.schemas import (
    LastRun,
    TestCaseSource,
    TestCaseSummary,
    VersionSummary,
    WriteResult,
)

MAX_DETAIL_ISSUES = 3


# --- definitions: validation errors as problem details, storage form, content hash -------------------


def join_path(prefix: str, path: str) -> str:
    if not prefix or not path:
        return prefix or path
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def definition_errors(issues: Sequence[DefinitionIssue], prefix: str = "") -> list[dict[str, Any]]:
    """Issues as the ``errors`` of a problem; ``prefix`` places them in a larger document."""
    return [
        {
            "path": join_path(prefix, issue.path),
            "line": issue.line or None,
            "column": issue.column or None,
            "message": issue.message,
        }
        for issue in issues
    ]


def listed(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first MAX_REPORTED_ISSUES errors, and one that counts the rest: a request with 100,000
    problems gets an answer of a few kilobytes."""
    if len(errors) <= MAX_REPORTED_ISSUES:
        return errors
    more = len(errors) - MAX_REPORTED_ISSUES
    note = f"and {more} more problem{'s' if more > 1 else ''}, not listed (at most {MAX_REPORTED_ISSUES} are)"
    return [*errors[:MAX_REPORTED_ISSUES], {"path": "", "line": None, "column": None, "message": note}]


def invalid_definition(what: str, errors: list[dict[str, Any]]) -> InvalidDefinition:
    shown = "; ".join(
        f"{error['path'] or '(top level)'}: {error['message']}" for error in errors[:MAX_DETAIL_ISSUES]
    )
    more = f" (and {len(errors) - MAX_DETAIL_ISSUES} more)" if len(errors) > MAX_DETAIL_ISSUES else ""
    return InvalidDefinition(f"{what} is invalid: {shown}{more}", errors=listed(errors))


def storage_form(definition: TestCaseDefinition) -> dict[str, Any]:
    """The JSON stored in a version: the definition as given (aliases, no defaults added)."""
    return definition.model_dump(mode="json", by_alias=True, exclude_unset=True)


def content_hash(stored: dict[str, Any]) -> str:
    """The hash of the definition as written: keys in their order (reordering ``set`` is a change)."""
    return hashlib.sha256(json.dumps(stored, separators=(",", ":")).encode()).hexdigest()


def storage_issues(definition: BaseModel) -> list[DefinitionIssue]:
    """Values JSONB cannot store. Checked on the Python form: the JSON form turns NaN into null silently."""
    if isinstance(definition, TestCaseDefinition) and isinstance(definition.parameters, ParametersFile):
        message = (
            "a parameters file is read next to the test case file by `orchestra run` and `orchestra apply`; "
            "here, give the rows themselves (parameters: [{name: value, ...}, ...])"
        )
        return [DefinitionIssue("", 0, 0, "parameters.file", message)]
    problem = json_storage_problem(definition.model_dump(by_alias=True, exclude_unset=True))
    return [] if problem is None else [DefinitionIssue("", 0, 0, problem[0], problem[1])]


async def parsed_definition(data: Any) -> TestCaseDefinition:
    """``parse_definition`` in a worker thread: a large definition does not hold up the event loop."""
    return await asyncio.to_thread(parse_definition, data)


def parse_definition(data: Any) -> TestCaseDefinition:
    """A test case from JSON sent to the API; every problem is raised at once as InvalidDefinition."""
    try:
        definition = validate_test_case_data(data)
    except DefinitionError as error:
        raise invalid_definition("the test case", definition_errors(error.issues)) from None
    issues = storage_issues(definition)
    if issues:
        raise invalid_definition("the test case", definition_errors(issues))
    return definition


# --- service ------------------------------------------------------------------------------------------


async def upsert_definition(
    session: AsyncSession, actor: Actor, project: Project | str, definition: TestCaseDefinition
) -> tuple[TestCase, TestCaseVersion, WriteResult]:
    """Create the test case or add a version; identical content changes nothing ("unchanged")."""
    owner = await projects.get(session, actor, project)
    issues = storage_issues(definition)
    if issues:
        raise invalid_definition(f"test case '{definition.name}'", definition_errors(issues))
    stored = storage_form(definition)
    digest = content_hash(stored)
    created = await repository.insert_if_missing(session, actor.tenant_id, owner.id, definition.name)
    case = await repository.find_by_name(session, actor.tenant_id, owner.id, definition.name, lock=True)
    assert case is not None  # inserted above or by a transaction that committed meanwhile
    if created:
        version = _new_version(actor, case, 1, stored, digest)
        session.add(version)
        await session.flush()
        return case, version, "created"
    current = await repository.find_version(session, case, case.current_version)
    if current is not None and current.content_hash == digest:
        return case, current, "unchanged"
    version = _new_version(actor, case, await repository.last_version(session, case) + 1, stored, digest)
    session.add(version)
    case.current_version = version.version
    await session.flush()
    await session.refresh(case)
    return case, version, "updated"


def _new_version(
    actor: Actor, case: TestCase, number: int, stored: dict[str, Any], digest: str
) -> TestCaseVersion:
    return TestCaseVersion(
        id=uuid.uuid4(),
        tenant_id=actor.tenant_id,
        test_case_id=case.id,
        version=number,
        definition=stored,
        content_hash=digest,
    )


async def create(
    session: AsyncSession, actor: Actor, project: Project | str, data: Any
) -> tuple[TestCase, TestCaseVersion]:
    owner = await projects.get(session, actor, project)
    definition = await parsed_definition(data)
    if await repository.find_by_name(session, actor.tenant_id, owner.id, definition.name):
        raise Conflict(f"test case '{definition.name}' already exists in project '{owner.name}'")
    case, version, _ = await upsert_definition(session, actor, owner, definition)
    return case, version


async def put(
    session: AsyncSession, actor: Actor, project: Project | str, name: str, data: Any
) -> tuple[TestCase, TestCaseVersion, WriteResult]:
    """Create the test case ``name`` or add a version to it (PUT is idempotent)."""
    owner = await projects.get(session, actor, project)
    definition = await parsed_definition(data)
    if definition.name != name:
        raise InvalidInput(
            f"the definition's name '{definition.name}' differs from '{name}' in the URL; a test case cannot "
            f"be renamed: create '{definition.name}' and delete '{name}' instead"
        )
    return await upsert_definition(session, actor, owner, definition)


async def get_case(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> TestCase:
    owner = await projects.get(session, actor, project)
    case = await repository.find(session, actor.tenant_id, owner.id, ref)
    if case is None:
        raise NotFound(f"test case '{ref}' does not exist in project '{owner.name}'")
    return case


async def get(
    session: AsyncSession, actor: Actor, project: Project | str, ref: str
) -> tuple[TestCase, TestCaseVersion]:
    """A test case and its current version."""
    case = await get_case(session, actor, project, ref)
    version = await repository.find_version(session, case, case.current_version)
    if version is None:  # versions are never deleted alone; this would be a broken row
        raise NotFound(f"test case '{case.name}' has no version {case.current_version}")
    return case, version


async def get_version(
    session: AsyncSession, actor: Actor, project: Project | str, ref: str, number: int
) -> tuple[TestCase, TestCaseVersion]:
    case = await get_case(session, actor, project, ref)
    version = await repository.find_version(session, case, number)
    if version is None:
        raise NotFound(f"test case '{case.name}' has no version {number} (current: {case.current_version})")
    return case, version


async def list_versions(
    session: AsyncSession, actor: Actor, project: Project | str, ref: str, params: PageParams
) -> Page[VersionSummary]:
    case = await get_case(session, actor, project, ref)
    rows, total = await repository.list_versions(session, case, params.limit, params.offset)
    items = [
        VersionSummary(version=v.version, content_hash=v.content_hash, created_at=v.created_at) for v in rows
    ]
    return Page[VersionSummary](items=items, total=total, limit=params.limit, offset=params.offset)


def _last_run(row: repository.LastRunRow | None) -> LastRun | None:
    if row is None:
        return None
    run_id, status, environment, version, created_at, finished_at = row
    return LastRun(
        id=run_id,
        status=status,
        environment=environment,
        test_case_version=version,
        created_at=created_at,
        finished_at=finished_at,
    )


async def list_page(
    session: AsyncSession, actor: Actor, project: Project | str, params: PageParams, tag: str | None = None
) -> Page[TestCaseSummary]:
    owner = await projects.get(session, actor, project)
    rows, total = await repository.list_page(
        session, actor.tenant_id, owner.id, tag, params.limit, params.offset
    )
    return Page[TestCaseSummary](
        items=[TestCaseSummary.of(case, version, _last_run(last)) for case, version, last in rows],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


async def get_yaml(
    session: AsyncSession, actor: Actor, project: Project | str, ref: str, number: int | None
) -> tuple[str, str]:
    """A version (None: the current one) as its YAML file: ``(file name, text)``."""
    if number is None:
        case, version = await get(session, actor, project, ref)
    else:
        case, version = await get_version(session, actor, project, ref, number)
    return download_name(case.name), yaml_of_test_case(version.definition)


async def put_yaml(
    session: AsyncSession, actor: Actor, project: Project | str, name: str, source: TestCaseSource
) -> tuple[TestCase, TestCaseVersion, WriteResult]:
    """``put`` from the text of a YAML file: every problem with its line and column, and, with
    ``base_version``, a refusal when someone else changed the test case since that version."""
    owner = await projects.get(session, actor, project)
    file = download_name(name)
    try:
        definition, root = parse_text(source.content, file)
    except DefinitionError as error:
        raise invalid_definition("the test case", definition_errors(error.issues)) from None
    if not isinstance(definition, TestCaseDefinition):
        kind = "a suite" if definition is not None else "neither a test case nor a suite"
        issue = DefinitionIssue(file, 1, 1, "", f"this is {kind}: a test case needs 'name' and 'steps'")
        raise invalid_definition("the test case", definition_errors([issue]))
    if definition.name != name:
        message = (
            f"the test case is named {definition.name!r} here but {name!r} is being saved; a test case "
            "cannot be renamed: save it under the new name and delete the old one"
        )
        assert root is not None  # a definition was read, so the text had a tree
        issue = LoadedDefinitions(roots={Path(file): root}).issue_at(Path(file), ["name"], message)
        raise invalid_definition("the test case", definition_errors([issue]))
    await _check_base_version(session, actor, owner, name, source.base_version)
    case, version, result = await upsert_definition(session, actor, owner, definition)
    if source.base_version == 0 and result != "created":  # created meanwhile by someone else
        raise Conflict(f"test case '{name}' already exists in project '{owner.name}'")
    return case, version, result


async def _check_base_version(
    session: AsyncSession, actor: Actor, owner: Project, name: str, base: int | None
) -> None:
    if base is None:
        return
    case = await repository.find_by_name(session, actor.tenant_id, owner.id, name, lock=True)
    if base == 0 and case is not None:
        raise Conflict(f"test case '{name}' already exists in project '{owner.name}'")
    if base > 0 and case is None:
        raise NotFound(f"test case '{name}' does not exist in project '{owner.name}' (it was deleted?)")
    if base > 0 and case is not None and case.current_version != base:
        raise Conflict(
            f"test case '{name}' changed since version {base}: it is at version {case.current_version} "
            "now; open that version and make your change again"
        )


async def delete(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> None:
    """Delete a test case with its versions (and its runs). Refused while a suite lists it by name."""
    case = await get_case(session, actor, project, ref)
    suites = await repository.suites_using(session, case)
    if suites:
        raise Conflict(
            f"test case '{case.name}' is listed by suite(s) {', '.join(repr(s) for s in suites)}; "
            "remove it from them first"
        )
    await session.delete(case)
    await session.flush()


async def get_current_version(
    session: AsyncSession, actor: Actor, project_id: uuid.UUID, name: str
) -> TestCaseVersion | None:
    found = await repository.list_current(session, actor.tenant_id, project_id, [name])
    return found[0][1] if found else None


async def list_current_versions(
    session: AsyncSession, tenant_id: uuid.UUID, project_id: uuid.UUID, names: list[str] | None
) -> list[tuple[TestCase, TestCaseVersion]]:
    """The named test cases (None: all of the project) with their current versions, ordered by name.
    Names that do not exist are left out."""
    if names is not None and not names:
        return []
    return await repository.list_current(session, tenant_id, project_id, names)
