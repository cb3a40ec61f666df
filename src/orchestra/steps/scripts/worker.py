"""A script worker process: one JSON job per line on stdin, one JSON answer per line on stdout.

Every job gets a fresh V8 context (nothing one script leaves behind is seen by the next), the Postman
sandbox (pm_sandbox.js over chai), and runs under the job's time and heap limits. Jobs are
``{"script", "state", "timeout_ms", "max_memory"}``; answers ``{"tests", "changed", "removed", "error"}``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

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


def run_job(job: dict[str, Any], chai: str | None) -> dict[str, Any]:
    from py_mini_racer import JSOOMException, JSTimeoutException, MiniRacer

    timeout_ms = float(job["timeout_ms"])
    max_memory = int(job["max_memory"])
    context = MiniRacer()
    try:
        context.eval("var self = this;")
        if chai is not None:
            context.eval(chai)
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
    for line in sys.stdin:
        try:
            answer = run_job(json.loads(line), chai)
        except Exception as failure:  # the worker stays up for the next job
            answer = {"tests": [], "changed": {}, "removed": [], "error": f"script worker: {failure}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
