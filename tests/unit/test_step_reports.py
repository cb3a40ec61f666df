"""Reports as fine as the checks: JUnit with a <testcase> per step, the console's failed steps, the HTML page
(self-contained, everything from the SUT escaped), and SKIPPED as a verdict in each of them."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import html5lib
from rich.console import Console

from orchestra.cli.display import failure_table, print_failures
from orchestra.models.run_states import RunStatus
from orchestra.runs.html_report import html_report
from orchestra.runs.reports import check_verdict, suite_run_junit
from orchestra.runs.schemas import RunOut, StepResultOut, SuiteRunOut

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
HOSTILE = "</script><img src=x onerror=alert(1)><!-- ]]> & \x01"


def _step(seq: int, name: str, status: str, checks: list[dict[str, Any]], **extra: Any) -> StepResultOut:
    return StepResultOut(
        seq=seq,
        phase="main",
        name=name,
        status=status,
        attempts=1,
        request=extra.get("request", {"method": "GET", "url": "http://sut/x", "headers": {}}),
        response=extra.get("response"),
        assertions=checks,
        error=extra.get("error"),
        started_at=NOW,
        duration_ms=12.0,
    )


def _run(name: str, status: RunStatus, steps: list[StepResultOut], reason: str | None = None) -> RunOut:
    ids = {key: uuid.uuid4() for key in ("id", "project_id", "test_case_id", "test_case_version_id")}
    return RunOut(
        **ids,
        name=name,
        suite_run_id=None,
        test_case_version=1,
        environment="demo",
        status=status,
        status_reason=reason,
        priority=100,
        trigger="manual",
        attempt=1,
        lease_owner=None,
        lease_expires_at=None,
        fencing_token=1,
        heartbeat_at=None,
        cancel_requested=False,
        variables={"user": "a"},
        created_at=NOW,
        queued_at=NOW,
        started_at=NOW,
        finished_at=NOW,
        duration_ms=30.0,
        steps=steps,
    )


def _suite_run(runs: list[RunOut]) -> SuiteRunOut:
    return SuiteRunOut(
        id=uuid.uuid4(),
        name="smoke",
        project_id=uuid.uuid4(),
        suite_id=None,
        environment="demo",
        status=RunStatus.FAILED,
        priority=100,
        trigger="manual",
        variables={},
        counts={},
        total=len(runs),
        created_at=NOW,
        started_at=NOW,
        finished_at=NOW,
        duration_ms=60.0,
        runs=runs,
    )


PASSED_CHECK = {"check": "status", "passed": True, "expected": 200, "actual": 200, "message": "status 200"}
FAILED_CHECK = {
    "check": "json $.user",
    "passed": False,
    "expected": "a",
    "actual": HOSTILE,
    "message": f"$.user: expected 'a', got {HOSTILE}",
}
SKIPPED_CHECK = {
    "check": "max_ms",
    "name": "fast enough",
    "passed": True,
    "outcome": "skipped",
    "message": "x",
}


def _results() -> SuiteRunOut:
    hostile_response = {
        "status": 200,
        "reason": "OK",
        "headers": {"x-evil": HOSTILE},
        "body": {"user": HOSTILE},
        "elapsed_ms": 3,
    }
    return _suite_run(
        [
            _run("login [user=a]", RunStatus.PASSED, [_step(1, "log in", "passed", [PASSED_CHECK])]),
            _run(
                f"login [user={HOSTILE}]",
                RunStatus.FAILED,
                [
                    _step(1, "log in", "failed", [PASSED_CHECK, FAILED_CHECK], response=hostile_response),
                    _step(2, "only when admin", "skipped", [SKIPPED_CHECK]),
                ],
                reason="step 'log in' failed",
            ),
            _run("broken", RunStatus.ERROR, [], reason="the SUT closed the connection"),
        ]
    )


def test_a_check_is_passed_failed_or_skipped() -> None:
    assert [check_verdict(check) for check in (PASSED_CHECK, FAILED_CHECK, SKIPPED_CHECK)] == [
        "passed",
        "failed",
        "skipped",
    ]
    assert check_verdict({"passed": True, "status": "skipped"}) == "skipped"


def test_junit_per_step_has_a_testcase_per_step_with_failed_checks_as_failures() -> None:
    root = ET.fromstring(suite_run_junit(_results(), "shop", per_step=True))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "4",
        "1",
        "1",
        "1",
    )
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [
        "main/1: log in",
        "main/1: log in",
        "main/2: only when admin",
        "broken",
    ]
    assert cases[1].get("classname", "").startswith("shop.smoke.login [user=</script>")
    failure = cases[1].find("failure")
    assert failure is not None
    assert "$.user: expected 'a'" in failure.get("message", "")
    assert "\ufffd" in failure.get("message", "")  # the control character, which XML cannot carry
    skipped = cases[2].find("skipped")
    assert skipped is not None
    assert "SKIPPED fast enough: x" in (cases[2].findtext("system-out") or "")
    assert cases[3].find("error") is not None


def test_junit_per_test_stays_the_default() -> None:
    suite = ET.fromstring(suite_run_junit(_results(), "shop")).find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "3"
    assert next(case.get("name") for case in suite.findall("testcase")) == "login [user=a]"


def test_the_console_lists_failed_steps_with_expected_and_actual() -> None:
    console = Console(width=250, record=True, color_system=None)
    print_failures(console, [_results()])
    text = console.export_text()
    assert "Failed steps" in text
    assert "main #1: log in" in text
    assert "$.user: expected 'a'" in text
    assert "</script><img" in text  # shown as text: rich markup in a value does not apply
    assert "the SUT closed the connection" in text
    assert "only when admin" not in text  # a skipped step is not a failure
    passed = _suite_run([_run("ok", RunStatus.PASSED, [_step(1, "s", "passed", [PASSED_CHECK])])])
    assert failure_table([passed]) is None


def _parsed(page: bytes) -> Any:
    return html5lib.parse(page, treebuilder="etree", namespaceHTMLElements=False)


def test_the_html_report_escapes_what_the_sut_sent() -> None:
    page = html_report([_results()])
    text = page.decode()
    assert "<img" not in text
    assert text.count("<script>") == 1  # its own, at the end
    assert text.count("</script>") == 1
    document = _parsed(page)
    assert document.findall(".//img") == []
    assert len(document.findall(".//script")) == 1
    shown = "".join(document.itertext())
    assert HOSTILE.replace("\x01", "") in shown.replace("\x01", "")
    tests = document.findall(".//details[@class='test']")
    assert [test.get("data-verdict") for test in tests] == ["passed", "failed", "error"]
    steps = tests[1].findall(".//details[@class='step']")
    verdicts = [step.find("summary/span").text for step in steps]
    assert verdicts == ["FAILED", "SKIPPED"]
    checks = [item.find("span").text for item in tests[1].findall(".//ul[@class='checks']/li")]
    assert checks == ["PASSED", "FAILED", "SKIPPED"]


def test_the_html_report_loads_nothing_from_elsewhere() -> None:
    document = _parsed(html_report([_results()]))
    for element in document.iter():
        for attribute in ("src", "href", "action", "srcset"):
            assert element.get(attribute) is None, (element.tag, attribute)
    assert document.findall(".//link") == []
    policy = document.find(".//meta[@http-equiv='Content-Security-Policy']")
    assert policy is not None
    assert "default-src 'none'" in policy.get("content", "")
