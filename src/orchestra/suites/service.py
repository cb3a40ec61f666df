"""Suites of a project. A suite lists test cases by name; every name must exist when the suite is stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.definitions.loader import DefinitionError, validate_suite_data
from orchestra.definitions.testcase_model import SuiteDefinition
from orchestra.definitions.yaml_text import download_name, yaml_of_suite
from orchestra.errors import Conflict, InvalidDefinition, InvalidInput, NotFound
from orchestra.kit.pagination import Page, PageParams
from orchestra.models import Project, Suite
from orchestra.projects import service as projects
from orchestra.suites import repository
from orchestra.suites.schemas import SuiteSummary
from orchestra.testcases.schemas import WriteResult
from orchestra.testcases.service import definition_errors, invalid_definition, join_path, storage_issues

ALL_TESTS = ["*"]


def storage_form(definition: SuiteDefinition) -> dict[str, Any]:
    """The JSON stored for a suite: as given, without ``project`` (the suite's project says it)."""
    return definition.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude={"project"})


def parse_definition(data: Any) -> SuiteDefinition:
    try:
        definition = validate_suite_data(data)
    except DefinitionError as error:
        raise invalid_definition("the suite", definition_errors(error.issues)) from None
    issues = storage_issues(definition)
    if issues:
        raise invalid_definition("the suite", definition_errors(issues))
    return definition


def _error(path: str, message: str) -> dict[str, Any]:
    return {"path": path, "line": None, "column": None, "message": message}


async def check_definition(
    session: AsyncSession,
    actor: Actor,
    owner: Project,
    definition: SuiteDefinition,
    prefix: str = "",
    known: Collection[str] = (),
    *,
    applying: bool = False,
) -> list[dict[str, Any]]:
    """Problems of a valid definition in its project: a foreign ``project``, unknown test names (names in
    ``known`` are taken as existing, e.g. test cases stored in the same apply), unstorable values.
    ``applying``: the definition comes through an apply, whose message on a foreign project says how to
    apply a folder whose suites name several projects."""
    errors = definition_errors(storage_issues(definition), prefix)
    if definition.project is not None and definition.project not in (owner.name, str(owner.id)):
        if applying:
            message = (
                f"the suite names project '{definition.project}' but is applied to project '{owner.name}': "
                f"apply it to project '{definition.project}' (POST /apply takes the definitions of several "
                "projects at once; `orchestra apply` and `orchestra run` store each suite of a folder in "
                "the project it names)"
            )
        else:
            message = (
                f"the suite names project '{definition.project}' but is stored in project '{owner.name}'"
            )
        errors.append(_error(join_path(prefix, "project"), message))
    if definition.tests != ALL_TESTS:
        lookup = [name for name in definition.tests if name not in known]
        existing = await repository.existing_test_names(session, actor.tenant_id, owner.id, lookup)
        for index, name in enumerate(definition.tests):
            if name not in known and name not in existing:
                message = f"unknown test case {name!r} (no such test case in project '{owner.name}')"
                errors.append(_error(join_path(prefix, f"tests[{index}]"), message))
    return errors


def _unknown_names(definition: SuiteDefinition, errors: list[dict[str, Any]]) -> list[str]:
    paths = {error["path"] for error in errors}
    return [name for index, name in enumerate(definition.tests) if f"tests[{index}]" in paths]


async def upsert_definition(
    session: AsyncSession, actor: Actor, project: Project | str, definition: SuiteDefinition
) -> tuple[Suite, WriteResult]:
    """Create the suite or replace its definition; identical content changes nothing ("unchanged")."""
    owner = await projects.get(session, actor, project)
    errors = await check_definition(session, actor, owner, definition)
    if errors:
        unknown = _unknown_names(definition, errors)
        if unknown:
            detail = (
                f"suite '{definition.suite}' refers to test cases that do not exist in project "
                f"'{owner.name}': {', '.join(unknown)}"
            )
            raise InvalidDefinition(detail, errors=errors)
        raise invalid_definition(f"suite '{definition.suite}'", errors)
    stored = storage_form(definition)
    created = await repository.insert_if_missing(session, actor.tenant_id, owner.id, definition.suite, stored)
    suite = await repository.find_by_name(session, actor.tenant_id, owner.id, definition.suite, lock=True)
    assert suite is not None  # inserted above or by a transaction that committed meanwhile
    if created:
        return suite, "created"
    if json.dumps(suite.definition) == json.dumps(stored):  # the order of keys counts, as in a test case
        return suite, "unchanged"
    suite.definition = stored
    await session.flush()
    await session.refresh(suite)
    return suite, "updated"


async def create(session: AsyncSession, actor: Actor, project: Project | str, data: Any) -> Suite:
    owner = await projects.get(session, actor, project)
    definition = await asyncio.to_thread(parse_definition, data)
    if await repository.find_by_name(session, actor.tenant_id, owner.id, definition.suite):
        raise Conflict(f"suite '{definition.suite}' already exists in project '{owner.name}'")
    suite, _ = await upsert_definition(session, actor, owner, definition)
    return suite


async def put(
    session: AsyncSession, actor: Actor, project: Project | str, name: str, data: Any
) -> tuple[Suite, WriteResult]:
    owner = await projects.get(session, actor, project)
    definition = await asyncio.to_thread(parse_definition, data)
    if definition.suite != name:
        raise InvalidInput(
            f"the definition's suite name '{definition.suite}' differs from '{name}' in the URL; a suite "
            f"cannot be renamed: create '{definition.suite}' and delete '{name}' instead"
        )
    return await upsert_definition(session, actor, owner, definition)


async def get(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> Suite:
    owner = await projects.get(session, actor, project)
    suite = await repository.find(session, actor.tenant_id, owner.id, ref)
    if suite is None:
        raise NotFound(f"suite '{ref}' does not exist in project '{owner.name}'")
    return suite


async def get_yaml(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> tuple[str, str]:
    """The suite as its YAML file: ``(file name, text)``."""
    suite = await get(session, actor, project, ref)
    return download_name(suite.name), yaml_of_suite(suite.definition)


async def list_page(
    session: AsyncSession, actor: Actor, project: Project | str, params: PageParams
) -> Page[SuiteSummary]:
    owner = await projects.get(session, actor, project)
    rows, total = await repository.list_page(session, actor.tenant_id, owner.id, params.limit, params.offset)
    return Page[SuiteSummary](
        items=[SuiteSummary.of(row) for row in rows], total=total, limit=params.limit, offset=params.offset
    )


async def delete(session: AsyncSession, actor: Actor, project: Project | str, ref: str) -> None:
    """Delete the suite; its past suite runs are kept (they lose the link to it)."""
    suite = await get(session, actor, project, ref)
    await session.delete(suite)
    await session.flush()
