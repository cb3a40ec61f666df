"""A script worker process: one JSON job per line on stdin, one JSON answer per line on stdout.

Every job gets a fresh V8 context (nothing one script leaves behind is seen by the next), the Postman
sandbox (pm_sandbox.js over chai), and runs under the job's time and heap limits. Making a context and
compiling chai in it is most of a short script's cost, so the worker makes the next job's context as soon as
it has answered, while the executor sends the step's request and commits its result. Jobs are
``{"script", "state", "timeout_ms", "max_memory"}``; answers ``{"tests", "changed", "removed", "error"}``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from py_mini_racer import MiniRacer

HERE = Path(__file__).resolve().parent
CHAI = HERE / "vendor" / "chai.js"
SANDBOX = (HERE / "pm_sandbox.js").read_text(encoding="utf-8")
_SCRIPT_NAME = "script.js"  # the script's name in V8's stack traces (a sourceURL comment gives it)
_FIRST_LINE = re.compile(r"^[^\s:]+:\d+: (.*)$")
_SCRIPT_LINE = re.compile(r"\bscript\.js:(\d+)")


def _error_text(error: Exception) -> str:
    """``TypeError: x is not a function (line 3)`` from V8's report: the line is the script's own, also
    when the error was thrown inside the sandbox (pm.response.to… called on that line)."""
    report = str(error)
    first = report.split("\n", 1)[0]
    match = _FIRST_LINE.match(first)
    message = (match.group(1) if match else first)[:500]
    line = _SCRIPT_LINE.search(report)
    return f"{message} (line {line.group(1)})" if line else message


def fresh_context(chai: str | None) -> MiniRacer:
    """A new V8 context with chai loaded: nothing in it yet that a job has touched."""
    from py_mini_racer import MiniRacer

    context = MiniRacer()
    try:
        context.eval("var self = this;")
        if chai is not None:
            context.eval(chai)
    except BaseException:
        context.close()
        raise
    return context


def run_job(job: dict[str, Any], chai: str | None, context: MiniRacer | None = None) -> dict[str, Any]:
    """Run one job in ``context`` (a fresh one from :func:`fresh_context`, made here if not given), then
    close the context: it serves one job only."""
    from py_mini_racer import JSOOMException, JSTimeoutException

    timeout_ms = float(job["timeout_ms"])
    max_memory = int(job["max_memory"])
    if context is None:
        context = fresh_context(chai)
    try:
        context.eval("this.__orchestra_state = " + json.dumps(job["state"]) + ";")
        context.eval(SANDBOX + "\n//# sourceURL=postman-sandbox.js")
        context.eval("delete this.self; delete this.__orchestra_state;")
        error: str | None = None
        try:
            script = str(job["script"]) + f"\n//# sourceURL={_SCRIPT_NAME}"
            context.eval(script, timeout=timeout_ms, max_memory=max_memory)
        except JSTimeoutException:
            error = f"the script did not finish within {timeout_ms:g} ms"
        except JSOOMException:
            error = f"the script used more than {max_memory // 1_048_576} MB of memory"
        except Exception as failure:  # a JavaScript error: the script's own
            error = _error_text(failure)
        try:
            answer = json.loads(str(context.eval("__orchestra_result()", timeout=1000)))
        except Exception:
            answer = {"tests": [], "changed": {}, "removed": []}
        answer["error"] = error
        return dict(answer)
    finally:
        context.close()


def main() -> None:
    chai = CHAI.read_text(encoding="utf-8") if CHAI.exists() else None
    spare = _prepared(chai)
    for line in sys.stdin:
        context, spare = spare, None
        try:
            answer = run_job(json.loads(line), chai, context)
        except Exception as failure:  # the worker stays up for the next job
            if context is not None:
                context.close()
            answer = {"tests": [], "changed": {}, "removed": [], "error": f"script worker: {failure}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
        spare = _prepared(chai)  # the next job's context, made while the executor does the rest of its step


def _prepared(chai: str | None) -> MiniRacer | None:
    try:
        return fresh_context(chai)
    except Exception:  # the job makes its own, and reports why that fails
        return None


if __name__ == "__main__":
    main()
