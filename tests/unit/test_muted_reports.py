"""A muted failure in every report: JUnit shows it skipped (a CI server does not fail the build on it) with
the mute's reason, the HTML page and the console show it apart, and the CLI's exit code ignores it."""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET

from rich.console import Console

from orchestra.cli.display import print_failures, print_summary
from orchestra.cli.runner import EXIT_FAILED, EXIT_PASSED, verdict
from orchestra.models.run_states import RunStatus
from orchestra.quarantine.service import is_muted_failure
from orchestra.runs.html_report import html_report
from orchestra.runs.reports import json_report, suite_run_junit
from orchestra.runs.schemas import RunMute, RunOut, SuiteRunOut
from tests.unit.test_step_reports import _run, _step, _suite_run

REASON = "flaky since the payment sandbox moved (PAY-12)"


def _muted(run: RunOut) -> RunOut:
    return run.model_copy(
        update={
            "mute": RunMute(id=uuid.uuid4(), reason=REASON),
            "muted": is_muted_failure(run.status, uuid.uuid4()),
        }
    )


def _results() -> list[SuiteRunOut]:
    failing = _step(
        0, "pay", "failed", [{"check": "status", "passed": False, "expected": 200, "actual": 503}]
    )
    red = _muted(_run("red", RunStatus.FAILED, [failing], "1 check failed"))
    green = _run("green", RunStatus.PASSED, [_step(0, "get", "passed", [])])
    suite_run = _suite_run([red, green]).model_copy(
        update={"status": RunStatus.PASSED, "counts": {"FAILED": 1, "PASSED": 1}, "muted": 1}
    )
    return [suite_run]


def test_only_a_failure_is_muted() -> None:
    mute = uuid.uuid4()
    assert [is_muted_failure(status, mute) for status in RunStatus] == [
        status in (RunStatus.FAILED, RunStatus.ERROR, RunStatus.TIMED_OUT) for status in RunStatus
    ]
    assert not is_muted_failure(RunStatus.FAILED, None)


def test_junit_shows_a_muted_failure_as_skipped_with_the_reason() -> None:
    for per_step in (False, True):
        root = ET.fromstring(suite_run_junit(_results()[0], "shop", per_step=per_step))
        suite = root.find("testsuite")
        assert suite is not None
        assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "1")
        skipped = root.find(".//testcase/skipped")
        assert skipped is not None
        assert REASON in (skipped.get("message") or "")
        assert "FAILED" in (skipped.get("message") or "") or "failed" in (skipped.get("message") or "")


def test_an_unmuted_failure_still_fails_junit_and_the_exit_code() -> None:
    failing = _step(
        0, "pay", "failed", [{"check": "status", "passed": False, "expected": 200, "actual": 503}]
    )
    red = _run("red", RunStatus.FAILED, [failing], "1 check failed")
    root = ET.fromstring(suite_run_junit(_suite_run([red]), "shop"))
    assert root.get("failures") == "1"
    assert verdict([_suite_run([red])]) == EXIT_FAILED


def test_the_exit_code_ignores_a_muted_failure() -> None:
    assert verdict(_results()) == EXIT_PASSED


def test_json_report_carries_the_mute() -> None:
    report = json_report(_results()[0])
    red = next(run for run in report["runs"] if run["name"] == "red")
    assert (red["muted"], red["mute"]["reason"], report["muted"]) == (True, REASON, 1)


def test_html_report_shows_the_muted_test_apart() -> None:
    page = html_report(_results()).decode()
    assert 'data-verdict="muted"' in page
    assert f"Muted: {REASON}" in page
    assert '<span class="verdict muted">MUTED</span></td><td>1</td>' in page  # the summary counts it apart


def test_console_marks_the_muted_test() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    print_summary(console, _results())
    print_failures(console, _results())
    text = out.getvalue()
    assert "FAILED (muted)" in text
    assert "(1 muted)" in text
    assert "red (muted)" in text
