"""End to end: `orchestra run` against the real demo SUT, with `on_failure: continue` and the status gate.
A refused request fails its status check, its body checks are reported skipped with the reason, the steps
after it still run and report, and the verdict is FAILED (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import orchestra

pytestmark = pytest.mark.e2e

DEFINITION = """
name: keep going
on_failure: continue
steps:
  - name: items without a token
    request: {url: /items}
    expect:
      status: 200
      json:
        - {path: $.items, type: array, name: a list of items}
        - {path: $.items, length: {gte: 0}}
  - name: still healthy
    request: {url: /health}
    expect:
      status: 200
      json:
        - {path: $.status, equals: ok, name: says ok}
        - {path: $.status, length: 2}
  - name: no gate here
    status_gates: false
    on_failure: stop
    request: {url: /items}
    expect: {status: 200, json: {$.detail: missing bearer token}}
  - name: never sent
    request: {url: /health}
"""


def test_a_failed_check_does_not_hide_the_next_steps_and_the_status_gates_the_body(
    demo_sut: str, tmp_path: Path
) -> None:
    case = tmp_path / "cases" / "keep-going.yaml"
    case.parent.mkdir()
    case.write_text(DEFINITION)
    report = tmp_path / "result.json"
    result = orchestra(
        "run", str(case), "--base-url", demo_sut, "--json", str(report), data_dir=tmp_path / "data"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    (run,) = json.loads(report.read_text())["runs"]
    assert run["status"] == "FAILED"
    assert run["status_reason"].startswith("step 'items without a token': status: expected 200, got 401"), (
        run["reason"]
    )
    steps = {step["name"]: step for step in run["steps"]}
    assert [step["name"] for step in run["steps"]] == [
        "items without a token",
        "still healthy",
        "no gate here",
        "never sent",
    ]
    assert steps["never sent"]["status"] == "skipped"  # the step that stops did stop the rest
    assert steps["never sent"]["response"] is None

    gated = steps["items without a token"]["assertions"]
    assert [(check["outcome"], check.get("reason")) for check in gated] == [
        ("failed", None),
        ("skipped", "status check failed"),
        ("skipped", "status check failed"),
    ]
    assert gated[1]["name"] == "a list of items"

    healthy = steps["still healthy"]
    assert healthy["status"] == "passed"
    assert [check.get("name") for check in healthy["assertions"]] == [None, "says ok", None]
    assert all(check["outcome"] == "passed" for check in healthy["assertions"])

    ungated = steps["no gate here"]["assertions"]
    assert [check["outcome"] for check in ungated] == ["failed", "passed"]  # the body was checked anyway
