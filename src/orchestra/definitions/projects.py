"""The project each loaded definition is stored and run in, when a folder holds suites of several projects.

- A suite belongs to the project its ``project:`` names, else to the default project.
- A test case belongs to the project of every suite that lists it by name: a test case that suites of two
  projects list is stored in both, and runs in both.
- A test case that no suite lists by name belongs to the project of the nearest suite with
  ``tests: ["*"]`` in its folder or a folder above it (two such suites in one folder must agree).
- Any other test case belongs to the default project: the project the suites name when they name exactly
  one, else the name of the (first) folder given, or of the folder of the (first) file given.

With a project given (``--project``), everything belongs to it, and a suite that names another project is
an error: it would be stored where it says it does not belong.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from orchestra.definitions.loader import DefinitionError, DefinitionIssue, LoadedDefinitions
from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition

ALL_TESTS = ["*"]


@dataclass
class ProjectDefinitions:
    """The test cases and suites stored in, and run in, one project."""

    project: str
    test_cases: list[tuple[Path, TestCaseDefinition]] = field(default_factory=list)
    suites: list[tuple[Path, SuiteDefinition]] = field(default_factory=list)


def folder_name(paths: Sequence[Path]) -> str:
    """The name of the first folder given, or of the folder of the first file given."""
    first = paths[0]
    folder = first if first.is_dir() else first.parent
    return folder.resolve().name or "default"


def default_project(loaded: LoadedDefinitions, paths: Sequence[Path]) -> str:
    """The project the suites name when they name exactly one, else the folder's name."""
    named = list(dict.fromkeys(suite.project for _, suite in loaded.suites if suite.project))
    return named[0] if len(named) == 1 else folder_name(paths)


def group_by_project(
    loaded: LoadedDefinitions, paths: Sequence[Path], project: str | None = None
) -> list[ProjectDefinitions]:
    """The definitions of each project, in the order the suites name the projects (the default project
    where its first suite is, else last). Conflicting claims are raised as ``DefinitionError``, with the
    place of the suite at fault."""
    if project is not None:
        return [_all_in(loaded, project)]
    default = default_project(loaded, paths)

    def owner(suite: SuiteDefinition) -> str:
        return suite.project or default

    by_name: dict[str, list[str]] = {}
    stars: dict[Path, tuple[Path, SuiteDefinition]] = {}
    issues: list[DefinitionIssue] = []
    for path, suite in loaded.suites:
        if suite.tests != ALL_TESTS:
            for name in suite.tests:
                projects = by_name.setdefault(name, [])
                if owner(suite) not in projects:
                    projects.append(owner(suite))
            continue
        folder = path.resolve().parent
        first = stars.setdefault(folder, (path, suite))
        if owner(first[1]) != owner(suite):
            issues.append(_star_conflict(loaded, (path, suite), first, owner))
    if issues:
        raise DefinitionError(issues)

    groups: dict[str, ProjectDefinitions] = {}
    for path, suite in loaded.suites:
        groups.setdefault(owner(suite), ProjectDefinitions(owner(suite))).suites.append((path, suite))
    for path, case in loaded.test_cases:
        star = _nearest(stars, path)
        projects = by_name.get(case.name) or [owner(star) if star is not None else default]
        for name in projects:
            groups.setdefault(name, ProjectDefinitions(name)).test_cases.append((path, case))
    return list(groups.values())


def _all_in(loaded: LoadedDefinitions, project: str) -> ProjectDefinitions:
    issues = [
        loaded.issue_at(
            path,
            ["project"],
            f"the suite names project {suite.project!r}, but --project is {project!r}: leave out --project "
            "to store and run each suite in the project it names, or change the suite's project",
        )
        for path, suite in loaded.suites
        if suite.project is not None and suite.project != project
    ]
    if issues:
        raise DefinitionError(issues)
    return ProjectDefinitions(project, list(loaded.test_cases), list(loaded.suites))


def _nearest(stars: dict[Path, tuple[Path, SuiteDefinition]], path: Path) -> SuiteDefinition | None:
    """The ``tests: ["*"]`` suite of the test case's folder, else of the nearest folder above it."""
    for folder in path.resolve().parents:
        if folder in stars:
            return stars[folder][1]
    return None


def _star_conflict(
    loaded: LoadedDefinitions,
    this: tuple[Path, SuiteDefinition],
    first: tuple[Path, SuiteDefinition],
    owner: Callable[[SuiteDefinition], str],
) -> DefinitionIssue:
    (path, suite), (first_path, first_suite) = this, first
    message = (
        f"suite {suite.suite!r} (project {owner(suite)!r}) and suite {first_suite.suite!r} in {first_path} "
        f"(project {owner(first_suite)!r}) both take every test case of this folder (tests: ['*']): give "
        "them the same project, or move one into a folder of its own"
    )
    return loaded.issue_at(path, ["project"] if suite.project else ["tests"], message)
