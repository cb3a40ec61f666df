"""End to end: `orchestra run` and `orchestra apply` of a folder whose suites name different projects
(a copy of `examples/demo` and `examples/test-data`: the demo suite in project `examples`, the test-data
suite in project `test-data`; the other examples have projects of their own and tests of their own)."""

from __future__ import annotations

import json
import shutil
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import REPO, Server, orchestra
from tests.e2e.test_cli import local_admin

pytestmark = pytest.mark.e2e


@pytest.fixture
def two_projects(tmp_path: Path) -> str:
    folder = tmp_path / "examples"
    for example in ("demo", "test-data"):
        shutil.copytree(REPO / "examples" / example, folder / example)
    return str(folder)


DEMO = {"PASSED": 12, "FAILED": 2, "ERROR": 1}


def check_reports(junit: Path, report: Path) -> list[str]:
    """Both projects' results in one JUnit file and one JSON document; the suite run ids."""
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("17", "2", "1")
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert {name: suite.get("tests") for name, suite in suites.items()} == {"demo": "15", "test-data": "2"}
    assert {case.get("classname") for case in suites["demo"].iter("testcase")} == {"examples.demo"}
    assert {case.get("classname") for case in suites["test-data"].iter("testcase")} == {"test-data.test-data"}
    document = json.loads(report.read_text())
    assert document["kind"] == "suite_runs"
    counts = {run["name"]: run["counts"] for run in document["suite_runs"]}
    assert counts == {"demo": DEMO, "test-data": {"PASSED": 2}}
    return [run["id"] for run in document["suite_runs"]]


def check_output(stdout: str) -> None:
    text = " ".join(stdout.split())
    assert "running 15 test case(s) of project 'examples'" in text
    assert "running 2 test case(s) of project 'test-data'" in text
    assert "17 tests: 14 passed, 2 failed, 1 error" in text


def test_embedded_run_of_a_folder_whose_suites_name_two_projects(
    tmp_path: Path, demo_sut: str, two_projects: str
) -> None:
    junit, report, data_dir = tmp_path / "junit.xml", tmp_path / "result.json", tmp_path / "d"
    result = orchestra(
        "run", two_projects, "--base-url", demo_sut, "--openapi", f"{demo_sut}/openapi.json",
        "--secret", "username=demo", "--secret", "password", "--junit", str(junit), "--json", str(report),
        data_dir=data_dir, password="demo-password",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    check_output(result.stdout)
    check_reports(junit, report)
    applied = orchestra("apply", two_projects, data_dir=data_dir)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "project examples:" in applied.stdout
    assert "project test-data:" in applied.stdout
    assert applied.stdout.count(": unchanged") == 19  # 15 + 2 test cases, 2 suites
    refused = orchestra("apply", two_projects, "--project", "other", data_dir=data_dir)
    assert refused.returncode == 2
    assert "the suite names project 'test-data', but --project is 'other'" in " ".join(refused.stderr.split())


def test_run_of_a_folder_whose_suites_name_two_projects_against_a_server(
    orchestra_up: Server, tmp_path: Path, two_projects: str
) -> None:
    """`orchestra up` made the environment `demo` in both projects; the run uses each project's own."""
    junit, report = tmp_path / "junit.xml", tmp_path / "result.json"
    result = orchestra(
        "run", two_projects, "--env", "demo", "--junit", str(junit), "--json", str(report),
        data_dir=orchestra_up.data_dir, ORCHESTRA_SERVER=orchestra_up.url,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    check_output(result.stdout)
    api, headers = f"{orchestra_up.url}/api/v1", local_admin(orchestra_up.data_dir)
    stored = [
        httpx.get(f"{api}/suite-runs/{id_}", headers=headers).json() for id_ in check_reports(junit, report)
    ]
    projects = [httpx.get(f"{api}/projects/{run['project_id']}", headers=headers).json() for run in stored]
    assert [project["name"] for project in projects] == ["examples", "test-data"]
    assert [run["counts"] for run in stored] == [DEMO, {"PASSED": 2}]
    applied = orchestra(
        "apply", two_projects, data_dir=orchestra_up.data_dir, ORCHESTRA_SERVER=orchestra_up.url
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert applied.stdout.count(": unchanged") == 19


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def case(name: str) -> str:
    return f"name: {name}\nsteps:\n  - request:\n      url: '{{{{ env.base_url }}}}/health'\n"


def suite(name: str, project: str, tests: str) -> str:
    return f"suite: {name}\nproject: {project}\ntests: {tests}\n"


def bad_folders(root: Path, tag: str) -> dict[str, tuple[list[str], str, list[str]]]:
    """name -> (arguments after `run`, what stderr says, projects that must not exist afterwards)."""
    one, two = f"one-{tag}", f"two-{tag}"
    stars = write(
        root / "stars",
        {
            "a.yaml": case(f"a-{tag}"),
            "s1.yaml": suite("s1", one, "['*']"),
            "s2.yaml": suite("s2", two, "['*']"),
        },
    )
    named = write(
        root / "named",
        {
            "a/a.yaml": case(f"a-{tag}"),
            "a/suite.yaml": suite("sa", one, f"[a-{tag}]"),
            "b/b.yaml": case(f"b-{tag}"),
            "b/suite.yaml": suite("sb", two, f"[b-{tag}]"),
        },
    )
    hostile = write(
        root / "hostile", {"a.yaml": case(f"a-{tag}"), "suite.yaml": suite("s", '"../tokens"', "['*']")}
    )
    unknown = write(root / "unknown", {"a.yaml": case(f"a-{tag}"), "suite.yaml": suite("s", one, "['*']")})
    badly_named = write(root / "bad name (copy)", {"a.yaml": case(f"a-{tag}")})
    return {
        "two '*' suites of two projects in one folder": (
            [str(stars), "--env", "demo"],
            f"{stars / 's2.yaml'}:2:10: project: suite 's2' (project '{two}') and suite 's1'",
            [one, two],
        ),
        "--project against the suites' projects": (
            [str(named), "--env", "demo", "--project", one],
            f"{named / 'b' / 'suite.yaml'}:2:10: project: the suite names project '{two}', "
            f"but --project is '{one}'",
            [one, two],
        ),
        "a hostile project name in a suite": (
            [str(hostile), "--env", "demo"],
            f"{hostile / 'suite.yaml'}:2:10: project: a project name has 1 to 200 characters",
            ["tokens", "hostile"],
        ),
        "a hostile --project": (
            [str(named), "--env", "demo", "--project", "a/b"],
            "--project: invalid",
            [one, two],
        ),
        "a hostile --env": (
            [str(named), "--env", "../../tokens"],
            "--env: invalid environment name",
            [one, two],
        ),
        "an unknown project": ([str(unknown), "--env", "demo"], f"project '{one}' does not exist", [one]),
        "an unknown project among several": (
            [str(named), "--env", "demo"],
            f"project '{one}' does not exist: the suites found name 2 projects ('{one}', '{two}')",
            [one, two],
        ),
        "a folder name that is no project name": (
            [str(badly_named), "--env", "demo"],
            "the folder's name 'bad name (copy)' is not a valid project name",
            [],
        ),
    }


CASES = [
    "two '*' suites of two projects in one folder",
    "--project against the suites' projects",
    "a hostile project name in a suite",
    "a hostile --project",
    "a hostile --env",
    "an unknown project",
    "an unknown project among several",
    "a folder name that is no project name",
]


@pytest.mark.parametrize("name", CASES)
def test_bad_project_claims_exit_two_before_anything_is_stored(
    orchestra_up: Server, tmp_path: Path, name: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    folders = bad_folders(tmp_path, tag)
    assert list(folders) == CASES
    arguments, said, absent = folders[name]
    result = orchestra("run", *arguments, data_dir=orchestra_up.data_dir, ORCHESTRA_SERVER=orchestra_up.url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in " ".join(result.stderr.split()), result.stderr
    api, headers = f"{orchestra_up.url}/api/v1", local_admin(orchestra_up.data_dir)
    for project in absent:
        assert httpx.get(f"{api}/projects/{project}", headers=headers).status_code == 404, project
    test_case = httpx.get(f"{api}/projects/examples/test-cases/a-{tag}", headers=headers)
    assert test_case.status_code == 404


def test_a_token_that_may_not_write_one_of_the_projects_stores_nothing(
    orchestra_up: Server, demo_sut: str, tmp_path: Path
) -> None:
    """The server applies all projects in one transaction: a token of project `examples` may not write
    `test-data`, so the test case meant for `examples` is not stored either."""
    api, headers = f"{orchestra_up.url}/api/v1", local_admin(orchestra_up.data_dir)
    body = {"name": f"scoped-{uuid.uuid4().hex[:8]}", "role": "editor", "project": "examples"}
    created = httpx.post(f"{api}/tokens", json=body, headers=headers)
    assert created.status_code == 201, created.text
    tag = uuid.uuid4().hex[:8]
    folder = write(
        tmp_path / "folder",
        {
            # `examples` comes first: were the projects applied one by one, its test case would be stored
            "1-shop/a.yaml": case(f"a-{tag}"),
            "1-shop/suite.yaml": suite("s", "examples", f"[a-{tag}]"),
            "2-data/b.yaml": case(f"b-{tag}"),
            "2-data/suite.yaml": suite("d", "test-data", f"[b-{tag}]"),
        },
    )
    token = created.json()["token"]
    result = orchestra(
        "run", str(folder), "--base-url", demo_sut,
        data_dir=tmp_path / "elsewhere", ORCHESTRA_SERVER=orchestra_up.url, ORCHESTRA_TOKEN=token,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "HTTP 403" in result.stderr
    assert httpx.get(f"{api}/projects/examples/test-cases/a-{tag}", headers=headers).status_code == 404
