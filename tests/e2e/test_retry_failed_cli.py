"""End to end: `orchestra run --retry-failed` against the real demo SUT's `/flaky` endpoint. A test that
fails once passes on its retry: exit 0, shown flaky in the console, JUnit (Surefire's flakyFailure), JSON and
HTML; without the retry the same test fails the command; a test that keeps failing fails it with a retry."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.conftest import orchestra

pytestmark = pytest.mark.e2e


def flaky_test(folder: Path, fail_times: int) -> Path:
    """A test case whose call fails its first ``fail_times`` times (its own key on the demo SUT)."""
    folder.mkdir(parents=True)
    (folder / "wobbly.yaml").write_text(
        "name: wobbly\n"
        "steps:\n"
        "  - name: call the flaky endpoint\n"
        "    request:\n"
        '      url: "{{ env.base_url }}/flaky"\n'
        f"      query: {{key: wobbly-{uuid.uuid4().hex}, fail_times: {fail_times}}}\n"
        "    expect: {status: 200}\n"
    )
    return folder


def test_a_test_that_passes_on_retry_passes_the_command_and_every_report_says_flaky(
    tmp_path: Path, demo_sut: str
) -> None:
    tests = flaky_test(tmp_path / "tests", 1)
    junit, report, page = tmp_path / "junit.xml", tmp_path / "report.json", tmp_path / "report.html"
    result = orchestra(
        "run", str(tests), "--base-url", demo_sut, "--retry-failed",
        "--junit", str(junit), "--json", str(report), "--html", str(page), data_dir=tmp_path / "d",
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "(retrying)" in out
    assert "(flaky: passed on retry)" in out
    assert "1 tests: 1 passed (1 flaky: passed on retry)" in out
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    flaky = root.find("testsuite/testcase/flakyFailure")
    assert flaky is not None
    assert "503" in (flaky.findtext("system-out") or "")
    document = json.loads(report.read_text())
    assert (document["status"], document["flaky"], document["total"]) == ("PASSED", 1, 1)
    first, retry = document["runs"]
    assert (first["status"], first["retried_by"], retry["retry_of"], retry["flaky"]) == (
        "FAILED",
        retry["id"],
        first["id"],
        True,
    )
    html = page.read_text()
    assert "Flaky: passed on retry" in html


def test_without_the_retry_the_same_test_fails_the_command(tmp_path: Path, demo_sut: str) -> None:
    tests = flaky_test(tmp_path / "tests", 1)
    result = orchestra("run", str(tests), "--base-url", demo_sut, data_dir=tmp_path / "d")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "retrying" not in result.stdout


def test_a_test_that_fails_its_retry_too_fails_the_command(tmp_path: Path, demo_sut: str) -> None:
    tests = flaky_test(tmp_path / "tests", 5)
    junit = tmp_path / "junit.xml"
    result = orchestra(
        "run", str(tests), "--base-url", demo_sut, "--retry-failed", "--junit", str(junit),
        data_dir=tmp_path / "d",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 tests: 1 failed" in result.stdout
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None
    assert (case.find("failure") is not None, case.find("rerunFailure") is not None) == (True, True)
