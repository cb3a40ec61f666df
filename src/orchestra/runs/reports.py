"""Reports of a finished (or running) run: JUnit XML that CI systems read, and the full result as JSON."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from orchestra.models.run_states import RunStatus
from orchestra.runs.schemas import RunOut, StepResultOut, SuiteRunOut

# XML 1.0 cannot carry most control characters; a SUT's binary response must not break the report.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0) / 1000:.3f}"


def step_lines(steps: Sequence[StepResultOut]) -> list[str]:
    """A readable account of the steps: one line each, then the failed checks and errors under it."""
    lines: list[str] = []
    for step in steps:
        attempts = f", {step.attempts} attempts" if step.attempts > 1 else ""
        lines.append(f"[{step.status}] {step.phase}/{step.name} ({step.duration_ms:.0f} ms{attempts})")
        if step.response is not None:
            lines.append(f"    -> HTTP {step.response.get('status')} in {step.response.get('elapsed_ms')} ms")
        for assertion in step.assertions:
            if not assertion.get("passed", True):
                lines.append(f"    FAILED {assertion.get('message')}")
        if step.error:
            lines.append(f"    ERROR {step.error}")
    return lines


def _testcase(parent: ET.Element, run: RunOut, classname: str) -> dict[str, int]:
    case = ET.SubElement(
        parent, "testcase", name=_clean(run.name), classname=_clean(classname), time=_seconds(run.duration_ms)
    )
    message = _clean(run.status_reason or run.status.value)
    details = _clean("\n".join(step_lines(run.steps or [])))
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    if run.status == RunStatus.FAILED:
        ET.SubElement(case, "failure", message=message, type="AssertionFailed").text = details
        counts["failures"] = 1
    elif run.status in (RunStatus.ERROR, RunStatus.TIMED_OUT):
        ET.SubElement(case, "error", message=message, type=run.status.value).text = details
        counts["errors"] = 1
    elif run.status != RunStatus.PASSED:
        ET.SubElement(case, "skipped", message=message)
        counts["skipped"] = 1
    if details:
        ET.SubElement(case, "system-out").text = details
    return counts


def junit_xml(name: str, runs: Sequence[RunOut], classname: str, properties: dict[str, str]) -> bytes:
    root = ET.Element("testsuites", name="orchestra")
    suite = ET.SubElement(root, "testsuite", name=_clean(name), hostname=socket.gethostname())
    props = ET.SubElement(suite, "properties")
    for key, text in properties.items():
        ET.SubElement(props, "property", name=key, value=_clean(text))
    totals = {"failures": 0, "errors": 0, "skipped": 0}
    for run in runs:
        for key, count in _testcase(suite, run, classname).items():
            totals[key] += count
    started = min((run.started_at for run in runs if run.started_at), default=None)
    total_ms = sum(run.duration_ms or 0 for run in runs)
    for element in (root, suite):
        element.set("tests", str(len(runs)))
        element.set("time", _seconds(total_ms))
        for key, total in totals.items():
            element.set(key, str(total))
    if started is not None:
        suite.set("timestamp", started.replace(tzinfo=None).isoformat(timespec="seconds"))
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def suite_run_junit(suite_run: SuiteRunOut, project: str) -> bytes:
    return junit_xml(
        suite_run.name,
        suite_run.runs,
        f"{project}.{suite_run.name}",
        {
            "suite_run_id": str(suite_run.id),
            "environment": suite_run.environment,
            "status": suite_run.status.value,
        },
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
