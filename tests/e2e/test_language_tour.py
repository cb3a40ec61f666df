"""End to end: examples/language-tour, the documented tour of the test language, through `orchestra run`
against a real demo SUT process: every test passes, in the suite's order, with the environment's request
defaults from --env-defaults, the suite's setup and teardown, and every report saying what was skipped and
why."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from tests.e2e.conftest import REPO, Server, orchestra

pytestmark = pytest.mark.e2e
TOUR = REPO / "examples" / "language-tour"
ORDER = [
    "written order is kept",
    "named and conditional checks",
    "reuse without copy-paste",
    "flow control",
    "shared login",
    "login per user [user=demo, use_secret=yes]",
    "login per user [user=demo, use_secret=no]",
]


def test_the_language_tour_passes_against_the_demo_sut(tmp_path: Path) -> None:
    sut = DemoProcess.start()  # its own SUT: what it received is this run's
    try:
        out = tmp_path / "out"
        result = orchestra(
            "run", str(TOUR), "--base-url", sut.url, "--secret", "password=demo-password",
            "--env-defaults", str(TOUR / "env-defaults.yaml"),
            "--json", str(out / "result.json"), "--junit", str(out / "junit.xml"), "--junit-per-step",
            "--html", str(out / "report.html"), data_dir=tmp_path / "data",
        )  # fmt: skip
        log = httpx.get(f"{sut.url}/_log").json()["entries"]
    finally:
        sut.stop()
    console = result.stdout
    assert result.returncode == 0, console + result.stderr
    assert "7 tests: 7 passed" in console
    assert "(suite setup)" in console
    assert "(suite teardown)" in console

    report = json.loads((out / "result.json").read_text())
    assert report["setup"]["status"] == "PASSED"
    assert report["teardown"]["status"] == "PASSED"
    runs = sorted(report["runs"], key=lambda run: run["started_at"])
    assert [run["name"] for run in runs] == ORDER  # parallelism 1: the order the suite lists them in
    steps = {run["name"]: run["steps"] for run in runs}
    flow = steps["flow control"]
    assert flow[0]["skipped_reason"] == "if {{ role == 'admin' }}: false"
    assert [step["name"] for step in flow[1:5]] == [
        "one item per size [1]", "one item per size [2]", "ping [1]", "ping [2]",
    ]  # fmt: skip
    checks = steps["named and conditional checks"][0]["assertions"]
    skipped = [check for check in checks if check["outcome"] == "skipped"]
    assert [(check["name"], check["reason"]) for check in skipped] == [
        ("only when strict", "if {{ strict }}: false")
    ]
    assert "demo-password" not in json.dumps(report)  # the secret, masked in every stored step

    # The body reached the SUT with its keys in the written order, byte for byte (the SUT echoed its text).
    sent = steps["written order is kept"][1]
    written = '{"zeta":1,"alpha":"first-second","mid":"ada@example.com"}'
    assert json.loads(sent["response"]["body"])["body"] == written
    assert sum(entry["path"] == "/oauth/token" for entry in log) == 1  # once per run

    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "0"
    assert suite.get("errors") == "0"
    skipped_steps = [case.find("skipped") for case in suite.iter("testcase")]
    messages = {element.get("message") for element in skipped_steps if element is not None}
    assert messages == {"if {{ role == 'admin' }}: false"}
    assert "only when strict" in (out / "report.html").read_text()
    assert "Skipped" in console  # the console's table of what was skipped, and why
    assert "if {{ strict }}: false" in console


def test_orchestra_up_prepares_the_tour_to_run_with_env_demo(orchestra_up: Server, tmp_path: Path) -> None:
    """`orchestra up` stored the tour in its project with an environment 'demo' that has the password
    secret and the tour's request defaults, so a run against the server needs nothing more."""
    result = orchestra(
        "run", str(TOUR), "--env", "demo", data_dir=orchestra_up.data_dir, ORCHESTRA_SERVER=orchestra_up.url,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 tests: 7 passed" in result.stdout
