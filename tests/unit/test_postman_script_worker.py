"""The script worker reuses its V8 context from job to job, checked after each one: each job still runs as
in a context no job has touched (what a script changes, prototypes and chai included, is gone for the next
one on the same worker: the context is made anew), and a job that failed, timed out or ran out of memory
leaves the worker able to run the next."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orchestra.steps.scripts.runner import ScriptPool
from orchestra.steps.scripts.worker import CHAI, Libraries, Sandbox, fresh_context, run_job

pytestmark = pytest.mark.skipif(
    not CHAI.exists(), reason="chai is not fetched: run `make js-vendor` (needs npm)"
)

STATE = {"phase": "test", "variables": {"n": 1}}
TAMPER = """
Array.prototype.includes = function () { return true; };
Object.prototype.polluted = "yes";
JSON.parse = function () { return {forged: true}; };
chai.expect = function () { throw new Error("chai was replaced"); };
var leftover = 1;
globalThis.alsoLeftover = 2;
pm.variables.set("n", 2);
"""
CHECK_CLEAN = """
pm.test("untouched", function () {
    pm.expect([1].includes(2)).to.equal(false);
    pm.expect({}.polluted).to.equal(undefined);
    pm.expect(JSON.parse('{"a": 1}')).to.eql({a: 1});
    pm.expect(typeof leftover + typeof alsoLeftover).to.equal("undefinedundefined");
    pm.expect(pm.variables.get("n")).to.equal(1);
});
"""


def job(script: str, **extra: object) -> dict[str, object]:
    return {"script": script, "state": STATE, "timeout_ms": 2000, "max_memory": 64 * 1_048_576, **extra}


def test_a_job_in_a_context_made_ahead_or_reused_runs_like_one_made_for_it() -> None:
    script = (
        "pm.test('n is 1', () => pm.expect(pm.variables.get('n')).to.equal(1)); pm.variables.set('m', 3);"
    )
    libraries = Libraries()
    ahead = run_job(job(script), libraries, context=fresh_context(libraries))
    own = run_job(job(script), libraries)
    sandbox = Sandbox(libraries)
    reused = []
    try:
        for _ in range(3):
            sandbox.prepare()  # as the worker does after answering
            reused.append(sandbox.run(job(script)))
    finally:
        sandbox.discard()
    assert sandbox.made == 1
    assert ahead == own == reused[0] == reused[1] == reused[2]
    assert [(test["name"], test["passed"]) for test in ahead["tests"]] == [("n is 1", True)]
    assert ahead["changed"] == {"m": 3}
    assert ahead["error"] is None


async def test_what_a_script_changes_is_gone_for_the_next_job_on_the_same_worker() -> None:
    pool = ScriptPool(size=1)  # one worker: every job runs there, each in the context made after the last
    try:
        tampered = await pool.run(TAMPER, STATE)
        assert tampered.error is None
        for _ in range(3):
            clean = await pool.run(CHECK_CLEAN, STATE)
            assert clean.error is None
            assert [(test["name"], test["passed"]) for test in clean.tests] == [("untouched", True)], (
                clean.tests
            )
            await pool.run(TAMPER, STATE)
    finally:
        await pool.close()


async def test_the_worker_goes_on_after_a_timeout_a_memory_hog_and_a_throw() -> None:
    pool = ScriptPool(size=1)
    try:
        stopped = await pool.run("while (true) {}", STATE, timeout_ms=300)
        assert stopped.error == "the script did not finish within 300 ms"
        hog = "var kept = []; while (true) { kept.push(new Array(100000).fill(1)); }"
        assert (await pool.run(hog, STATE, max_memory=32 * 1_048_576)).error == (
            "the script used more than 32 MB of memory"
        )
        assert (await pool.run("throw new TypeError('no')", STATE)).error == "TypeError: no (line 1)"
        clean = await pool.run(CHECK_CLEAN, STATE)
        assert clean.error is None
        assert clean.tests[0]["passed"] is True
    finally:
        await pool.close()


def test_a_malformed_job_is_answered_with_an_error_and_the_next_job_runs() -> None:
    lines = ["not json", json.dumps({"script": "1"}), json.dumps(job(CHECK_CLEAN))]
    done = subprocess.run(
        [sys.executable, "-m", "orchestra.steps.scripts.worker"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 3
    assert answers[0]["error"].startswith("script worker: ")
    assert answers[1]["error"].startswith("script worker: ")
    assert answers[2]["error"] is None
    assert [(test["name"], test["passed"]) for test in answers[2]["tests"]] == [("untouched", True)]


def run_all(scripts: list[str]) -> tuple[list[dict[str, object]], int]:
    """Each script's answer, run one after the other on one sandbox, and how many contexts it made."""
    sandbox = Sandbox(Libraries())
    answers = []
    try:
        for script in scripts:
            sandbox.prepare()  # as the worker does after answering
            answers.append(sandbox.run(job(script)))
    finally:
        sandbox.discard()
    return answers, sandbox.made


def passed(answer: dict[str, object]) -> list[tuple[object, object]]:
    assert answer["error"] is None, answer
    return [(test["name"], test["passed"]) for test in answer["tests"]]  # type: ignore[attr-defined]


def test_scripts_that_change_nothing_shared_run_one_after_the_other_in_one_context() -> None:
    script = """
    const body = {value: 1};  // declared again by the next job: its declarations are its own
    function helper() { return body.value; }
    implicit = helper();  // an implicit global, gone for the next job
    pm.test("clean", () => pm.expect(typeof leftover).to.equal("undefined"));
    var leftover = 1;
    """
    answers, made = run_all([script] * 5)
    assert made == 1
    assert all(passed(answer) == [("clean", True)] for answer in answers)
    later, _ = run_all([script, "pm.test('gone', () => pm.expect(typeof implicit).to.equal('undefined'));"])
    assert passed(later[1]) == [("gone", True)]


def test_a_job_that_changes_what_jobs_share_gets_the_context_made_anew() -> None:
    tampering = [
        "Array.prototype.last = function () { return this[this.length - 1]; };",
        "chai.use(function (c) { c.Assertion.addProperty('shiny', function () {}); });",
        "chai.config.truncateThreshold = 1;",
        "Object.defineProperty(globalThis, 'kept', {value: 1, configurable: false});",
        "Object.freeze(Math);",
        "Object.setPrototypeOf(JSON, null);",
        "Error.prepareStackTrace = () => 'mine';",
    ]
    scripts = [step for script in tampering for step in (script, "pm.test('plain', () => {});")]
    answers, made = run_all(scripts)
    assert [answer["error"] for answer in answers] == [None] * len(scripts)
    assert made == 1 + len(tampering)  # each tampering job's context thrown away, the plain ones' kept
    assert passed(answers[1]) == [("plain", True)]


def test_the_last_match_of_a_job_is_forgotten_before_the_next() -> None:
    answers, made = run_all(
        [
            "/token=(\\w+)/.exec('token=s3cret');"
            " pm.test('seen', () => pm.expect(RegExp.$1).to.equal('s3cret'));",
            "pm.test('forgotten', () =>"
            " pm.expect(RegExp.$1 + RegExp.input + RegExp.lastMatch).to.equal(''));",
        ]
    )
    assert made == 1
    assert [passed(answer) for answer in answers] == [[("seen", True)], [("forgotten", True)]]


def test_nothing_of_a_job_can_run_after_it_in_a_reused_context() -> None:
    # A script naming a timer runs in a fresh context of its own, as before; one reaching it without naming it
    # finds no way to have code run later (MiniRacer's timers rest on Atomics.waitAsync).
    answers, made = run_all(
        [
            "pm.test('a timer', () => pm.expect(typeof setTimeout).to.equal('function'));",
            "globalThis['set' + 'Time' + 'out'](() => pm.variables.set('late', 1), 0);",
            "const names = ['Atom' + 'ics', 'WebAssem' + 'bly', 'FinalizationRegis' + 'try'];"
            " pm.test('none', () => pm.expect(names.map((name) => typeof globalThis[name]))"
            ".to.eql(['undefined', 'undefined', 'undefined']));",
        ]
    )
    assert passed(answers[0]) == [("a timer", True)]
    assert str(answers[1]["error"]).startswith("ReferenceError: SharedArrayBuffer is not defined")
    assert answers[1]["changed"] == {}
    assert passed(answers[2]) == [("none", True)]
    assert made == 2  # the timer call counted its timer (MiniRacer's own object) before failing: made anew


def test_a_script_runs_as_a_function_body_as_in_postman_and_a_syntax_error_is_reported_as_before() -> None:
    answers, made = run_all(
        [
            "pm.test('before', () => {}); if (true) return; pm.test('after', () => {});",
            "pm.test('t', () => {}); }); let escaped = 1; (function () {",
            "let x = ;",
        ]
    )
    assert passed(answers[0]) == [("before", True)]
    assert answers[1]["error"] == "SyntaxError: Unexpected token '}'"
    assert answers[2]["error"] == "SyntaxError: Unexpected token ';' (line 1)"
    assert made == 1


def test_a_script_in_a_fresh_context_of_its_own_runs_as_a_function_body_too() -> None:
    """A script naming a timer (here only in a comment) runs in a fresh context, with the same meaning."""
    early_return = (
        "pm.test('before', () => {}); // the timer is short\nif (true) return; pm.test('after', () => {});"
    )
    answers, made = run_all([early_return, "const body = 1; // no timer\npm.test('own', () => {});"] * 2)
    assert [passed(answer) for answer in answers] == [[("before", True)], [("own", True)]] * 2
    assert all(answer["error"] is None for answer in answers)
    assert made == 1  # the one made ahead, unused: all four ran in contexts of their own


def test_a_job_stopped_at_its_limits_gets_the_context_made_anew() -> None:
    sandbox = Sandbox(Libraries())
    try:
        sandbox.prepare()
        stopped = sandbox.run(job("while (true) {}", timeout_ms=200))
        assert stopped["error"] == "the script did not finish within 200 ms"
        sandbox.prepare()
        assert passed(sandbox.run(job(CHECK_CLEAN))) == [("untouched", True)]
        assert sandbox.made == 2
    finally:
        sandbox.discard()


def test_a_library_is_loaded_anew_for_each_script_that_names_it_and_keeps_nothing_for_the_next() -> None:
    answers, made = run_all(
        [
            "const moment = require('moment'); moment.defineLocale('xx', {months: 'a_b_c_d_e_f_g_h_i_j_k_l'"
            ".split('_')}); moment.locale('xx'); _.mixin({shout: (s) => s + '!'});"
            " pm.test('set', () => pm.expect(moment.utc(0).format('MMMM') + _.shout('x')).to.equal('ax!'));",
            "const moment = require('moment');"
            " pm.test('its own', () =>"
            " pm.expect([moment.locale(), typeof _.shout]).to.eql(['en', 'undefined']));",
        ]
    )
    assert [passed(answer) for answer in answers] == [[("set", True)], [("its own", True)]]
    assert made == 1


def test_a_context_is_reused_only_for_scripts_of_one_scope() -> None:
    """The worker pool is shared by tenants: no tenant's script runs where another tenant's scripts ran."""
    sandbox = Sandbox(Libraries())
    plain = "pm.test('ok', () => pm.expect(1).to.equal(1));"
    try:
        for scope in ("tenant-a", "tenant-a", "tenant-b", "tenant-b", None, "tenant-a"):
            sandbox.prepare()
            answer = sandbox.run(job(plain, scope=scope))
            assert answer["error"] is None
            assert sandbox.scope == scope
    finally:
        sandbox.discard()
    assert sandbox.made == 4  # a, b, no scope, a again: a new context each time the scope changes
