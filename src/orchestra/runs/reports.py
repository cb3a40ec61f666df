"""Reports of a finished (or running) run: JUnit XML that CI systems read, and the full result as JSON."""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from orchestra.models.run_states import RunStatus
from orchestra.runs.schemas import RunOut, StepResultOut, SuiteRunOut

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET  # imported when a JUnit report is made (``junit_xml``)

# XML 1.0 cannot carry most control characters; a SUT's binary response must not break the report.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _child(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    """``ET.SubElement``, through the parent: a command that makes no JUnit report loads no XML library."""
    child = parent.makeelement(tag, attributes)
    parent.append(child)
    return child


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0) / 1000:.3f}"


def check_verdict(check: dict[str, Any]) -> str:
    """``passed``, ``failed`` or ``skipped``: what a recorded check came to."""
    if check.get("skipped") is True or "skipped" in (check.get("outcome"), check.get("status")):
        return "skipped"
    return "passed" if check.get("passed", True) else "failed"


def skipped_checks(step: StepResultOut) -> list[dict[str, Any]]:
    """The checks of a step that were not evaluated (each with its ``reason``)."""
    return [check for check in step.assertions if check_verdict(check) == "skipped"]


def check_text(check: dict[str, Any]) -> str:
    """A check on one line: its name (when it has one) and its message, else what was expected and found."""
    message = check.get("message") or (
        f"{check.get('check', 'check')}: expected {check.get('expected')!r}, got {check.get('actual')!r}"
    )
    named = check.get("name") and not str(message).startswith(f"[{check['name']}]")  # the message names it
    return f"{check['name']}: {message}" if named else str(message)


def muted_message(run: RunOut) -> str:
    """How a muted failure is named in reports: its verdict, the mute's reason and the run's own."""
    reason = run.mute.reason if run.mute else ""
    own = f": {run.status_reason}" if run.status_reason else ""
    return f"muted ({reason}) {run.status.value}{own}"


def step_lines(steps: Sequence[StepResultOut]) -> list[str]:
    """A readable account of the steps: one line each, then the failed and skipped checks (a named check
    under its name) and errors under it."""
    lines: list[str] = []
    for step in steps:
        attempts = f", {step.attempts} attempts" if step.attempts > 1 else ""
        lines.append(f"[{step.status}] {step.phase}/{step.name} ({step.duration_ms:.0f} ms{attempts})")
        if step.response is not None:
            lines.append(f"    -> HTTP {step.response.get('status')} in {step.response.get('elapsed_ms')} ms")
        for assertion in step.assertions:
            verdict = check_verdict(assertion)
            if verdict != "passed":
                lines.append(f"    {verdict.upper()} {check_text(assertion)}")
        if step.status == "skipped":
            lines.append(f"    SKIPPED {step.skipped_reason}")
        elif step.error:
            lines.append(f"    ERROR {step.error}")
    return lines


def _first_attempt(case: ET.Element, run: RunOut, first: RunOut | None) -> None:
    """A retry's first run as Maven Surefire writes a re-run test: ``flakyFailure`` when the retry passed,
    ``rerunFailure`` when it did not (CI servers that read them show the test as flaky)."""
    if run.retry_of is None:
        return
    element = "flakyFailure" if run.status == RunStatus.PASSED else "rerunFailure"
    reason = (first.status_reason if first else None) or f"run {run.retry_of} failed"
    failure = _child(case, element, message=_clean(reason), type="AssertionFailed")
    if first is not None and first.steps:
        _child(failure, "system-out").text = _clean("\n".join(step_lines(first.steps)))


def _testcase(parent: ET.Element, run: RunOut, classname: str, first: RunOut | None = None) -> dict[str, int]:
    """``first``: the run ``run`` retries, when it is one (and known)."""
    case = _child(
        parent, "testcase", name=_clean(run.name), classname=_clean(classname), time=_seconds(run.duration_ms)
    )
    message = _clean(run.status_reason or run.status.value)
    details = _clean("\n".join(step_lines(run.steps or [])))
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    if run.muted:  # recorded, not counted against the build: a CI server shows it as skipped
        _child(case, "skipped", message=_clean(muted_message(run)))
        counts["skipped"] = 1
    elif run.status == RunStatus.FAILED:
        _child(case, "failure", message=message, type="AssertionFailed").text = details
        counts["failures"] = 1
    elif run.status in (RunStatus.ERROR, RunStatus.TIMED_OUT):
        _child(case, "error", message=message, type=run.status.value).text = details
        counts["errors"] = 1
    elif run.status != RunStatus.PASSED:
        _child(case, "skipped", message=message)
        counts["skipped"] = 1
    _first_attempt(case, run, first)
    if details:
        _child(case, "system-out").text = details
    return counts


def _step_testcase(parent: ET.Element, run: RunOut, step: StepResultOut, classname: str) -> dict[str, int]:
    """One step as a <testcase>: its failed checks as the failure's message and text."""
    case = _child(
        parent,
        "testcase",
        name=_clean(f"{step.phase}/{step.seq}: {step.name}"),
        classname=_clean(f"{classname}.{run.name}"),
        time=_seconds(step.duration_ms),
    )
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    details = _clean("\n".join(step_lines([step])))
    failed = [check_text(check) for check in step.assertions if check_verdict(check) == "failed"]
    if run.muted and step.status in ("failed", "error"):
        _child(case, "skipped", message=_clean(f"{step.status} — {muted_message(run)}"))
        counts["skipped"] = 1
    elif step.status == "failed":
        message = _clean(
            failed[0] if len(failed) == 1 else f"{len(failed)} checks failed" if failed else "failed"
        )
        _child(case, "failure", message=message, type="AssertionFailed").text = details
        counts["failures"] = 1
    elif step.status == "error":
        _child(case, "error", message=_clean(step.error or "error"), type="ERROR").text = details
        counts["errors"] = 1
    elif step.status == "skipped":
        _child(case, "skipped", message=_clean(step.skipped_reason or "skipped"))
        counts["skipped"] = 1
    _child(case, "system-out").text = details
    return counts


def _run_testcases(
    parent: ET.Element, run: RunOut, classname: str, per_step: bool, first: RunOut | None = None
) -> tuple[int, dict[str, int]]:
    """The <testcase> elements of a run (one, or one per step) and their count; a run that did not pass
    without a step to show it keeps one <testcase> of its own. Per step, a retry shows its own steps."""
    steps = run.steps or []
    if not per_step or not steps:
        return 1, _testcase(parent, run, classname, first)
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for step in steps:
        for key, count in _step_testcase(parent, run, step, classname).items():
            totals[key] += count
    cases = len(steps)
    if run.status != RunStatus.PASSED and not any(totals.values()):
        cases += 1
        for key, count in _testcase(parent, run, classname).items():
            totals[key] += count
    return cases, totals


def junit_xml(
    name: str,
    runs: Sequence[RunOut],
    classname: str,
    properties: dict[str, str],
    *,
    per_step: bool = False,
) -> bytes:
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="orchestra")
    suite = _child(root, "testsuite", name=_clean(name), hostname=socket.gethostname())
    props = _child(suite, "properties")
    for key, text in properties.items():
        _child(props, "property", name=key, value=_clean(text))
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    tests = 0
    by_id = {run.id: run for run in runs}
    # A run that was retried is its retry's first attempt, not a test of its own (when its retry is here).
    for run in [run for run in runs if run.retried_by is None or run.retried_by not in by_id]:
        first = by_id.get(run.retry_of) if run.retry_of else None
        cases, counts = _run_testcases(suite, run, classname, per_step, first)
        tests += cases
        for key, count in counts.items():
            totals[key] += count
    started = min((run.started_at for run in runs if run.started_at), default=None)
    total_ms = sum(run.duration_ms or 0 for run in runs)
    for element in (root, suite):
        element.set("tests", str(tests))
        element.set("time", _seconds(total_ms))
        for key, total in totals.items():
            element.set(key, str(total))
    if started is not None:
        suite.set("timestamp", started.replace(tzinfo=None).isoformat(timespec="seconds"))
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def suite_run_junit(suite_run: SuiteRunOut, project: str, *, per_step: bool = False) -> bytes:
    """``per_step``: one <testcase> per step (the runs need their steps)."""
    return junit_xml(
        suite_run.name,
        suite_run.runs,
        f"{project}.{suite_run.name}",
        {
            "suite_run_id": str(suite_run.id),
            "environment": suite_run.environment,
            "status": suite_run.status.value,
        },
        per_step=per_step,
    )


def run_junit(run: RunOut, project: str) -> bytes:
    return junit_xml(
        run.name,
        [run],
        project,
        {"run_id": str(run.id), "environment": run.environment, "status": run.status.value},
    )


def json_report(result: SuiteRunOut | RunOut) -> dict[str, Any]:
    return {
        "kind": "suite_run" if isinstance(result, SuiteRunOut) else "run",
        **result.model_dump(mode="json"),
    }
