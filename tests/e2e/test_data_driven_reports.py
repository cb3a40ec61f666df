"""End to end: data-driven runs (a test case's parameters file and `--data`) reported as JUnit per step, in
the console and as a self-contained HTML page that a real browser opens offline."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import html5lib
import pytest

from tests.e2e.conftest import orchestra

pytestmark = pytest.mark.e2e
HOSTILE = "</script><img src=x onerror=\"document.title='owned'\">"
LOGIN = """\
name: login
parameters: {file: users.csv}
steps:
  - name: log in
    request:
      method: POST
      url: "{{ env.base_url }}/auth/token"
      json: {username: "{{ user }}", password: "{{ pw }}"}
    expect: {status: 200}
"""
ECHO = """\
name: echo
variables: {word: from-the-test-case}
steps:
  - name: echo the word
    request:
      method: POST
      url: "{{ env.base_url }}/echo"
      json: {word: "{{ word }}"}
    expect:
      json: {"$.json.word": expected-word}
"""


def _suite(folder: Path) -> Path:
    folder.mkdir()
    (folder / "login.yaml").write_text(LOGIN)
    (folder / "users.csv").write_text("user,pw\ndemo,demo-password\ndemo,wrong\n")
    (folder / "echo.yaml").write_text(ECHO)
    return folder


def test_rows_run_once_each_and_every_report_shows_their_steps(tmp_path: Path, demo_sut: str) -> None:
    suite = _suite(tmp_path / "data-driven")
    rows = tmp_path / "rows.json"
    rows.write_text('[{"word": "expected-word"}, {"word": ' + _json(HOSTILE) + "}]")
    junit, page = tmp_path / "out" / "junit.xml", tmp_path / "out" / "report.html"
    result = orchestra(
        "run", str(suite), "--base-url", demo_sut, "--data", str(rows),
        "--junit", str(junit), "--junit-per-step", "--html", str(page), data_dir=tmp_path / "d",
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    # login: 2 parameter rows x 2 data rows; echo: 2 data rows (a row's word over the test case's)
    assert "6 tests: 3 passed, 3 failed" in out
    assert "login [user=demo, pw=wrong, word=expected-word]" in out
    assert "echo [word=expected-word]" in out
    assert "Failed steps" in out
    assert "main #0: log in" in out
    assert "expected-word" in out
    assert "</script><img" in out

    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 6
    assert {case.get("name") for case in cases} == {"main/0: log in", "main/0: echo the word"}
    assert len(root.findall(".//testcase/failure")) == 3
    assert any(HOSTILE in (case.get("classname") or "") for case in cases)

    document = html5lib.parse(page.read_bytes(), treebuilder="etree", namespaceHTMLElements=False)
    tests = document.findall(".//details[@class='test']")
    assert len(tests) == 6
    assert sorted(test.get("data-verdict") for test in tests) == ["failed"] * 3 + ["passed"] * 3
    assert document.findall(".//img") == []
    assert HOSTILE in "".join(document.itertext())
    _open_in_a_browser(page)


def _json(text: str) -> str:
    import json

    return json.dumps(text)


def _open_in_a_browser(page: Path) -> None:
    """The page in Chromium, offline: nothing is requested, no script of the SUT's runs, the filter works."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make chromium)")
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.on("request", lambda request: requested.append(request.url))
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            tab.goto(page.as_uri())
            assert tab.title() == "Orchestra report"  # the SUT's script did not run
            assert tab.locator("img").count() == 0
            assert tab.locator("details.test").count() == 6
            tab.get_by_role("button", name="Not passed").click()
            assert tab.locator("details.test:visible").count() == 3
            tab.get_by_role("button", name="All tests").click()
            assert tab.locator("details.test:visible").count() == 6
            assert errors == []
        finally:
            browser.close()
    assert requested == [page.as_uri()]


def test_bad_data_files_exit_two_before_anything_runs(tmp_path: Path, demo_sut: str) -> None:
    suite = _suite(tmp_path / "data-driven")
    bad = tmp_path / "rows.csv"
    bad.write_text("word,1st\na,b\n")
    result = orchestra("run", str(suite), "--base-url", demo_sut, "--data", str(bad), data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert f"--data {bad}: line 1: column '1st' is not a variable name" in result.stderr
    result = orchestra(
        "run", str(suite), "--base-url", demo_sut, "--data", str(tmp_path / "absent.json"),
        data_dir=tmp_path / "d",
    )  # fmt: skip
    assert result.returncode == 2
    assert "absent.json: no such file" in result.stderr
    (suite / "users.csv").write_text("user,pw\ndemo\n")
    result = orchestra("run", str(suite), "--base-url", demo_sut, data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "login.yaml:2:20: parameters.file: " in result.stderr
    assert "users.csv: line 2: 1 values, the header names 2 columns" in result.stderr
    assert not (tmp_path / "d").exists()  # refused before the engine started
