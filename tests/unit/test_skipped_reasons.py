"""SKIPPED with its reason wherever a result is shown: the JSON result (a step's ``skipped_reason``, a check's
``reason``), JUnit (``<skipped message=…>``), the console's table of what was skipped, the HTML report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import html5lib
from rich.console import Console

from orchestra.cli.display import print_skipped, skipped_table
from orchestra.models.run_states import RunStatus
from orchestra.runs.html_report import html_report
from orchestra.runs.reports import json_report, run_junit, suite_run_junit
from orchestra.runs.schemas import SuiteRunOut
from tests.unit.test_step_reports import PASSED_CHECK, _run, _step, _suite_run

GATED = {
    "check": "json $.id",
    "passed": False,
    "outcome": "skipped",
    "reason": "status check failed",
    "message": "$.id: skipped (status check failed)",
}
CONDITIONED = {
    "check": "json $.role",
    "name": "admin role",
    "passed": False,
    "outcome": "skipped",
    "reason": "if {{ admin }}: false",
    "message": "[admin role] $.role: skipped (if {{ admin }}: false)",
}
CONDITION = "if {{ role == 'admin' }}: false"
STOPPED = "the run stopped: step 'log in': status: expected 200, got 500"


def _results() -> SuiteRunOut:
    return _suite_run(
        [
            _run(
                "admin pages",
                RunStatus.PASSED,
                [
                    _step(1, "who am I", "passed", [PASSED_CHECK, CONDITIONED]),
                    _step(2, "admin stats", "skipped", [], error=CONDITION),
                ],
            ),
            _run(
                "orders",
                RunStatus.FAILED,
                [
                    _step(1, "log in", "failed", [{**PASSED_CHECK, "passed": False}, GATED]),
                    _step(2, "list", "skipped", [], error=STOPPED),
                    _step(3, "read", "skipped", [], error=STOPPED),
                ],
                reason="step 'log in': status: expected 200, got 500",
            ),
        ]
    )


def test_the_json_result_gives_every_skipped_step_its_reason() -> None:
    report = json.loads(json.dumps(json_report(_results())))
    admin, orders = report["runs"]
    assert [step["skipped_reason"] for step in admin["steps"]] == [None, CONDITION]
    assert admin["steps"][0]["assertions"][1]["reason"] == "if {{ admin }}: false"
    assert [step["skipped_reason"] for step in orders["steps"]] == [None, STOPPED, STOPPED]
    legacy = _step(4, "old", "skipped", [])  # stored before reasons were
    assert legacy.skipped_reason == "not run"


def test_junit_per_step_says_why_a_step_was_skipped() -> None:
    root = ET.fromstring(suite_run_junit(_results(), "shop", per_step=True))
    skipped = {
        case.get("name"): element.get("message")
        for case in root.iter("testcase")
        if (element := case.find("skipped")) is not None
    }
    assert skipped == {"main/2: admin stats": CONDITION, "main/2: list": STOPPED, "main/3: read": STOPPED}
    passed = root.find(".//testcase[@name='main/1: who am I']")
    assert passed is not None
    assert "SKIPPED [admin role] $.role: skipped (if {{ admin }}: false)" in (
        passed.findtext("system-out") or ""
    )


def test_junit_per_test_lists_skipped_steps_and_checks_with_their_reasons() -> None:
    run = _results().runs[0]
    case = ET.fromstring(run_junit(run, "shop")).find(".//testcase")
    assert case is not None
    out = case.findtext("system-out") or ""
    assert f"SKIPPED {CONDITION}" in out
    assert "SKIPPED [admin role]" in out


def test_the_console_table_lists_what_was_skipped_and_why() -> None:
    console = Console(width=250, record=True, color_system=None)
    print_skipped(console, [_results()])
    text = console.export_text()
    assert "Skipped" in text
    rows = [line for line in text.splitlines() if "│" in line]
    assert any("admin stats" in row and CONDITION in row for row in rows)
    assert any("admin role" in row and "if {{ admin }}: false" in row for row in rows)
    assert any("json $.id" in row and "status check failed" in row for row in rows)
    assert any("2 steps after it" in row and "the run stopped" in row for row in rows)  # one row per run
    nothing = _suite_run([_run("ok", RunStatus.PASSED, [_step(1, "s", "passed", [PASSED_CHECK])])])
    assert skipped_table([nothing]) is None


def test_the_html_report_shows_skipped_steps_and_checks_with_their_reasons() -> None:
    page = html_report([_results()])
    document = html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)
    text = " ".join(" ".join(element.itertext()) for element in document.iter("details"))
    assert f"skipped: {CONDITION}" in text
    assert f"skipped: {STOPPED}" in text
    checks = [" ".join(item.itertext()) for item in document.iter("li")]
    assert any(item.startswith("SKIPPED") and "if {{ admin }}: false" in item for item in checks)
    assert any(item.startswith("SKIPPED") and "status check failed" in item for item in checks)
