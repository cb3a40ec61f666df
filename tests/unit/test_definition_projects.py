"""Which project each loaded definition belongs to, for folders whose suites name different projects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestra.cli.runner import RunOptions, UsageError, project_groups, targets_of
from orchestra.definitions.loader import DefinitionError, load_paths
from orchestra.definitions.projects import group_by_project

REPO = Path(__file__).resolve().parents[2]


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def case(name: str) -> str:
    return f"name: {name}\nsteps:\n  - sleep: 1\n"


def suite(name: str, tests: str, project: str | None = None) -> str:
    return f"suite: {name}\n" + (f"project: {project}\n" if project else "") + f"tests: {tests}\n"


def layout(folder: Path, paths: list[Path] | None = None, project: str | None = None) -> dict[str, Any]:
    """project -> (test case names, suite names)."""
    paths = paths or [folder]
    groups = group_by_project(load_paths(paths), paths, project)
    return {
        group.project: ([c.name for _, c in group.test_cases], [s.suite for _, s in group.suites])
        for group in groups
    }


def test_the_examples_folder_runs_each_suite_in_its_project() -> None:
    examples = REPO / "examples"
    groups = group_by_project(load_paths([examples]), [examples])
    assert [group.project for group in groups] == ["examples", "language-tour", "test-data"]
    demo, tour, test_data = groups
    assert len(tour.test_cases) == 6
    assert [s.suite for _, s in tour.suites] == ["language-tour"]
    assert len(demo.test_cases) == 15
    assert [s.suite for _, s in demo.suites] == ["demo"]
    assert sorted(c.name for _, c in test_data.test_cases) == [
        "order for a gold customer",
        "place an order from planned inputs",
    ]
    assert targets_of(test_data, RunOptions(paths=[examples])) == [("test-data", None, "test-data")]


def test_one_project_keeps_everything_together(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": case("a"), "b/b.yaml": case("b"), "b/suite.yaml": suite("s", '["*"]', "shop")})
    assert layout(tmp_path) == {"shop": (["a", "b"], ["s"])}
    write(tmp_path, {"b/suite.yaml": suite("s", "[b]")})  # no project named: the folder's name
    assert layout(tmp_path) == {tmp_path.name: (["a", "b"], ["s"])}


def test_a_test_case_two_projects_list_is_in_both(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "shared.yaml": case("shared"),
            "a.yaml": case("a"),
            "shop/suite.yaml": suite("shop smoke", "[shared, a]", "shop"),
            "billing/suite.yaml": suite("billing smoke", "[shared]", "billing"),
        },
    )
    assert layout(tmp_path) == {
        "billing": (["shared"], ["billing smoke"]),
        "shop": (["a", "shared"], ["shop smoke"]),
    }


def test_star_takes_its_folder_and_below_but_not_what_a_suite_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "loose.yaml": case("loose"),
            "shop/suite.yaml": suite("shop", '["*"]', "shop"),
            "shop/a.yaml": case("a"),
            "shop/deep/b.yaml": case("b"),
            "shop/deep/named.yaml": case("named"),
            "shop/billing/suite.yaml": suite("billing", '["*"]', "billing"),
            "shop/billing/c.yaml": case("c"),
            "other/suite.yaml": suite("other", "[named]", "other"),
        },
    )
    assert layout(tmp_path) == {
        "billing": (["c"], ["billing"]),  # the nearest '*' suite
        "other": (["named"], ["other"]),  # named by a suite: not taken by shop's '*'
        "shop": (["a", "b"], ["shop"]),
        tmp_path.name: (["loose"], []),  # no suite claims it: the folder's name (suites name several)
    }


def test_star_suites_of_two_projects_in_one_folder_are_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.yaml": case("a"),
            "one.yaml": suite("one", '["*"]', "shop"),
            "two.yaml": "suite: two\ntests: ['*']\nproject: billing\n",
        },
    )
    with pytest.raises(DefinitionError) as raised:
        layout(tmp_path)
    (issue,) = raised.value.issues
    assert (issue.file, issue.line, issue.column, issue.path) == (
        str(tmp_path / "two.yaml"),
        3,
        10,
        "project",
    )
    assert "'two' (project 'billing') and suite 'one'" in issue.message
    assert str(tmp_path / "one.yaml") in issue.message
    assert "give them the same project, or move one into a folder of its own" in issue.message


def test_project_option_puts_everything_in_it_and_refuses_suites_of_other_projects(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": case("a"), "suite.yaml": suite("s", "[a]")})
    assert layout(tmp_path, project="mine") == {"mine": (["a"], ["s"])}
    write(tmp_path, {"suite.yaml": suite("s", "[a]", "shop")})
    assert layout(tmp_path, project="shop") == {"shop": (["a"], ["s"])}
    with pytest.raises(DefinitionError) as raised:
        layout(tmp_path, project="mine")
    (issue,) = raised.value.issues
    assert (issue.file, issue.line, issue.path) == (str(tmp_path / "suite.yaml"), 2, "project")
    assert "names project 'shop', but --project is 'mine': leave out --project" in issue.message


@pytest.mark.parametrize(
    "name", ["../tokens", "a/b", "x?y=1", "#frag", ".hidden", "-dash", "tab\there", "p" * 201, "line\n"]
)
def test_a_suite_naming_a_hostile_project_is_an_error_at_its_place(tmp_path: Path, name: str) -> None:
    (tmp_path / "a.yaml").write_text(case("a"))
    (tmp_path / "suite.yaml").write_text(f"suite: s\nproject: {json.dumps(name)}\ntests: [a]\n")
    with pytest.raises(DefinitionError) as raised:
        load_paths([tmp_path])
    (issue,) = raised.value.issues
    assert (issue.line, issue.path) == (2, "project")
    assert "a project name has 1 to 200 characters" in issue.message


def test_names_the_cli_cannot_store_stop_it_before_anything(tmp_path: Path) -> None:
    folder = write(tmp_path / "my tests (old)", {"a.yaml": case("a")})
    loaded = load_paths([folder])
    with pytest.raises(UsageError, match=r"folder's name 'my tests \(old\)' is not a valid project name"):
        project_groups(loaded, RunOptions(paths=[folder]))
    assert [g.project for g in project_groups(loaded, RunOptions(paths=[folder], project="old"))] == ["old"]
    with pytest.raises(UsageError, match=r"--project: invalid project name '\.\./x'"):
        project_groups(loaded, RunOptions(paths=[folder], project="../x"))
