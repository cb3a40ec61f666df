"""A script worker process: one JSON job per line on stdin, one JSON answer per line on stdout.

Every job gets a fresh V8 context (nothing one script leaves behind is seen by the next), the Postman
sandbox (pm_sandbox.js over chai), and runs under the job's time and heap limits. Jobs are
``{"script", "state", "timeout_ms", "max_memory"}``; answers ``{"tests", "changed", "removed", "error"}``.

``pm.sendRequest``: the sandbox queues the request; when the script has returned, the worker writes
``{"send": {"method", "url", "headers", "body"}}`` and reads the parent's ``{"response": {…}}`` or
``{"error": "…"}`` (the parent sends the request through Orchestra's HTTP layer and its egress policy), hands
it to the script's callback, and so on until no request is queued. The time limit is the script's own
JavaScript time, over all of these turns (the requests' time is the parent's, under the step's timeout).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
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


Ask = Callable[[dict[str, Any]], dict[str, Any]]


class _OutOfTime(Exception):
    """The script's JavaScript time, over its turns, reached its limit."""


def _run_turns(context: Any, script: str, timeout_ms: float, max_memory: int, ask: Ask | None) -> None:
    """The script, then each queued request's callback, all within ``timeout_ms`` of JavaScript time."""
    spent = 0.0
    code = script
    while True:
        started = time.perf_counter()
        context.eval(code, timeout=max(timeout_ms - spent, 1.0), max_memory=max_memory)
        spent += (time.perf_counter() - started) * 1000
        if spent >= timeout_ms:
            raise _OutOfTime
        queued = context.eval("__orchestra_next_request()", timeout=1000)
        if queued is None:
            return
        spec = json.loads(str(queued))
        answer = ask(spec) if ask is not None else {"error": "pm.sendRequest is not available here"}
        code = f"__orchestra_deliver({json.dumps(answer)});\n//# sourceURL=postman-sandbox-turn.js"


def run_job(job: dict[str, Any], chai: str | None, ask: Ask | None = None) -> dict[str, Any]:
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
            _run_turns(context, script, timeout_ms, max_memory, ask)
        except (JSTimeoutException, _OutOfTime):
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


def _ask_parent(spec: dict[str, Any]) -> dict[str, Any]:
    """One pm.sendRequest: the parent sends it and answers with the response or the error."""
    sys.stdout.write(json.dumps({"send": spec}) + "\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if not line:
        raise SystemExit(0)  # the parent went away
    answer: dict[str, Any] = json.loads(line)
    return {"error": str(answer["error"])} if answer.get("error") is not None else answer


def main() -> None:
    chai = CHAI.read_text(encoding="utf-8") if CHAI.exists() else None
    while line := sys.stdin.readline():
        try:
            answer = run_job(json.loads(line), chai, _ask_parent)
        except Exception as failure:  # the worker stays up for the next job
            answer = {"tests": [], "changed": {}, "removed": [], "error": f"script worker: {failure}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
