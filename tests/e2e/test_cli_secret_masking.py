"""End to end: `orchestra run`, a real process, with secrets full of special characters given by --secret,
against the real demo SUT: its console output, its engine's log lines (debug, JSON) and the JUnit and JSON
files it writes hold none of them, in any form the templates, httpx or the SUT made of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import orchestra
from tests.integration.test_secret_encodings import ENCODINGS, HOSTS, SECRETS, assert_clean

pytestmark = pytest.mark.e2e


def test_run_keeps_secrets_out_of_its_output_logs_and_reports(demo_sut: str, tmp_path: Path) -> None:
    cases = tmp_path / "masked"
    cases.mkdir()
    for number, case in enumerate((ENCODINGS, HOSTS)):
        (cases / f"{number}.yaml").write_text(json.dumps(case))  # JSON is YAML
    junit, report = tmp_path / "junit.xml", tmp_path / "result.json"
    result = orchestra(
        "run", str(cases), "--base-url", demo_sut, "--junit", str(junit), "--json", str(report), "--verbose",
        *(option for name, value in SECRETS.items() for option in ("--secret", f"{name}={value}")),
        data_dir=tmp_path / "data", ORCHESTRA_LOG_LEVEL="debug", ORCHESTRA_LOG_JSON="true",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # a failed and an errored test
    assert "2 tests: 1 failed, 1 error" in result.stdout, result.stdout
    assert "run.finished" in result.stderr  # the engine's log lines are there, at debug level
    assert "********" in junit.read_text()
    assert json.loads(report.read_text())["kind"] == "suite_run"
    for where, artefact in (
        ("console output", result.stdout),
        ("log lines", result.stderr),
        ("JUnit file", junit.read_text()),
        ("JSON file", report.read_text()),
    ):
        assert_clean(where, artefact)
