"""A test that passed on retry in every report: JUnit shows the retry as the test, passed, with the first
run's failure as Maven Surefire's ``flakyFailure`` (``rerunFailure`` when the retry failed too); the HTML page
and the console show it flaky; the CLI's exit code follows the retry, never the retried run."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from rich.console import Console

from orchestra.cli.display import print_failures, print_summary
from orchestra.cli.runner import EXIT_FAILED, EXIT_PASSED, verdict
from orchestra.models.run_states import RunStatus
from orchestra.runs.html_report import html_report
from orchestra.runs.reports import json_report, suite_run_junit
from orchestra.runs.schemas import RunOut, SuiteRunOut
from tests.unit.test_step_reports import _run, _step, _suite_run

FAILED_CHECK = {"check": "status", "passed": False, "expected": 200, "actual": 503}


def _retried(retry_status: RunStatus) -> list[RunOut]:
    first = _run("wobbly", RunStatus.FAILED, [_step(0, "call", "failed", [FAILED_CHECK])], "1 check failed")
    steps = [_step(0, "call", "passed" if retry_status == RunStatus.PASSED else "failed", [])]
    retry = _run("wobbly", retry_status, steps, None if retry_status == RunStatus.PASSED else "again")
    retry = retry.model_copy(
        update={"retry_of": first.id, "retry_failed": 1, "flaky": retry_status == RunStatus.PASSED}
    )
    return [first.model_copy(update={"retried_by": retry.id, "retry_failed": 1}), retry]


def _results(retry_status: RunStatus = RunStatus.PASSED) -> list[SuiteRunOut]:
    green = _run("green", RunStatus.PASSED, [_step(0, "get", "passed", [])])
    passed = retry_status == RunStatus.PASSED
    suite_run = _suite_run([green, *_retried(retry_status)]).model_copy(
        update={
            "status": retry_status if not passed else RunStatus.PASSED,
            "counts": {"PASSED": 2} if passed else {"PASSED": 1, retry_status.value: 1},
            "flaky": int(passed),
            "total": 2,
        }
    )
    return [suite_run]


def test_junit_shows_the_retry_as_the_test_with_its_first_failure_as_flaky() -> None:
    for per_step in (False, True):
        root = ET.fromstring(suite_run_junit(_results()[0], "shop", per_step=per_step))
        suite = root.find("testsuite")
        assert suite is not None
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")
    root = ET.fromstring(suite_run_junit(_results()[0], "shop"))
    wobbly = [case for case in root.iter("testcase") if case.get("name") == "wobbly"]
    assert len(wobbly) == 1
    flaky = wobbly[0].find("flakyFailure")
    assert flaky is not None
    assert flaky.get("message") == "1 check failed"
    assert "expected 200, got 503" in (flaky.findtext("system-out") or "")
    assert wobbly[0].find("failure") is None


def test_junit_shows_a_retry_that_failed_again_as_a_failure_with_its_rerun() -> None:
    root = ET.fromstring(suite_run_junit(_results(RunStatus.FAILED)[0], "shop"))
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    wobbly = next(case for case in root.iter("testcase") if case.get("name") == "wobbly")
    assert (wobbly.find("failure") is not None, wobbly.find("rerunFailure") is not None) == (True, True)
    assert wobbly.find("flakyFailure") is None


def test_the_exit_code_follows_the_retry() -> None:
    assert verdict(_results()) == EXIT_PASSED
    assert verdict(_results(RunStatus.FAILED)) == EXIT_FAILED
    assert verdict(_results(RunStatus.ERROR)) == EXIT_FAILED


def test_json_report_links_the_runs() -> None:
    report = json_report(_results()[0])
    first, retry = (run for run in report["runs"] if run["name"] == "wobbly")
    assert (first["retried_by"], retry["retry_of"], retry["flaky"], report["flaky"]) == (
        retry["id"],
        first["id"],
        True,
        1,
    )


def test_html_report_shows_the_flaky_test_and_counts_it_once() -> None:
    page = html_report(_results()).decode()
    assert 'data-verdict="retried"' in page
    assert "Flaky: passed on retry" in page
    assert '<span class="verdict flaky">FLAKY</span></td><td>1</td>' in page
    assert "<th>Total</th><th>2</th>" in page


def test_console_marks_the_flaky_test_and_lists_no_failure() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    print_summary(console, _results())
    print_failures(console, _results())
    text = out.getvalue()
    assert "PASSED (flaky)" in text
    assert "2 tests: 2 passed (1 flaky: passed on retry)" in text
    assert "Failed steps" not in text
    assert text.count("wobbly") == 1
