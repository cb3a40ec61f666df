"""End to end: the real `orchestra` CLI and `orchestra up` processes against the real demo SUT."""

from __future__ import annotations

import json
import signal
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from orchestra.migrate import head_revision
from tests.e2e.conftest import ORCHESTRA, REPO, Server, cli_env, orchestra, start_up
from tests.ports import refused_url

pytestmark = pytest.mark.e2e
EXAMPLES = str(REPO / "examples" / "demo")
TEST_DATA = str(REPO / "examples" / "test-data")
EXPECTED = {"PASSED": 12, "FAILED": 2, "ERROR": 1}


def _check_reports(junit: Path, report: Path) -> None:
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("15", "2", "1")
    assert len(suite.findall("testcase")) == 15
    for case in suite.iter("testcase"):
        assert case.get("name")
        assert case.get("classname")
        assert case.get("time") is not None
    document = json.loads(report.read_text())
    assert document["kind"] == "suite_run"
    assert document["counts"] == EXPECTED
    assert all(run["steps"] for run in document["runs"])


def local_admin(data_dir: Path) -> dict[str, str]:
    """The local admin token a server wrote into its data directory, as request headers."""
    token_file = data_dir / "admin-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    return {"Authorization": f"Bearer {token_file.read_text().strip()}"}


def test_up_serves_the_api_and_ran_the_example_suite(orchestra_up: Server) -> None:
    log = orchestra_up.log.read_text()
    token = (orchestra_up.data_dir / "admin-token").read_text().strip()
    assert "Local admin token (shown once" in log
    assert token in log  # printed at the first start, once
    unauthenticated = httpx.get(f"{orchestra_up.url}/api/v1/suite-runs")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    assert "Orchestra results" in log
    assert "15 tests: 12 passed, 2 failed, 1 error" in log
    assert "2 tests: 2 passed" in log  # the test-data examples
    health = httpx.get(f"{orchestra_up.url}/api/v1/health").json()
    assert health == {
        "status": "ok",
        "checks": {"api": "ok", "database": "ok", "broker": "ok", "executor": "ok", "scheduler": "ok"},
        "scheduler_role": "leader",
    }
    suite_runs = httpx.get(
        f"{orchestra_up.url}/api/v1/suite-runs",
        params={"project": "examples"},
        headers=local_admin(orchestra_up.data_dir),
    ).json()
    demo_runs = [run for run in suite_runs["items"] if run["name"] == "demo"]
    assert demo_runs
    assert demo_runs[0]["counts"] == EXPECTED
    schema = httpx.get(f"{orchestra_up.url}/api/v1/schemas/testcase.json").json()
    assert schema["title"]
    assert "steps" in schema["properties"]


def test_up_planned_the_example_test_data_and_cleaned_it_up(orchestra_up: Server) -> None:
    """The test-data examples ran with data planned from the demo SUT's OpenAPI description: every entity
    the runs created is in their ledger and was deleted after the run."""
    headers = local_admin(orchestra_up.data_dir)
    api = f"{orchestra_up.url}/api/v1"
    runs = httpx.get(f"{api}/runs", params={"project": "test-data", "limit": 100}, headers=headers).json()
    planned = [run for run in runs["items"] if run["name"] == "order for a gold customer"]
    assert [run["status"] for run in planned] == ["PASSED"]
    run = httpx.get(f"{api}/runs/{planned[0]['id']}", headers=headers).json()
    phases = [step["phase"] for step in run["steps"]]
    assert (phases[0], phases[-1]) == ("data", "cleanup"), phases
    ledger = httpx.get(f"{api}/runs/{run['id']}/ledger", headers=headers).json()
    operations = {entry["operation"] for entry in ledger}
    assert operations == {"createCustomer", "createItem", "createOrder"}
    assert {entry["status"] for entry in ledger} == {"done"}
    # planned by its own ai-service (its configured port was taken by a stranger): no fallback notice
    assert "is taken" in orchestra_up.log.read_text()
    plan = httpx.get(
        f"{api}/projects/test-data/test-cases/order for a gold customer/dataplan",
        params={"environment": "demo"},
        headers=headers,
    ).json()
    assert plan["notices"] == [], plan["notices"]


def test_embedded_run_of_the_example_suite(tmp_path: Path, demo_sut: str) -> None:
    junit, report = tmp_path / "out" / "junit.xml", tmp_path / "out" / "result.json"
    result = orchestra(
        "run",
        EXAMPLES,
        "--base-url",
        demo_sut,
        "--junit",
        str(junit),
        "--json",
        str(report),
        data_dir=tmp_path / "d",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Orchestra results" in result.stdout
    assert "15 tests: 12 passed, 2 failed, 1 error" in result.stdout
    _check_reports(junit, report)


def test_run_against_a_server_and_results_are_kept(
    orchestra_up: Server, demo_sut: str, tmp_path: Path
) -> None:
    junit, report = tmp_path / "junit.xml", tmp_path / "result.json"
    # The local user's CLI (same data directory) reads the local admin token by itself.
    result = orchestra(
        "run", EXAMPLES, "--env", "demo", "--junit", str(junit), "--json", str(report),
        data_dir=orchestra_up.data_dir, ORCHESTRA_SERVER=orchestra_up.url,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    _check_reports(junit, report)
    suite_run_id = json.loads(report.read_text())["id"]
    stored = httpx.get(
        f"{orchestra_up.url}/api/v1/suite-runs/{suite_run_id}", headers=local_admin(orchestra_up.data_dir)
    ).json()
    assert stored["counts"] == EXPECTED


def test_run_against_a_server_needs_a_valid_token(orchestra_up: Server, tmp_path: Path) -> None:
    """A refused token: the error says which token was sent and where the CLI looked for one."""
    elsewhere = tmp_path / "elsewhere"
    looked_at = elsewhere.resolve() / "admin-token"
    wrong = "orc_" + "0" * 32 + "_" + "x" * 43
    for extra, said in (
        (
            {},
            [
                f"no token was sent (--token and ORCHESTRA_TOKEN are unset and {looked_at} does not exist)",
                "or point --data-dir (or ORCHESTRA_DATA_DIR) at the data directory of the server",
            ],
        ),
        ({"ORCHESTRA_TOKEN": wrong}, ["sent the token of --token/ORCHESTRA_TOKEN (prefix xxxxxxxx)"]),
    ):
        result = orchestra(
            "run", EXAMPLES, "--env", "demo",
            data_dir=elsewhere, ORCHESTRA_SERVER=orchestra_up.url, **extra,
        )  # fmt: skip
        assert result.returncode == 2, result.stdout + result.stderr
        error = result.stderr.strip()
        assert error.startswith("error: HTTP 401: "), error
        for words in [*said, "`orchestra admin-token` prints the local admin token"]:
            assert words in error, error
        assert "Traceback" not in result.stdout + result.stderr
    elsewhere.mkdir(exist_ok=True)
    (elsewhere / "admin-token").write_text(wrong + "\n")
    result = orchestra(
        "run", EXAMPLES, "--env", "demo", data_dir=elsewhere, ORCHESTRA_SERVER=orchestra_up.url
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"sent the local admin token of {looked_at} (prefix xxxxxxxx)" in result.stderr


def test_embedded_run_plans_declared_data_from_the_given_openapi_description(
    tmp_path: Path, demo_sut: str
) -> None:
    """`--openapi` and `--secret` make an ad-hoc environment plannable: the run's own ai-service plans the
    data (no fallback notice), the tests pass, and what they created is undone."""
    description = tmp_path / "openapi.json"
    description.write_text(httpx.get(f"{demo_sut}/openapi.json").text)
    report = tmp_path / "result.json"
    result = orchestra(
        "run", TEST_DATA, "--base-url", demo_sut, "--openapi", str(description),
        "--secret", "username=demo", "--secret", "password", "--json", str(report),
        data_dir=tmp_path / "d", password="demo-password",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Orchestra demo shop': 33 operation(s)" in " ".join(result.stdout.split())
    assert "2 tests: 2 passed" in result.stdout
    text = report.read_text()
    assert "built-in planner was used" not in text
    assert "demo-password" not in text
    steps = [step for run in json.loads(text)["runs"] for step in run["steps"]]
    cleanups = [step for step in steps if step["phase"] == "cleanup"]
    assert cleanups
    assert {step["status"] for step in cleanups} == {"passed"}


def test_run_against_a_server_imports_the_description_and_sets_secrets_there(
    orchestra_up: Server, demo_sut: str, tmp_path: Path
) -> None:
    cases = tmp_path / "cases"  # the test cases without their suite, in a project of their own
    cases.mkdir()
    for case in Path(TEST_DATA).glob("0*.yaml"):
        (cases / case.name).write_text(case.read_text())
    result = orchestra(
        "run", str(cases), "--project", "remote-data", "--base-url", demo_sut,
        "--openapi", f"{demo_sut}/openapi.json",
        "--secret", "username=demo", "--secret", "password=demo-password",
        data_dir=orchestra_up.data_dir, ORCHESTRA_SERVER=orchestra_up.url,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 tests: 2 passed" in result.stdout
    api, headers = f"{orchestra_up.url}/api/v1/projects/remote-data", local_admin(orchestra_up.data_dir)
    (environment,) = httpx.get(f"{api}/environments", headers=headers).json()["items"]
    assert environment["secret_names"] == ["password", "username"]
    spec = httpx.get(f"{api}/environments/{environment['name']}/openapi", headers=headers).json()
    assert (spec["source"], spec["operation_count"]) == (f"{demo_sut}/openapi.json", 33)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--openapi", "missing.json"], "--openapi: no such file: missing.json"),
        (["--openapi", "empty.json"], "--openapi: empty.json is empty"),
        (["--openapi", "list.yaml"], "must be an object"),
        (["--openapi", "swagger2.json"], "--openapi: swagger2.json:"),
        (["--openapi", "latin1.yaml"], "cannot read latin1.yaml"),
        (["--secret", "1bad=x"], "--secret expects NAME or NAME=VALUE"),
        (["--secret", "UNSET_SECRET_FOR_TEST"], "the environment variable UNSET_SECRET_FOR_TEST is not set"),
        (["--secret", "big=" + "x" * 10_001], "at most 10000 characters"),
    ],
)
def test_bad_openapi_and_secret_options_exit_two_before_anything_is_stored(
    tmp_path: Path, demo_sut: str, extra: list[str], said: str
) -> None:
    (tmp_path / "empty.json").write_text("  \n")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    (tmp_path / "swagger2.json").write_text('{"swagger": "2.0", "paths": {}, "schemes": ["ftp"]}')
    (tmp_path / "latin1.yaml").write_bytes("openapi: 3.0.0\ninfo: {title: caf\xe9}\n".encode("latin-1"))
    result = subprocess.run(
        [*ORCHESTRA, "run", TEST_DATA, "--base-url", demo_sut, *extra],
        cwd=tmp_path, env=cli_env(tmp_path / "d"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in " ".join(result.stderr.split())
    applied = orchestra("apply", TEST_DATA, data_dir=tmp_path / "d")
    assert "created" in applied.stdout  # the refused run stored nothing


def test_passing_selection_exits_zero(tmp_path: Path, demo_sut: str) -> None:
    result = orchestra(
        "run", f"{EXAMPLES}/01-health.yaml", f"{EXAMPLES}/07-flaky-retry.yaml", "--project", "examples",
        "--base-url", demo_sut, data_dir=tmp_path / "d",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 tests: 2 passed" in result.stdout


def test_invalid_definition_exits_two_with_its_place(tmp_path: Path, demo_sut: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nsteps:\n  - request:\n      method: GET\n      urll: /x\n")
    result = orchestra("run", str(bad), "--base-url", demo_sut, data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert f"{bad}:5:7" in result.stderr
    assert "unknown key 'urll'" in result.stderr
    # Each problem on one line, as written: a long path is not wrapped, a key like rich markup is text.
    deep = tmp_path / ("x" * 150) / "bad.yaml"
    deep.parent.mkdir()
    deep.write_text("name: broken\n'[bold]key': 1\nsteps: [{sleep: 1}]\n")
    result = orchestra("run", str(deep), "--base-url", demo_sut, data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert f"  {deep}:2:1: unknown key '[bold]key'" in result.stderr.splitlines()[1]


def test_unreachable_sut_and_bad_arguments_exit_two(tmp_path: Path) -> None:
    nowhere = refused_url()
    result = orchestra("run", EXAMPLES, "--base-url", nowhere, data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert f"cannot reach the system under test at {nowhere}" in result.stderr
    result = orchestra(
        "run", EXAMPLES, "--base-url", "http://x", "--var", "no-equals", data_dir=tmp_path / "d"
    )
    assert result.returncode == 2
    assert "--var expects KEY=VALUE" in result.stderr
    result = orchestra("run", str(tmp_path / "missing"), "--base-url", "http://x", data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    result = orchestra("run", EXAMPLES, "--server", nowhere, "--env", "demo", data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "cannot reach the Orchestra server" in result.stderr
    result = orchestra("run", EXAMPLES, "--env", "nope", data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    applied = orchestra(
        "apply", f"{EXAMPLES}/01-health.yaml", "--project", "examples", data_dir=tmp_path / "d"
    )
    assert "test case health: created" in applied.stdout  # the refused run stored nothing


def test_apply_is_idempotent_and_migrate_reports_head(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    first = orchestra("apply", EXAMPLES, data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert "test case health: created (version 1)" in first.stdout
    assert "suite demo: created" in first.stdout
    second = orchestra("apply", EXAMPLES, data_dir=data_dir)
    assert second.returncode == 0, second.stderr
    assert "created" not in second.stdout
    assert second.stdout.count(": unchanged") == 16
    migrated = orchestra("migrate", data_dir=data_dir)
    assert migrated.returncode == 0
    embedded = data_dir.resolve() / "pg"
    said = f"database at revision {head_revision()}: the embedded database under {embedded}"
    assert said in migrated.stdout


def test_a_later_up_shows_embedded_results_and_restarts_on_existing_data(
    tmp_path: Path, demo_sut: str
) -> None:
    data_dir = tmp_path / "d"
    ran = orchestra("run", f"{EXAMPLES}/01-health.yaml", "--base-url", demo_sut, data_dir=data_dir)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    for start in range(2):  # the second start finds the data directory and migrations already there
        server = start_up(data_dir, tmp_path / f"up-{start}.log", "--no-demo", timeout_s=60)
        try:
            url = f"{server.url}/api/v1"
            runs = httpx.get(f"{url}/runs", params={"status": "PASSED"}, headers=local_admin(data_dir)).json()
            assert runs["total"] == 1
            assert runs["items"][0]["name"] == "health"
        finally:
            server.process.send_signal(signal.SIGINT)
            returncode = server.stop()
        assert returncode == 0, server.log.read_text()
        assert "Orchestra stopped." in server.log.read_text()


def test_run_with_templated_variables_conditions_and_loops(tmp_path: Path, demo_sut: str) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(
        "name: flow\n"
        "variables:\n  kind: health\n  path: '/{{ kind }}'\n  tries: [1, 2]\n"
        "steps:\n"
        "  - name: each\n    for_each: '{{ tries }}'\n    request: { url: '{{ path }}?try={{ item }}' }\n"
        "    expect: { status: 200 }\n"
        "  - name: again\n    repeat: 2\n    as: n\n    if: '{{ n == 2 }}'\n    request: { url: /health }\n"
        "  - name: never\n    if: '{{ kind == \"other\" }}'\n    request: { url: /nowhere }\n"
        "    expect: { status: 200 }\n"
    )
    report = tmp_path / "flow.json"
    result = orchestra(
        "run", str(flow), "--base-url", demo_sut, "--json", str(report), data_dir=tmp_path / "d"
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 tests: 1 passed" in result.stdout
    # each pass of a loop is a step record: 2 of each, 1 of again (the other skipped), never skipped
    assert json.loads(report.read_text())["runs"][0]["status_reason"] == "all 3 steps passed, 2 skipped"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - repeat: 5000\n    request: { url: /health }\n")
    result = orchestra("run", str(bad), "--base-url", demo_sut, data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "repeat is at most 1000" in result.stderr
