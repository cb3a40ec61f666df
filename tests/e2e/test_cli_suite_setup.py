"""`orchestra run` of a suite with a setup and a teardown, embedded, against a demo SUT of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from tests.e2e.conftest import orchestra

SUITE = """suite: shared
tests: [first, second]
setup:
  - name: log in once
    request:
      method: POST
      url: "{{ env.base_url }}/auth/token"
      json: {username: demo, password: PASSWORD}
    expect: {status: 200}
    capture: {token: $.access_token}
teardown:
  - name: last call
    request:
      url: "{{ env.base_url }}/items"
      headers: {Authorization: "Bearer {{ suite.token }}"}
    expect: {status: 200}
"""
CASE = """name: NAME
steps:
  - request:
      url: "{{ env.base_url }}/items"
      headers: {Authorization: "Bearer {{ suite.token }}"}
    expect: {status: 200}
"""


@pytest.fixture
def sut() -> Iterator[str]:
    process = DemoProcess.start()
    try:
        yield process.url
    finally:
        process.stop()


def _suite(folder: Path, password: str) -> Path:
    folder.mkdir()
    (folder / "suite.yaml").write_text(SUITE.replace("PASSWORD", password))
    for name in ("first", "second"):
        (folder / f"{name}.yaml").write_text(CASE.replace("NAME", name))
    return folder


def test_one_login_in_setup_serves_every_test_and_teardown_runs_last(tmp_path: Path, sut: str) -> None:
    result = orchestra(
        "run", str(_suite(tmp_path / "s", "demo-password")), "--base-url", sut, data_dir=tmp_path / "d"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    log = httpx.get(f"{sut}/_log").json()["entries"]
    paths = [(entry["method"], entry["path"]) for entry in log if entry["path"] != "/_log"]
    assert paths.count(("POST", "/auth/token")) == 1
    assert paths[0] == ("POST", "/auth/token")
    assert paths.count(("GET", "/items")) == 3
    assert "(suite setup)" in result.stdout
    assert "(suite teardown)" in result.stdout


def test_a_failed_setup_runs_no_test_and_still_tears_down(tmp_path: Path, sut: str) -> None:
    result = orchestra(
        "run", str(_suite(tmp_path / "s", "wrong")), "--base-url", sut, data_dir=tmp_path / "d"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "suite setup failed" in result.stdout
    paths = [entry["path"] for entry in httpx.get(f"{sut}/_log").json()["entries"]]
    assert paths == ["/auth/token"]  # no test ran; the teardown ran (its token is undefined: an error)
    assert "(suite teardown)" in result.stdout
