"""Postman scripts run for real in the script workers: pm.test and chai as named checks, the legacy sandbox,
variables, and the limits — a throwing script reports its error and line, an endless loop and a memory hog are
stopped, and nothing but the pm API is reachable."""

from __future__ import annotations

import json
import time

import pytest

from orchestra.steps.response import ResponseView
from orchestra.steps.scripts.runner import POOL
from orchestra.steps.scripts.step_scripts import run_scripts
from orchestra.steps.scripts.worker import CHAI

pytestmark = pytest.mark.skipif(
    not CHAI.exists(), reason="chai is not fetched: run `make js-vendor` (needs npm)"
)

BODY = {"id": 5, "name": "pen", "tags": ["office", "blue"], "price": 2.5}
VIEW = ResponseView(
    status=201,
    headers={"Content-Type": "application/json", "X-Total": "3"},
    text=json.dumps(BODY),
    elapsed_ms=12,
)
REQUEST = {"method": "POST", "url": "http://h/items", "headers": {"X-A": "1"}, "json": {"name": "pen"}}


async def outcome_of(
    script: str, **variables: object
) -> tuple[list[tuple[str, bool, str]], dict[str, object], str | None]:
    outcome = await run_scripts(
        [script], phase="test", step_name="s", variables=variables, request=REQUEST, view=VIEW
    )
    checks = [(check.name or "", check.passed, check.message) for check in outcome.checks]
    return checks, outcome.variables, outcome.error


async def test_each_pm_test_is_a_named_check_with_chai_and_the_postman_assertions() -> None:
    checks, variables, error = await outcome_of(
        """
        const data = pm.response.json();
        pm.test("created", () => pm.response.to.have.status(201));
        pm.test("a success", () => { pm.response.to.be.success; });
        pm.test("header", () => pm.response.to.have.header("x-total", "3"));
        pm.test("chai chain", function () {
            pm.expect(data.tags).to.be.an("array").that.includes("blue").and.has.lengthOf(2);
            pm.expect(data).to.have.property("price").that.is.above(2);
            pm.expect(data.name).to.match(/^p/);
        });
        pm.test("wrong id", function () { pm.expect(data.id).to.eql(6); });
        pm.test("request seen", () => pm.expect(pm.request.headers.get("x-a")).to.equal("1"));
        pm.test("timing", () => pm.expect(pm.response.responseTime).to.be.below(1000));
        pm.environment.set("item_id", data.id);
        pm.collectionVariables.set("base-url", "http://other");
        """
    )
    assert error is None
    assert [(name, passed) for name, passed, _ in checks] == [
        ("created", True),
        ("a success", True),
        ("header", True),
        ("chai chain", True),
        ("wrong id", False),
        ("request seen", True),
        ("timing", True),
    ]
    assert checks[4][2] == "[wrong id] AssertionError: expected 5 to deeply equal 6"
    assert variables == {"item_id": 5, "base_url": "http://other"}  # Postman names as template names


async def test_the_legacy_sandbox_answers_like_postmans() -> None:
    checks, variables, error = await outcome_of(
        """
        var data = JSON.parse(responseBody);
        tests["status is 201"] = responseCode.code === 201;
        tests["fast"] = responseTime < 1000;
        tests["wrong name"] = data.name === "cup";
        tests["base64"] = btoa("ab") === "YWI=" && atob("YWI=") === "ab";
        tests["old variable"] = postman.getEnvironmentVariable("user") === "ann";
        postman.setEnvironmentVariable("seen", responseHeaders["X-Total"]);
        """,
        user="ann",
    )
    assert error is None
    assert [(name, passed) for name, passed, _ in checks] == [
        ("status is 201", True),
        ("fast", True),
        ("wrong name", False),
        ("base64", True),
        ("old variable", True),
    ]
    assert variables == {"seen": "3"}


async def test_pre_request_scripts_run_in_order_each_seeing_what_the_one_before_set() -> None:
    outcome = await run_scripts(
        ["pm.variables.set('a', 1)", "const a = pm.variables.get('a'); pm.environment.set('b', a + 1);"],
        phase="prerequest",
        step_name="s",
        variables={},
        request=REQUEST,
    )
    assert outcome.error is None
    assert outcome.variables == {"a": 1, "b": 2}


async def test_a_throwing_script_reports_the_javascript_error_and_its_line_and_keeps_earlier_tests() -> None:
    checks, _, error = await outcome_of("pm.test('first', () => {});\nvar x = null;\nx.field = 1;")
    assert checks == [("first", True, "[first] passed")]
    assert error == "test script: TypeError: Cannot set properties of null (setting 'field') (line 3)"


async def test_an_endless_loop_is_stopped_at_its_time_limit() -> None:
    started = time.monotonic()
    result = await POOL.run("while (true) {}", {"phase": "test", "variables": {}}, timeout_ms=300)
    assert result.error == "the script did not finish within 300 ms"
    assert time.monotonic() - started < 5


async def test_a_script_that_takes_memory_without_end_is_stopped_at_its_limit() -> None:
    hog = "var kept = []; while (true) { kept.push(new Array(100000).fill(1)); }"
    result = await POOL.run(hog, {"phase": "test", "variables": {}}, max_memory=32 * 1_048_576)
    assert result.error == "the script used more than 32 MB of memory"


async def test_a_script_reaches_nothing_but_the_pm_api_and_leaves_nothing_for_the_next() -> None:
    checks, _, error = await outcome_of(
        """
        pm.test("no modules, process, network or files", () => {
            pm.expect(typeof require).to.equal("undefined");
            pm.expect(typeof process).to.equal("undefined");
            pm.expect(typeof fetch).to.equal("undefined");
            pm.expect(typeof XMLHttpRequest).to.equal("undefined");
            pm.expect(typeof Deno + typeof Bun).to.equal("undefinedundefined");
        });
        globalThis.leftBehind = 1;
        """
    )
    assert error is None
    assert checks[0][1] is True
    later, _, _ = await outcome_of(
        "pm.test('clean', () => pm.expect(typeof leftBehind).to.equal('undefined'));"
    )
    assert later[0][1] is True
    _, _, refused = await outcome_of("pm.sendRequest('http://h', () => {});")
    assert refused == "test script: Error: pm.sendRequest is not supported (line 1)"
