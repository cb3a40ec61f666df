"""The script worker makes the next job's V8 context ahead of time: each job still gets a context no job has
touched (what a script changes, prototypes and chai included, is gone for the next one on the same worker),
and a job that failed, timed out or ran out of memory leaves the worker able to run the next."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from orchestra.steps.scripts.runner import ScriptPool
from orchestra.steps.scripts.worker import CHAI, Libraries, fresh_context, run_job

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


def test_a_job_in_a_context_made_ahead_runs_like_one_made_for_it() -> None:
    script = (
        "pm.test('n is 1', () => pm.expect(pm.variables.get('n')).to.equal(1)); pm.variables.set('m', 3);"
    )
    libraries = Libraries()
    ahead = run_job(job(script), libraries, context=fresh_context(libraries))
    own = run_job(job(script), libraries)
    assert ahead == own
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
