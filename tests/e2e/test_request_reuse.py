"""End to end: `orchestra run` of a suite with request defaults, header templates, auth helpers and
includes against the real demo SUT; the OAuth2 token is asked for once for all the steps that use it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from tests.e2e.conftest import REPO, orchestra

pytestmark = pytest.mark.e2e
CASES = REPO / "tests" / "fixtures" / "reuse"


def test_defaults_auth_helpers_and_includes_in_a_real_run(tmp_path: Path) -> None:
    sut = DemoProcess.start()  # its own SUT: the token requests it saw are this run's
    try:
        report = tmp_path / "result.json"
        result = orchestra(
            "run", str(CASES), "--base-url", sut.url, "--secret", "client_secret=demo-password",
            "--json", str(report), data_dir=tmp_path / "data",
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 tests: 1 passed" in result.stdout
        paths = [entry["path"] for entry in httpx.get(f"{sut.url}/_log").json()["entries"]]
    finally:
        sut.stop()
    assert paths.count("/oauth/token") == 1
    assert paths.count("/items") == 2  # the fragment, included twice
    stored = report.read_text()
    assert "demo-password" not in stored
    assert "Bearer ********" in stored
    assert json.loads(stored)["kind"] == "suite_run"
